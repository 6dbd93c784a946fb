package events

import (
	"encoding/json"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// IncidentReportedData is the data of org.lantern.incident.reported.v1: the
// whole notice as accepted, for the router and the MASH only.
type IncidentReportedData struct {
	IncidentID string       `json:"incident_id"`
	ReceivedAt time.Time    `json:"received_at"`
	Incident   ppn.Incident `json:"incident"`
}

// Recipient identifies one organisation that receives notices.
type Recipient struct {
	Kind  RecipientKind `json:"kind"`
	ID    string        `json:"id"`
	Name  string        `json:"name"`
	Email string        `json:"email,omitempty"`
}

// NotificationRequestedData is the data of
// org.lantern.notification.requested.v1: the router's decision that one
// recipient must be told, with the minimised notice it may see.
type NotificationRequestedData struct {
	NotificationID string          `json:"notification_id"`
	IncidentID     string          `json:"incident_id"`
	RuleID         string          `json:"rule_id"`
	PolicyVersion  string          `json:"policy_version"`
	Recipient      Recipient       `json:"recipient"`
	ChildIDs       []string        `json:"child_ids"`
	RequestedAt    time.Time       `json:"requested_at"`
	DueAt          time.Time       `json:"due_at"`
	Calendar       string          `json:"calendar"`
	Profile        Profile         `json:"profile"`
	LawfulBasis    string          `json:"lawful_basis"`
	Purpose        string          `json:"purpose,omitempty"`
	Repeat         bool            `json:"repeat,omitempty"`
	Flags          []string        `json:"flags,omitempty"`
	Notice         json.RawMessage `json:"notice"`
	// TriageDueAt is on MASH notices only: when R2 of the policy in force
	// wants the MASH's rating, counted from the MASH's receipt. It is the
	// one source of the triage deadline for every service.
	TriageDueAt *time.Time `json:"triage_due_at,omitempty"`
	// ReceivedAt is when Lantern accepted the incident: the MASH's receipt
	// (mash_received), from which R1's lateness and routing's own time are
	// measured.
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	// ForceCode is the police force that sent the incident, whose contact
	// hears when its notice reached the MASH after R1's deadline.
	ForceCode string `json:"force_code,omitempty"`
}

// NotificationDeliveredData is the data of
// org.lantern.notification.delivered.v1.
type NotificationDeliveredData struct {
	NotificationID string    `json:"notification_id"`
	IncidentID     string    `json:"incident_id"`
	Recipient      Recipient `json:"recipient"`
	DeliveredAt    time.Time `json:"delivered_at"`
	Channel        string    `json:"channel"`
	DueAt          time.Time `json:"due_at"`
	// Channels are the outbound channels that accepted the notice besides
	// the inbox (contract.md section 5); absent when none is configured.
	Channels []ChannelReceipt `json:"channels,omitempty"`
}

// ChannelReceipt is one channel's acceptance of a notice: an e-mail server,
// GOV.UK Notify or a partner's webhook.
type ChannelReceipt struct {
	// Channel is email, notify_email, notify_sms or webhook.
	Channel    string    `json:"channel"`
	AcceptedAt time.Time `json:"accepted_at"`
	// ProviderID is the provider's id for the message: the Message-ID,
	// Notify's notification id, or the webhook id.
	ProviderID string `json:"provider_id"`
}

// Person is a signed-in user who did something.
type Person struct {
	UserID string `json:"user_id"`
	Role   string `json:"role,omitempty"`
}

// NotificationAcknowledgedData is the data of
// org.lantern.notification.acknowledged.v1.
type NotificationAcknowledgedData struct {
	NotificationID string    `json:"notification_id"`
	IncidentID     string    `json:"incident_id"`
	Recipient      Recipient `json:"recipient"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	AcknowledgedBy Person    `json:"acknowledged_by"`
}

// NotificationFailedData is the data of org.lantern.notification.failed.v1.
type NotificationFailedData struct {
	NotificationID string    `json:"notification_id"`
	IncidentID     string    `json:"incident_id"`
	Recipient      Recipient `json:"recipient"`
	FailedAt       time.Time `json:"failed_at"`
	Reason         string    `json:"reason"`
	Attempts       int       `json:"attempts"`
}

// RAG ratings.
const (
	RAGRed   = "red"
	RAGAmber = "amber"
	RAGGreen = "green"
)

// MASH decisions.
const (
	DecisionNoFurtherAction = "no_further_action"
	DecisionEarlyHelp       = "early_help"
	DecisionSection17       = "section_17"
	DecisionSection47       = "section_47_strategy_discussion"
	DecisionMARACReferral   = "marac_referral"
)

// TriageDecidedData is the data of org.lantern.triage.decided.v1.
type TriageDecidedData struct {
	IncidentID     string    `json:"incident_id"`
	NotificationID string    `json:"notification_id"`
	RAG            string    `json:"rag"`
	DefaultRAG     string    `json:"default_rag"`
	RAGReason      string    `json:"rag_reason,omitempty"`
	Decision       string    `json:"decision"`
	DecidedAt      time.Time `json:"decided_at"`
	DecidedBy      Person    `json:"decided_by"`
}

// SLA steps that a deadline can watch.
const (
	StepDelivery        = "delivery"
	StepAcknowledgement = "acknowledgement"
	StepTriage          = "triage"
	// StepReceipt is R1's police-to-MASH step: breached once when the
	// notice reached Lantern after its deadline, a miss nobody in Lantern
	// can make good, so it is never done.
	StepReceipt = "receipt"
)

// SLAData is the data of org.lantern.sla.at_risk.v1 and
// org.lantern.sla.breached.v1.
type SLAData struct {
	NotificationID string    `json:"notification_id"`
	IncidentID     string    `json:"incident_id"`
	Recipient      Recipient `json:"recipient"`
	RuleID         string    `json:"rule_id"`
	Step           string    `json:"step"`
	DueAt          time.Time `json:"due_at"`
	ObservedAt     time.Time `json:"observed_at"`
	ManagerContact string    `json:"manager_contact,omitempty"`
	// PoliceContact is the sending force's contact, on a receipt breach.
	PoliceContact string `json:"police_contact,omitempty"`
}

// Outcomes of an access to personal data.
const (
	AccessAllowed = "allowed"
	AccessRefused = "refused"
)

// Why an access was refused: the user's role may never use the endpoint,
// the record belongs to another organisation, or no such record exists.
const (
	RefusalRole         = "role"
	RefusalOrganisation = "organisation"
	RefusalNotFound     = "not_found"
)

// How a person reached the data: a web page or the JSON API.
const (
	AccessViaPage = "page"
	AccessViaAPI  = "api"
)

// NilIncidentID stands in for the incident of an access that matched no
// incident, such as a refusal of a whole endpoint, because every event
// belongs to an incident.
const NilIncidentID = "00000000-0000-0000-0000-000000000000"

// AccessRecordedData is the data of org.lantern.access.recorded.v1: one
// person read, or was refused, one record holding personal data.
type AccessRecordedData struct {
	AccessID       string    `json:"access_id"`
	IncidentID     string    `json:"incident_id"`
	NotificationID string    `json:"notification_id,omitempty"`
	UserID         string    `json:"user_id"`
	Role           string    `json:"role"`
	Organisation   string    `json:"organisation"`
	Resource       string    `json:"resource"`
	Purpose        string    `json:"purpose"`
	Outcome        string    `json:"outcome"`
	Refusal        string    `json:"refusal,omitempty"`
	Via            string    `json:"via"`
	At             time.Time `json:"at"`
}

// NewData returns a pointer to an empty data value for t, so that a consumer
// can decode any catalogue event without a type switch of its own.
func NewData(t Type) (any, bool) {
	switch t {
	case IncidentReported:
		return &IncidentReportedData{}, true
	case NotificationRequested:
		return &NotificationRequestedData{}, true
	case NotificationDelivered:
		return &NotificationDeliveredData{}, true
	case NotificationAcknowledged:
		return &NotificationAcknowledgedData{}, true
	case NotificationFailed:
		return &NotificationFailedData{}, true
	case TriageDecided:
		return &TriageDecidedData{}, true
	case SLAAtRisk, SLABreached:
		return &SLAData{}, true
	case AccessRecorded:
		return &AccessRecordedData{}, true
	case IncidentShredded:
		return &IncidentShreddedData{}, true
	}
	return nil, false
}

// IncidentShreddedData is the data of org.lantern.incident.shredded.v1:
// the incident's retention ended (due_at under the named retention policy)
// and its data key was destroyed at shredded_at. It carries ids and times
// only.
type IncidentShreddedData struct {
	IncidentID      string    `json:"incident_id"`
	DueAt           time.Time `json:"due_at"`
	ShreddedAt      time.Time `json:"shredded_at"`
	RetentionPolicy string    `json:"retention_policy"`
}
