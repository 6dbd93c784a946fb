// Package notice builds the minimised content of each notice, one payload
// profile at a time (domain.md section 8.4). Every profile is a struct that
// lists the fields its recipients may see, and each builder copies those
// fields one by one from the police notice. Nothing is ever built by taking
// the full record and deleting from it, so a field added to the police
// notice later reaches no recipient until a profile names it here.
package notice

import (
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// location copies the location, or returns nil when there is none.
func location(l *ppn.Location) *ppn.Location {
	if l == nil {
		return nil
	}
	return &ppn.Location{Postcode: l.Postcode, Description: l.Description}
}
