// Package contacts finds whom to warn when a recipient organisation is
// about to miss, or has missed, a deadline: its manager contact.
//
// The reference data of contract.md section 3 has no manager column, so
// Lantern reads an optional extra file, escalation_contacts.csv, from the
// reference data folder:
//
//	recipient_kind,recipient_id,manager_name,manager_email
//	mash,E06000035,Medway MASH duty manager,mash-managers@medway.lantern.test
//
// Rows of kind police name a force's contact by its force code, told when
// the force's notice reached the MASH after R1's deadline:
//
//	police,KENT,Kent Police PPN desk,ppn-desk@kent.police.lantern.test
//
// A recipient without a row there falls back to the organisation's own
// address in the reference data (the local authority's MASH mailbox for a
// MASH, the designated safeguarding lead's address for a school, the
// service's mailbox for a service), and last to the address the notice
// itself was sent to.
package contacts

import (
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// FileName is the optional file, in the reference data folder, that names
// each recipient organisation's manager contact.
const FileName = "escalation_contacts.csv"

// Source says where a contact came from, so that the record of an
// escalation shows on what authority someone was warned.
type Source string

// The places a contact can come from, most specific first.
const (
	SourceContactsFile  Source = "escalation_contacts"
	SourceReferenceData Source = "reference_data"
	SourceNotice        Source = "notice"
	SourceNone          Source = "none"
)

// Contact is whom to warn about one recipient organisation.
type Contact struct {
	// Name is the manager or team, when the contacts file gives one.
	Name string
	// Address is a team mailbox; empty when no contact is known.
	Address string
	Source  Source
}

// key identifies one recipient organisation.
type key struct {
	kind events.RecipientKind
	id   string
}

// Book is one loaded version of the contacts file. The zero Book, and a nil
// *Book, hold no rows, which is what a missing file means. A Book never
// changes once loaded, so it is safe for concurrent use.
type Book struct {
	version  string
	managers map[key]Contact
}

// Len returns how many organisations the book names a manager for.
func (b *Book) Len() int {
	if b == nil {
		return 0
	}
	return len(b.managers)
}

// Version identifies the file content the book was loaded from, or is
// empty when there was no file.
func (b *Book) Version() string {
	if b == nil {
		return ""
	}
	return b.version
}

// PoliceKind is the recipient_kind of a police force's row.
const PoliceKind events.RecipientKind = "police"

// Police returns the contact of the police force with the code given, from
// the contacts file alone: the reference data has no police addresses.
func (b *Book) Police(forceCode string) Contact {
	if b != nil && forceCode != "" {
		if c, ok := b.managers[key{PoliceKind, forceCode}]; ok {
			return c
		}
	}
	return Contact{Source: SourceNone}
}

// Resolve returns the manager contact for recipient r: the contacts file's
// row if there is one, else the organisation's address in the reference
// data set ref (which may be nil), else the address on the notice.
func (b *Book) Resolve(ref *refdata.Set, r events.Recipient) Contact {
	if b != nil {
		if c, ok := b.managers[key{r.Kind, r.ID}]; ok {
			return c
		}
	}
	if address := referenceAddress(ref, r); address != "" {
		return Contact{Address: address, Source: SourceReferenceData}
	}
	if r.Email != "" {
		return Contact{Address: r.Email, Source: SourceNotice}
	}
	return Contact{Source: SourceNone}
}

// referenceAddress looks the recipient up in the reference data by the id
// the router gave it: a local authority code for a MASH or a service, a URN
// for a school or early years setting, an ODS code for a GP practice.
func referenceAddress(ref *refdata.Set, r events.Recipient) string {
	if ref == nil {
		return ""
	}
	switch r.Kind {
	case events.KindMASH:
		la, _ := ref.LocalAuthority(r.ID)
		return la.MASHEmail
	case events.KindSchool, events.KindEarlyYears:
		school, _ := ref.School(r.ID)
		return school.DSLEmail
	case events.KindGP:
		practice, _ := ref.GPPractice(r.ID)
		return practice.SafeguardingEmail
	default:
		service, _ := ref.Service(r.ID, r.Kind)
		return service.Email
	}
}
