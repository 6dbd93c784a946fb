package authz_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

func TestDecide(t *testing.T) {
	school := identity.User{ID: "u", Role: identity.RoleSchoolKeyAdult, Org: identity.Organisation{Kind: events.KindSchool, ID: "118234"}}
	mash := identity.User{ID: "m", Role: identity.RoleMASHWorker, Org: identity.Organisation{Kind: events.KindMASH, ID: "E06000035"}}
	auditor := identity.User{ID: "a", Role: identity.RoleAuditor}
	administrator := identity.User{ID: "d", Role: identity.RoleAdministrator}
	manager := identity.User{ID: "g", Role: identity.RoleMASHManager, Org: identity.Organisation{Kind: events.KindMASH, ID: "E06000035"}}
	homeEducation := identity.User{ID: "h", Role: identity.RoleHomeEducation,
		Org: identity.Organisation{Kind: events.KindHomeEducation, ID: "E06000035"}}
	ownHomeEducation := &events.Recipient{Kind: events.KindHomeEducation, ID: "E06000035"}
	otherHomeEducation := &events.Recipient{Kind: events.KindHomeEducation, ID: "E10000016"}
	own := &events.Recipient{Kind: events.KindSchool, ID: "118234"}
	otherSchool := &events.Recipient{Kind: events.KindSchool, ID: "118901"}
	sameIDOtherKind := &events.Recipient{Kind: events.KindEarlyYears, ID: "118234"}
	ownMASH := &events.Recipient{Kind: events.KindMASH, ID: "E06000035"}
	cases := []struct {
		name   string
		user   identity.User
		action authz.Action
		owner  *events.Recipient
		want   authz.Decision
	}{
		{"a key adult reads their school's notice", school, authz.ReadNotice, own, authz.Allow},
		{"a key adult lists their inbox", school, authz.ListNotices, nil, authz.Allow},
		{"another school's notice is hidden", school, authz.ReadNotice, otherSchool, authz.Hide},
		{"the same id of another kind is hidden", school, authz.Acknowledge, sameIDOtherKind, authz.Hide},
		{"a key adult never triages", school, authz.Triage, own, authz.Forbid},
		{"a MASH worker triages their MASH's incident", mash, authz.Triage, ownMASH, authz.Allow},
		{"a MASH worker does not use the inbox", mash, authz.ReadNotice, ownMASH, authz.Forbid},
		{"a MASH worker cannot see a school's notice", mash, authz.ReadIncident, own, authz.Hide},
		{"an auditor reads no notice", auditor, authz.ReadNotice, own, authz.Forbid},
		{"an auditor reads the overview", auditor, authz.ReadOverview, nil, authz.Allow},
		{"everyone reads their account", mash, authz.ReadAccount, nil, authz.Allow},
		{"an auditor reads the timeliness report", auditor, authz.ReadAuditReport, nil, authz.Allow},
		{"an auditor reads any incident's timeline", auditor, authz.ReadAuditTimeline, nil, authz.Allow},
		{"an administrator does not read the report", administrator, authz.ReadAuditReport, nil, authz.Forbid},
		{"a MASH manager does not read audit timelines", manager, authz.ReadAuditTimeline, nil, authz.Forbid},
		{"a key adult does not read the report", school, authz.ReadAuditReport, nil, authz.Forbid},
		{"a home education officer reads their authority's notice", homeEducation, authz.ReadNotice, ownHomeEducation, authz.Allow},
		{"a home education officer acknowledges it", homeEducation, authz.Acknowledge, ownHomeEducation, authz.Allow},
		{"another authority's home education notice is hidden", homeEducation, authz.ReadNotice, otherHomeEducation, authz.Hide},
		{"a school's notice is hidden from home education", homeEducation, authz.ReadNotice, own, authz.Hide},
		{"a home education officer never triages", homeEducation, authz.Triage, ownHomeEducation, authz.Forbid},
		{"a home education officer reads no audit record", homeEducation, authz.ReadAuditReport, nil, authz.Forbid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := authz.Decide(tc.user, tc.action, tc.owner); got != tc.want {
				t.Errorf("Decide() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEveryRoleHasAnAccountAndOnlyManagersTakeClaims(t *testing.T) {
	for _, r := range identity.Roles() {
		if !authz.Permits(r, authz.ReadAccount) {
			t.Errorf("%s cannot read their account", r)
		}
		if got, want := authz.ManagesClaims(r), r == identity.RoleMASHManager; got != want {
			t.Errorf("ManagesClaims(%s) = %v, want %v", r, got, want)
		}
	}
}

func TestOnlyAuditorsReadTheAuditRecord(t *testing.T) {
	for _, r := range identity.Roles() {
		for _, a := range []authz.Action{authz.ReadAuditReport, authz.ReadAuditTimeline} {
			if got, want := authz.Permits(r, a), r == identity.RoleAuditor; got != want {
				t.Errorf("Permits(%s, %s) = %v, want %v", r, a, got, want)
			}
		}
	}
}
