package events

import (
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// Profile names a payload profile, as carried in notification.requested's
// `profile` field: which fields of the police notice a recipient may see
// (domain.md section 8.3). The router builds each profile; the workspace
// reads them.
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
func (p Profile) Valid() bool { return slices.Contains(Profiles(), p) }

// AgeYears returns a person's age in whole years at instant at, reckoned on
// London dates, and false when the date of birth cannot be read.
func AgeYears(dateOfBirth string, at time.Time) (int, bool) {
	dob, err := calendar.ParseDate(dateOfBirth)
	if err != nil {
		return 0, false
	}
	return max(calendar.DateOf(at.In(calendar.London)).YearsSince(dob), 0), true
}
