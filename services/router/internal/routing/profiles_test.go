package routing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// Sentinels planted in the police notice. Each profile test marshals every
// notice of its profile and checks that the sentinels its allow-list
// excludes never appear.
const (
	sCircumstances = "SENTINEL-CIRCUMSTANCES"
	sOfficer       = "SENTINEL-OFFICER"
	sLocation      = "SENTINEL-LOCATION"
	sPoliceRef     = "TST-SENTINEL-1"
	sVictim        = "SENTINEL-VICTIM"
	sPerpetrator   = "SENTINEL-PERPETRATOR"
	sOtherAdult    = "SENTINEL-OTHER-ADULT"
	sPupilAlpha    = "SENTINEL-PUPIL-ALPHA"
	sVoiceAlpha    = "SENTINEL-VOICE-ALPHA"
	sPupilBeta     = "SENTINEL-PUPIL-BETA"
	sVoiceBeta     = "SENTINEL-VOICE-BETA"
	sToddler       = "SENTINEL-TODDLER"
	sHomeChild     = "SENTINEL-HOME-CHILD"
	sNHSNumber     = "9434765919"
	sExpectedDue   = "2027-03-15"
	sVictimDOB     = "1991-01-01"
	sPerpDOB       = "1989-02-02"
	sAlphaDOB      = "2018-04-04"
	// DASH answers, police history and supervision status are checked by
	// their keys, since their values are small numbers.
	kYesCount    = `"yes_count"`
	kDASH        = `"dash"`
	kHistory     = `"incidents_same_parties_12m"`
	kMARAC       = `"previous_marac_within_12m"`
	kEducation   = `"education"`
	kDASHLevel   = `"dash_level"`
	kPregnant    = `"pregnant"`
	kProbation   = `"on_probation"`
	kMAPPA       = `"mappa_level"`
	kCPPlan      = `"cp_plan"`
	kGP          = `"gp_ods_code"`
	kNHS         = `"nhs_number"`
	kDateOfBirth = `"date_of_birth"`
)

func sentinelIncident() ppn.Incident {
	in := baseIncident(wednesday)
	in.PoliceReference = sPoliceRef
	in.Circumstances = sCircumstances
	in.Officer = &ppn.Officer{ID: "KNT-1", Name: sOfficer, Contact: sOfficer + "-PHONE"}
	in.Location = &ppn.Location{Postcode: "ME4 4TR", Description: sLocation}
	in.DASH = ppn.DASH{Level: ppn.DASHMedium, YesCount: intPtr(17)}
	in.IncidentsSameParties12m = 1
	in.Adults = []ppn.Adult{
		{PersonID: "P-1", Role: ppn.RoleVictim, Name: sVictim, DateOfBirth: sVictimDOB, Pregnant: true,
			ExpectedDueDate: sExpectedDue, GPODSCode: alphaSurgery},
		{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: sPerpetrator, DateOfBirth: sPerpDOB, OnProbation: true, MAPPALevel: intPtr(1)},
		{PersonID: "P-3", Role: ppn.RoleOther, Name: sOtherAdult},
	}
	alpha := child("C-1", sPupilAlpha, sAlphaDOB, ppn.EducationSchool, alphaPrimary)
	alpha.VoiceOfChild, alpha.NHSNumber, alpha.GPODSCode, alpha.CPPlan = sVoiceAlpha, sNHSNumber, alphaSurgery, true
	beta := child("C-2", sPupilBeta, "2014-05-05", ppn.EducationSchool, betaAcademy)
	beta.VoiceOfChild, beta.GPODSCode = sVoiceBeta, betaPractice
	toddlerAtNursery := child("C-3", sToddler, "2024-03-03", ppn.EducationEarlyYears, acornsNursery)
	toddlerAtNursery.GPODSCode = alphaSurgery
	home := child("C-4", sHomeChild, "2015-06-06", ppn.EducationHomeEducated, "")
	home.GPODSCode = betaPractice
	in.Children = []ppn.Child{alpha, beta, toddlerAtNursery, home}
	return in
}

// sentinelNotices routes the sentinel incident, rated amber, in a world
// where early years settings are told, and returns every notice.
func sentinelNotices(t *testing.T) []routing.Decision {
	t.Helper()
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{earlyYearsOptIn: true}))
	out := decideIncident(t, r, sentinelIncident(), wednesday.Add(10*time.Minute), routing.History{})
	return append(out.Decisions, decideTriage(t, r, out.Case, "amber", wednesday.Add(2*time.Hour)).Decisions...)
}

// everyAdultOrHistory is what no profile but A may show.
var everyAdultOrHistory = []string{sCircumstances, sOfficer, sOtherAdult, kYesCount, kDASH, kHistory, kMARAC}

