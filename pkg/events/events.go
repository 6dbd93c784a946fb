// Package events is Lantern's event catalogue: every CloudEvents type of
// contract.md section 2, the NATS subject each is published on, and the Go
// shape of each event's data. The JSON Schemas in the schemas module are the
// machine-readable form of the same catalogue; a test keeps the two in step.
package events

import (
	"fmt"
	"slices"
)

// Type is a CloudEvents `type` attribute.
type Type string

// The event types of contract v1.
const (
	IncidentReported         Type = "org.lantern.incident.reported.v1"
	NotificationRequested    Type = "org.lantern.notification.requested.v1"
	NotificationDelivered    Type = "org.lantern.notification.delivered.v1"
	NotificationAcknowledged Type = "org.lantern.notification.acknowledged.v1"
	NotificationFailed       Type = "org.lantern.notification.failed.v1"
	TriageDecided            Type = "org.lantern.triage.decided.v1"
	SLAAtRisk                Type = "org.lantern.sla.at_risk.v1"
	SLABreached              Type = "org.lantern.sla.breached.v1"
	// AccessRecorded is an addition to contract v1: every read of personal
	// data in the workspace, and every refusal, is recorded in the ledger.
	AccessRecorded Type = "org.lantern.access.recorded.v1"
	// IncidentShredded is an addition to contract v1.1: an incident's
	// retention ended and its personal data key was destroyed. The ledger
	// records it in its chain as it shreds.
	IncidentShredded Type = "org.lantern.incident.shredded.v1"
)

// SubjectIncidentShredded is incident.shredded's subject.
const SubjectIncidentShredded = "sg.incident.shredded"

// RecipientKind is the kind of organisation a notice goes to. It is also the
// last token of the per-recipient subjects, so it must stay a plain word.
type RecipientKind string

// The recipient kinds of contract v1.
const (
	KindMASH           RecipientKind = "mash"
	KindSchool         RecipientKind = "school"
	KindEarlyYears     RecipientKind = "early_years"
	KindHomeEducation  RecipientKind = "home_education"
	KindHealthVisiting RecipientKind = "health_visiting"
	KindSchoolNursing  RecipientKind = "school_nursing"
	KindMidwifery      RecipientKind = "midwifery"
	KindGP             RecipientKind = "gp"
	KindProbation      RecipientKind = "probation"
	KindMARAC          RecipientKind = "marac"
	KindIDVA           RecipientKind = "idva"
)

// RecipientKinds lists every recipient kind, in contract order.
func RecipientKinds() []RecipientKind {
	return []RecipientKind{KindMASH, KindSchool, KindEarlyYears, KindHomeEducation,
		KindHealthVisiting, KindSchoolNursing, KindMidwifery, KindGP, KindProbation,
		KindMARAC, KindIDVA}
}

// Valid reports whether k can name a recipient kind: one of the
// contract's, or a kind a partnership's routing policy declares, which
// must be lowercase words joined by _ so that it stays a plain subject
// token (no dot, no wildcard).
func (k RecipientKind) Valid() bool { return IsBuiltinKind(k) || PlainKindWord(string(k)) }

// IsBuiltinKind reports whether k is one of the contract's own kinds.
func IsBuiltinKind(k RecipientKind) bool { return slices.Contains(RecipientKinds(), k) }

// PlainKindWord reports whether s is lowercase words joined by single
// underscores, at most 32 characters: the form of a declared kind.
func PlainKindWord(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] == '_' || s[len(s)-1] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c != '_' || s[i-1] == '_') {
			return false
		}
	}
	return true
}

// Spec describes one event type: its subject, whether the subject ends
// with the recipient kind, and the sources entitled to publish it.
type Spec struct {
	Type          Type
	SubjectPrefix string
	PerRecipient  bool
	// Sources are the CloudEvents sources that may publish the type. The
	// broker's permissions (pkg/natsauth) and every consumer's provenance
	// check (bus.Provenance) are both derived from them.
	Sources []string
}

// Catalogue returns every event type Lantern publishes, in contract order.
func Catalogue() []Spec {
	return []Spec{
		{IncidentReported, "sg.incident.reported", false, []string{SourceIntake}},
		{NotificationRequested, "sg.notification.requested", true, []string{SourceRouter}},
		{NotificationDelivered, "sg.notification.delivered", true, []string{SourceDelivery}},
		{NotificationAcknowledged, "sg.notification.acknowledged", true, []string{SourceWorkspace}},
		{NotificationFailed, "sg.notification.failed", true, []string{SourceDelivery}},
		{TriageDecided, "sg.triage.decided", false, []string{SourceWorkspace}},
		{SLAAtRisk, "sg.sla.at_risk", true, []string{SourceEscalation}},
		{SLABreached, "sg.sla.breached", true, []string{SourceEscalation}},
		// Both the workspace and intake's own reads of a notice are recorded.
		{AccessRecorded, "sg.access.recorded", false, []string{SourceWorkspace, SourceIntake}},
		{IncidentShredded, SubjectIncidentShredded, false, []string{SourceLedger}},
	}
}

// Lookup returns the spec of t.
func Lookup(t Type) (Spec, bool) {
	for _, s := range Catalogue() {
		if s.Type == t {
			return s, true
		}
	}
	return Spec{}, false
}

// Subject returns the NATS subject for an event of type t. Per-recipient
// types need a valid kind; the kind is checked against the allow-list so that
// no caller-supplied text can ever reach a subject name.
func Subject(t Type, kind RecipientKind) (string, error) {
	spec, ok := Lookup(t)
	if !ok {
		return "", fmt.Errorf("unknown event type %q", t)
	}
	if !spec.PerRecipient {
		return spec.SubjectPrefix, nil
	}
	if !kind.Valid() {
		return "", fmt.Errorf("event type %s needs a recipient kind, got %q", t, kind)
	}
	return spec.SubjectPrefix + "." + string(kind), nil
}

// Source is the CloudEvents `source` of events each Lantern service emits.
const (
	SourceIntake     = "/lantern/intake"
	SourceRouter     = "/lantern/router"
	SourceDelivery   = "/lantern/delivery"
	SourceWorkspace  = "/lantern/workspace"
	SourceEscalation = "/lantern/escalation"
	SourceLedger     = "/lantern/ledger"
)

// Extension attribute names carried on every Lantern event.
const (
	// ExtIncidentID is on every event: the incident the event belongs to.
	ExtIncidentID = "incidentid"
	// ExtActor names who caused the event: a service or a signed-in user.
	ExtActor = "actor"
)

// Filter returns the NATS subject filter that matches every event of type
// t: its subject, or every recipient kind's subject under it.
func Filter(t Type) (string, error) {
	spec, ok := Lookup(t)
	if !ok {
		return "", fmt.Errorf("unknown event type %q", t)
	}
	if spec.PerRecipient {
		return spec.SubjectPrefix + ".>", nil
	}
	return spec.SubjectPrefix, nil
}
