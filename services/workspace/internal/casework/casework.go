// Package casework is what people do in the workspace, whatever the page or
// API they use: read their inbox or the MASH queue, read a notice or an
// incident, claim, acknowledge and decide. Each operation asks the
// authorisation policy first, records the read or the refusal in the
// ledger before it returns any personal data, and makes every change
// idempotent, so a button pressed twice or a request retried has one
// effect.
package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/accesslog"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// The errors an operation answers with, besides its own failures.
var (
	// ErrForbidden: the caller's role may never do this (403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such record, or one of another organisation (404).
	ErrNotFound = errors.New("not found")
	// ErrUnrecorded: the access could not be recorded, so nothing is
	// returned (503).
	ErrUnrecorded = errors.New("the access could not be recorded")
)

// ConflictError is a change that cannot be made because of what has been
// done already (409), such as a different decision already recorded.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

// InvalidError lists what is wrong with a request (422), each field named
// by a JSON pointer into the request body.
type InvalidError struct{ Fields []FieldError }

// FieldError is one invalid field.
type FieldError struct {
	Pointer string
	Detail  string
}

func (e *InvalidError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Pointer+": "+f.Detail)
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Caller is who asks, and how.
type Caller struct {
	User identity.User
	// Via is events.AccessViaPage or events.AccessViaAPI.
	Via string
}

// Service runs the operations.
type Service struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
	access *accesslog.Recorder
	clock  clock.Clock
	// sealer opens the notices' personal strings for the people entitled
	// to read them.
	sealer *sealed.Sealer
	// policyFile and referenceDir are what policy simulations use.
	policyFile, referenceDir string
}

// WithPolicy sets the routing policy in force and the reference data
// folder, which policy simulations compare with and route by.
func (s *Service) WithPolicy(policyFile, referenceDir string) *Service {
	s.policyFile, s.referenceDir = policyFile, referenceDir
	return s
}

// New returns the service. Events it emits go to ob.
func New(pool *pgxpool.Pool, ob *outbox.Store, c clock.Clock, sealer *sealed.Sealer) *Service {
	return &Service{pool: pool, outbox: ob, access: accesslog.New(pool, ob, c), clock: c, sealer: sealer}
}

// Clock is the service's clock, for pages that show time left.
func (s *Service) Clock() clock.Clock { return s.clock }

// NoticeView is a notice with its content read.
type NoticeView struct {
	store.Notice
	Content notice.Content
}

// view opens a notice's sealed strings and decodes it. A notice whose
// incident was shredded shows its personal fields as removed.
func (s *Service) view(ctx context.Context, n store.Notice) (NoticeView, error) {
	opened, _, err := s.sealer.OpenFields(ctx, n.IncidentID, n.Content)
	if err != nil {
		return NoticeView{}, fmt.Errorf("opening notice %s: %w", n.NotificationID, err)
	}
	n.Content = opened
	c, err := notice.Decode(n.Content)
	if err != nil {
		return NoticeView{}, err
	}
	return NoticeView{Notice: n, Content: c}, nil
}

func (s *Service) views(ctx context.Context, list []store.Notice) ([]NoticeView, error) {
	out := make([]NoticeView, 0, len(list))
	for _, n := range list {
		v, err := s.view(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// purposes names why a person uses each action, as access events record.
var purposes = map[authz.Action]string{
	authz.ListNotices: "inbox", authz.ReadNotice: "read_notice", authz.Acknowledge: "acknowledge",
	authz.ReadRecord: "safeguarding_file", authz.MASHQueue: "triage_queue", authz.ReadIncident: "triage",
	authz.Claim: "claim", authz.Release: "claim", authz.Triage: "triage", authz.ReadOverview: "overview",
	authz.ReadAccount: "account", authz.ReadAuditReport: "audit", authz.ReadAuditTimeline: "audit",
	authz.SimulatePolicy: "policy_simulation", authz.ReadDisclosures: "right_of_access",
}

// record stores entries, turning a failure into ErrUnrecorded.
func (s *Service) record(ctx context.Context, c Caller, entries ...accesslog.Entry) error {
	if err := s.access.Record(ctx, c.User, c.Via, entries...); err != nil {
		return fmt.Errorf("%w: %w", ErrUnrecorded, err)
	}
	return nil
}

// refuse records a refusal and returns the error the caller answers with.
// A refusal that cannot be recorded is answered as unavailable, so that
// every refusal a person sees is in the ledger too.
func (s *Service) refuse(ctx context.Context, c Caller, a authz.Action, en accesslog.Entry) error {
	en.Purpose = purposes[a]
	if en.Resource == "" {
		en.Resource = accesslog.ResourceEndpoint
	}
	if err := s.record(ctx, c, en); err != nil {
		return err
	}
	if en.Refusal == events.RefusalRole {
		return ErrForbidden
	}
	return ErrNotFound
}

// permit refuses, with 403, a role that may never use the action. id is the
// notification or incident the request named, recorded with the refusal.
func (s *Service) permit(ctx context.Context, c Caller, a authz.Action, en accesslog.Entry) error {
	if authz.Permits(c.User.Role, a) {
		return nil
	}
	en.Refusal = events.RefusalRole
	en.Resource = accesslog.ResourceEndpoint
	return s.refuse(ctx, c, a, en)
}

// validID keeps a malformed id from reaching SQL or an event.
func validID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == strings.ToLower(id)
}

// entryFor starts the record of a read of one resource by its id: the
// read is refused, and the refusal recorded, when the caller's role may
// never take action a, or as not found when the id given is not one.
func (s *Service) entryFor(ctx context.Context, c Caller, a authz.Action, resource, notificationID, incidentID string) (accesslog.Entry, error) {
	en := idEntry(notificationID, incidentID)
	if err := s.permit(ctx, c, a, en); err != nil {
		return en, err
	}
	en.Resource = resource
	if en.NotificationID == "" && en.IncidentID == "" {
		return en, s.refuseAs(ctx, c, a, en, events.RefusalNotFound)
	}
	return en, nil
}

// refuseAs records the refusal of en for reason and returns what the
// caller answers with.
func (s *Service) refuseAs(ctx context.Context, c Caller, a authz.Action, en accesslog.Entry, reason string) error {
	en.Refusal = reason
	return s.refuse(ctx, c, a, en)
}

// idEntry names the record a request asked for, when its id is well formed.
func idEntry(notificationID, incidentID string) accesslog.Entry {
	var en accesslog.Entry
	if validID(notificationID) {
		en.NotificationID = strings.ToLower(notificationID)
	}
	if validID(incidentID) {
		en.IncidentID = strings.ToLower(incidentID)
	}
	return en
}

// Permit refuses, and records the refusal, when the caller's role may
// never take action a; handlers call it before reading a request body, so
// that a role with no business at an endpoint learns nothing more.
func (s *Service) Permit(ctx context.Context, c Caller, a authz.Action) error {
	return s.permit(ctx, c, a, accesslog.Entry{})
}
