// Package notice builds the minimised content of each notice, one payload
// profile at a time (domain.md section 8.4). Every profile is a struct that
// lists the fields its recipients may see, and each builder copies those
// fields one by one from the police notice. Nothing is ever built by taking
// the full record and deleting from it, so a field added to the police
// notice later reaches no recipient until a profile names it here.
package notice

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Profile names a payload profile, as carried in notification.requested's
// `profile` field.
type Profile string

// The payload profiles of domain.md section 8.3.
const (
	// ProfileA is the full multi-agency notice: MASH, MARAC, IDVA.
	ProfileA Profile = "A"
	// ProfileB is Operation Encompass full, for a school's safeguarding lead.
	ProfileB Profile = "B"
	// ProfileBMinimal is Operation Encompass minimal.
	ProfileBMinimal Profile = "B_minimal"
	// ProfileC is health: health visiting, school nursing, midwifery, GP.
	ProfileC Profile = "C"
	// ProfileD is probation.
	ProfileD Profile = "D"
)

// Profiles lists every profile.
func Profiles() []Profile {
	return []Profile{ProfileA, ProfileB, ProfileBMinimal, ProfileC, ProfileD}
}

// Valid reports whether p is one of the profiles.
func (p Profile) Valid() bool {
	for _, known := range Profiles() {
		if p == known {
			return true
		}
	}
	return false
}

// location copies the location, or returns nil when there is none.
func location(l *ppn.Location) *ppn.Location {
	if l == nil {
		return nil
	}
	return &ppn.Location{Postcode: l.Postcode, Description: l.Description}
}

// AgeYears returns a person's age in whole years at instant at, reckoned on
// London dates, and false when the date of birth cannot be read.
func AgeYears(dateOfBirth string, at time.Time) (int, bool) {
	dob, err := calendar.ParseDate(dateOfBirth)
	if err != nil {
		return 0, false
	}
	day := calendar.DateOf(at.In(calendar.London))
	age := day.Year - dob.Year
	if day.Month < dob.Month || (day.Month == dob.Month && day.Day < dob.Day) {
		age--
	}
	return max(age, 0), true
}
