// Package disclosure answers a person's right of access (UK GDPR Art. 15)
// and the golden rule "record what was shared, with whom and why": every
// notice that named a person, found by NHS number or by the police's
// person id, with when it was sent, to which organisation, under which
// rule, profile and lawful basis, and who opened it and when.
//
// People are found by opening each incident's sealed notice in the ledger,
// so a search needs the key-encryption key, and an incident already
// shredded names nobody any more: only its clear audit metadata remains.
package disclosure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// Query names the person: an NHS number, or the police's person id (with
// the force, since person ids are the force's own).
type Query struct {
	NHSNumber      string
	PolicePersonID string
	ForceCode      string
}

func (q Query) check() error {
	switch {
	case q.NHSNumber == "" && q.PolicePersonID == "":
		return errors.New("name the person: an NHS number or a police person id")
	case q.NHSNumber != "" && q.PolicePersonID != "":
		return errors.New("name the person one way: an NHS number or a police person id, not both")
	}
	return nil
}

// Disclosure is one notice that named the person.
type Disclosure struct {
	IncidentID      string     `json:"incident_id"`
	PoliceReference string     `json:"police_reference"`
	LocalAuthority  string     `json:"local_authority"`
	PersonID        string     `json:"person_id"`
	NotificationID  string     `json:"notification_id"`
	RequestedAt     time.Time  `json:"requested_at"`
	RecipientKind   string     `json:"recipient_kind"`
	RecipientID     string     `json:"recipient_id"`
	RecipientName   string     `json:"recipient_name"`
	RuleID          string     `json:"rule_id"`
	PolicyVersion   string     `json:"policy_version"`
	Profile         string     `json:"profile"`
	LawfulBasis     string     `json:"lawful_basis"`
	Purpose         string     `json:"purpose,omitempty"`
	DeliveredAt     *time.Time `json:"delivered_at,omitempty"`
	AcknowledgedAt  *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy  string     `json:"acknowledged_by,omitempty"`
}

// Find lists every notice that named the person, oldest first.
func Find(ctx context.Context, q auditlog.Querier, sealer *sealed.Sealer, who Query) ([]Disclosure, error) {
	if err := who.check(); err != nil {
		return nil, err
	}
	named, err := namings(ctx, q, sealer, who)
	if err != nil {
		return nil, err
	}
	var out []Disclosure
	for _, n := range named {
		found, err := notices(ctx, q, sealer, n)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	slices.SortFunc(out, func(a, b Disclosure) int { return a.RequestedAt.Compare(b.RequestedAt) })
	return out, nil
}

// naming is one incident that named the person, as person id.
type naming struct {
	incidentID, personID, reference, la string
}

// namings opens each incident's reported notice and keeps those naming
// the person.
func namings(ctx context.Context, q auditlog.Querier, sealer *sealed.Sealer, who Query) ([]naming, error) {
	rows, err := q.Query(ctx, `SELECT incident_id, event FROM ledger.entries WHERE event_type = $1 ORDER BY seq`,
		string(events.IncidentReported))
	if err != nil {
		return nil, fmt.Errorf("reading reported incidents: %w", err)
	}
	type stored struct {
		id    string
		event []byte
	}
	var all []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.id, &s.event); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []naming
	for _, s := range all {
		n, ok, err := match(ctx, sealer, s.id, s.event, who)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n...)
		}
	}
	return out, nil
}

func match(ctx context.Context, sealer *sealed.Sealer, incidentID string, raw []byte, who Query) ([]naming, bool, error) {
	e, err := auditlog.Entry{Event: raw}.CloudEvent()
	if err != nil {
		return nil, false, err
	}
	data, shredded, err := sealer.OpenFields(ctx, incidentID, e.Data())
	if err != nil || shredded {
		return nil, false, err
	}
	var d events.IncidentReportedData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, false, fmt.Errorf("reading incident %s: %w", incidentID, err)
	}
	in := d.Incident
	base := naming{incidentID: incidentID, reference: in.PoliceReference, la: in.LocalAuthorityCode}
	var out []naming
	for _, c := range in.Children {
		if (who.NHSNumber != "" && c.NHSNumber == who.NHSNumber) || policeMatch(who, in.ForceCode, c.PersonID) {
			base.personID = c.PersonID
			out = append(out, base)
		}
	}
	for _, a := range in.Adults {
		if policeMatch(who, in.ForceCode, a.PersonID) {
			base.personID = a.PersonID
			out = append(out, base)
		}
	}
	return out, len(out) > 0, nil
}

func policeMatch(who Query, force, personID string) bool {
	return who.PolicePersonID != "" && who.PolicePersonID == personID && (who.ForceCode == "" || who.ForceCode == force)
}

// notices lists the notices of n's incident that named n's person: those
// about the person as a child, and those whose content names the person.
func notices(ctx context.Context, q auditlog.Querier, sealer *sealed.Sealer, n naming) ([]Disclosure, error) {
	rows, err := q.Query(ctx, `SELECT e.event, a.delivered_at, a.acknowledged_at, coalesce(a.acknowledged_by, '')
		FROM ledger.entries e
		LEFT JOIN audit.notifications a ON a.incident_id = e.incident_id AND a.notification_id = e.subject
		WHERE e.incident_id = $1 AND e.event_type = $2 ORDER BY e.seq`, n.incidentID, string(events.NotificationRequested))
	if err != nil {
		return nil, fmt.Errorf("reading the notices of %s: %w", n.incidentID, err)
	}
	defer rows.Close()
	var out []Disclosure
	for rows.Next() {
		var raw []byte
		var d Disclosure
		if err := rows.Scan(&raw, &d.DeliveredAt, &d.AcknowledgedAt, &d.AcknowledgedBy); err != nil {
			return nil, err
		}
		e, err := auditlog.Entry{Event: raw}.CloudEvent()
		if err != nil {
			return nil, err
		}
		data, _, err := sealer.OpenFields(ctx, n.incidentID, e.Data())
		if err != nil {
			return nil, err
		}
		var r events.NotificationRequestedData
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("reading notice %s: %w", e.Subject(), err)
		}
		if !slices.Contains(r.ChildIDs, n.personID) && !bytes.Contains(r.Notice, []byte(`"person_id":"`+n.personID+`"`)) {
			continue
		}
		d.IncidentID, d.PoliceReference, d.LocalAuthority, d.PersonID = n.incidentID, n.reference, n.la, n.personID
		d.NotificationID, d.RequestedAt, d.RuleID, d.PolicyVersion = r.NotificationID, r.RequestedAt, r.RuleID, r.PolicyVersion
		d.RecipientKind, d.RecipientID, d.RecipientName = string(r.Recipient.Kind), r.Recipient.ID, r.Recipient.Name
		d.Profile, d.LawfulBasis, d.Purpose = string(r.Profile), r.LawfulBasis, r.Purpose
		out = append(out, d)
	}
	return out, rows.Err()
}
