// Package authz is the workspace's one authorisation policy: which role may
// use which action, and whose records it may see. Every handler, page and
// API alike, asks Decide and nothing else, so the policy can be read, and
// tested, in one place.
package authz

import (
	"slices"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

// Action is one thing a person can do in the workspace.
type Action string

// The actions of the workspace.
const (
	// ReadAccount shows who is signed in; every role may.
	ReadAccount Action = "read_account"
	// ListNotices, ReadNotice, Acknowledge and ReadRecord are the inbox of
	// every recipient other than the MASH.
	ListNotices Action = "list_notices"
	ReadNotice  Action = "read_notice"
	Acknowledge Action = "acknowledge"
	ReadRecord  Action = "read_record"
	// MASHQueue, ReadIncident, Claim, Release and Triage are the MASH's
	// triage work.
	MASHQueue    Action = "mash_queue"
	ReadIncident Action = "read_incident"
	Claim        Action = "claim"
	Release      Action = "release"
	Triage       Action = "triage"
	// ReadOverview shows counts without personal data, for the roles that
	// oversee rather than receive.
	ReadOverview Action = "read_overview"
	// ReadAuditReport and ReadAuditTimeline are the auditor's reading of
	// the audit record: the timeliness report across every organisation,
	// and any incident's timeline.
	ReadAuditReport   Action = "read_audit_report"
	ReadAuditTimeline Action = "read_audit_timeline"
	// ReadDisclosures lists every notice that named a person (a right of
	// access request): when, to whom, under which rule and basis.
	ReadDisclosures Action = "read_disclosures"
	// SimulatePolicy routes a period's incidents again under a proposed
	// policy and reports the difference (lantern policy simulate).
	SimulatePolicy Action = "simulate_policy"
)

// Actions lists every action.
func Actions() []Action {
	return []Action{ReadAccount, ListNotices, ReadNotice, Acknowledge, ReadRecord, MASHQueue,
		ReadIncident, Claim, Release, Triage, ReadOverview, ReadAuditReport, ReadAuditTimeline, ReadDisclosures, SimulatePolicy}
}

var (
	inbox = []Action{ReadAccount, ListNotices, ReadNotice, Acknowledge, ReadRecord}
	mash  = []Action{ReadAccount, MASHQueue, ReadIncident, Claim, Release, Triage}
	// The MASH manager and the auditor can try a routing policy on the
	// partnership's history before the board commits to it.
	mashManager = append(slices.Clone(mash), SimulatePolicy)
	// oversight roles see no notice: administrators look after the
	// service, and auditors read the audit record, which holds identifiers,
	// times and counts, never a notice's content.
	oversight = []Action{ReadAccount, ReadOverview}
	audit     = []Action{ReadAccount, ReadOverview, ReadAuditReport, ReadAuditTimeline, ReadDisclosures, SimulatePolicy}
)

var matrix = map[identity.Role][]Action{
	identity.RoleMASHWorker:     mash,
	identity.RoleMASHManager:    mashManager,
	identity.RoleSchoolKeyAdult: inbox,
	identity.RoleHealth:         inbox,
	identity.RoleProbation:      inbox,
	identity.RoleMARAC:          inbox,
	identity.RoleIDVA:           inbox,
	identity.RoleHomeEducation:  inbox,
	identity.RolePartnerService: inbox,
	identity.RoleAuditor:        audit,
	identity.RoleAdministrator:  oversight,
}

// Permits reports whether a role may ever use an action.
func Permits(role identity.Role, a Action) bool { return slices.Contains(matrix[role], a) }

// Decision is the answer to a request.
type Decision int

// The decisions: allowed; forbidden (403) for a role that may never use
// the action; hidden (404) for a record of another organisation, so that
// a person cannot learn that it exists.
const (
	Allow Decision = iota
	Forbid
	Hide
)

// Decide answers whether u may take action a on a record addressed to
// owner. A nil owner is an action on no particular record (a list), or on
// a record that does not exist, which only the role decides.
func Decide(u identity.User, a Action, owner *events.Recipient) Decision {
	if !Permits(u.Role, a) {
		return Forbid
	}
	if owner != nil && !u.Org.Receives(*owner) {
		return Hide
	}
	return Allow
}

// ManagesClaims reports whether a role may release or override another
// person's claim on a notice.
func ManagesClaims(role identity.Role) bool { return role == identity.RoleMASHManager }