// checkProfile runs check on every notice of a profile, failing if there
// is none, and reports every forbidden text found.
func checkProfile(t *testing.T, profile events.Profile, forbidden func(d routing.Decision) []string, required func(d routing.Decision) []string) {
	t.Helper()
	seen := 0
	for _, d := range sentinelNotices(t) {
		if string(d.Request.Profile) != string(profile) {
			continue
		}
		seen++
		body := string(d.Request.Notice)
		for _, f := range forbidden(d) {
			if strings.Contains(body, f) {
				t.Errorf("%s notice to %s %s shows %s: %s", profile, d.Request.Recipient.Kind, d.Request.Recipient.ID, f, body)
			}
		}
		for _, r := range required(d) {
			if !strings.Contains(body, r) {
				t.Errorf("%s notice to %s %s lacks %s: %s", profile, d.Request.Recipient.Kind, d.Request.Recipient.ID, r, body)
			}
		}
	}
	if seen == 0 {
		t.Fatalf("no notice with profile %s", profile)
	}
}

func TestProfileAAllowList(t *testing.T) {
	checkProfile(t, events.ProfileA, func(d routing.Decision) []string {
		if d.Request.Recipient.Kind == events.KindMASH {
			return nil // the MASH sees everything the police sent
		}
		return []string{sOtherAdult} // MARAC and IDVA: victim-focused
	}, func(d routing.Decision) []string {
		return []string{sCircumstances, sVictim, sPerpetrator, sPupilAlpha, sToddler, kYesCount}
	})
}

func TestProfileBAllowList(t *testing.T) {
	checkProfile(t, events.ProfileB, func(d routing.Decision) []string {
		forbidden := append([]string{sVictim, sPerpetrator, sToddler, sHomeChild, sNHSNumber, sExpectedDue,
			kDASHLevel, kPregnant, kProbation, kMAPPA, kCPPlan, kGP, kNHS, kEducation}, everyAdultOrHistory...)
		if d.Request.Recipient.ID == alphaPrimary {
			return append(forbidden, sPupilBeta, sVoiceBeta)
		}
		return append(forbidden, sPupilAlpha, sVoiceAlpha)
	}, func(d routing.Decision) []string {
		if d.Request.Recipient.ID == alphaPrimary {
			return []string{sPupilAlpha, sVoiceAlpha}
		}
		return []string{sPupilBeta}
	})
}

func TestProfileBMinimalAllowList(t *testing.T) {
	checkProfile(t, events.ProfileBMinimal, func(d routing.Decision) []string {
		forbidden := append([]string{sVictim, sPerpetrator, sPupilAlpha, sPupilBeta, sVoiceAlpha, sVoiceBeta, sLocation,
			"ME4 4TR", sPoliceRef, kDASHLevel, kPregnant, kProbation, kGP, kNHS, kEducation}, everyAdultOrHistory...)
		if d.Request.Recipient.Kind == events.KindEarlyYears {
			return append(forbidden, sHomeChild)
		}
		return append(forbidden, sToddler)
	}, func(d routing.Decision) []string {
		if d.Request.Recipient.Kind == events.KindEarlyYears {
			return []string{sToddler}
		}
		return []string{sHomeChild}
	})
}

func TestProfileCAllowList(t *testing.T) {
	checkProfile(t, events.ProfileC, func(d routing.Decision) []string {
		forbidden := append([]string{kProbation, kMAPPA, kEducation, alphaPrimary, betaAcademy, acornsNursery, sPerpDOB},
			everyAdultOrHistory...)
		switch d.Request.Recipient.Kind {
		case events.KindHealthVisiting:
			return append(forbidden, sPupilAlpha, sPupilBeta, sHomeChild)
		case events.KindSchoolNursing:
			return append(forbidden, sToddler, sExpectedDue, kPregnant)
		case events.KindMidwifery:
			return append(forbidden, sPupilAlpha, sPupilBeta, sToddler, sHomeChild)
		}
		// GP: that practice's patients only, and never the perpetrator.
		if d.Request.Recipient.ID == alphaSurgery {
			return append(forbidden, sPupilBeta, sHomeChild, sPerpetrator)
		}
		return append(forbidden, sPupilAlpha, sToddler, sVictim, sPerpetrator)
	}, func(d routing.Decision) []string {
		switch d.Request.Recipient.Kind {
		case events.KindHealthVisiting:
			return []string{sToddler, kDASHLevel}
		case events.KindSchoolNursing:
			return []string{sPupilAlpha, sPupilBeta, sHomeChild}
		case events.KindMidwifery:
			return []string{sVictim, sExpectedDue}
		}
		if d.Request.Recipient.ID == alphaSurgery {
			return []string{sPupilAlpha, sToddler, sVictim, sNHSNumber}
		}
		return []string{sPupilBeta, sHomeChild}
	})
}

func TestProfileDAllowList(t *testing.T) {
	checkProfile(t, events.ProfileD, func(routing.Decision) []string {
		return append([]string{sVoiceAlpha, sVoiceBeta, sNHSNumber, sExpectedDue, sAlphaDOB, sVictimDOB, kEducation,
			alphaPrimary, betaAcademy, acornsNursery, kGP, kNHS, kPregnant}, everyAdultOrHistory...)
	}, func(routing.Decision) []string {
		return []string{sPerpetrator, sPerpDOB, sVictim, sPupilAlpha, sToddler, `"age_years"`, kProbation, kMAPPA}
	})
}
