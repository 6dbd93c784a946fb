package casework

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/accesslog"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
	"slices"
)

// IncidentView is a MASH notice with the MASH's earlier incidents about the
// same people.
type IncidentView struct {
	NoticeView
	// DefaultRAG is the rating the policy proposed.
	DefaultRAG string
	History    []HistoryItem
}

// HistoryItem is one earlier incident and who in it matched.
type HistoryItem struct {
	store.EarlierIncident
	Notice NoticeView
	// Matched names the people who matched, as the earlier notice has them.
	Matched []string
}

// Incident returns an incident's full MASH notice with its history,
// recording the incident and each earlier incident shown.
func (s *Service) Incident(ctx context.Context, c Caller, incidentID string) (IncidentView, error) {
	n, err := s.mashNotice(ctx, c, authz.ReadIncident, incidentID)
	if err != nil {
		return IncidentView{}, err
	}
	v, err := s.view(ctx, n)
	if err != nil {
		return IncidentView{}, err
	}
	out := IncidentView{NoticeView: v, DefaultRAG: notice.DefaultRAG(n.Flags, v.Content.Level())}
	earlier, err := store.EarlierIncidents(ctx, s.pool, n)
	if err != nil {
		return IncidentView{}, err
	}
	entries := []accesslog.Entry{{IncidentID: n.IncidentID, NotificationID: n.NotificationID,
		Resource: accesslog.ResourceIncident, Purpose: purposes[authz.ReadIncident]}}
	for _, e := range earlier {
		item, err := s.historyItem(ctx, e)
		if err != nil {
			return IncidentView{}, err
		}
		out.History = append(out.History, item)
		entries = append(entries, accesslog.Entry{IncidentID: e.IncidentID, NotificationID: e.NotificationID,
			Resource: accesslog.ResourceIncidentHistory, Purpose: purposes[authz.ReadIncident]})
	}
	if err := s.record(ctx, c, entries...); err != nil {
		return IncidentView{}, err
	}
	return out, nil
}

func (s *Service) historyItem(ctx context.Context, e store.EarlierIncident) (HistoryItem, error) {
	n, err := store.NoticeByID(ctx, s.pool, e.NotificationID)
	if err != nil {
		return HistoryItem{}, err
	}
	v, err := s.view(ctx, n)
	if err != nil {
		return HistoryItem{}, err
	}
	item := HistoryItem{EarlierIncident: e, Notice: v}
	for _, ch := range v.Content.Children {
		if slices.Contains(e.MatchedPersonIDs, ch.PersonID) {
			item.Matched = append(item.Matched, ch.Name)
		}
	}
	for _, a := range v.Content.Adults {
		if slices.Contains(e.MatchedPersonIDs, a.PersonID) {
			item.Matched = append(item.Matched, a.Name)
		}
	}
	return item, nil
}

// mashNotice finds the MASH notice of an incident in the inbox of
// the caller's organisation, recording a refusal when there is none.
func (s *Service) mashNotice(ctx context.Context, c Caller, a authz.Action, incidentID string) (store.Notice, error) {
	en, err := s.entryFor(ctx, c, a, accesslog.ResourceIncident, "", incidentID)
	if err != nil {
		return store.Notice{}, err
	}
	list, err := store.MASHNoticesForIncident(ctx, s.pool, en.IncidentID)
	if err != nil {
		return store.Notice{}, err
	}
	en.Refusal = events.RefusalNotFound
	if len(list) > 0 {
		en.Refusal = events.RefusalOrganisation
	}
	for _, n := range list {
		if authz.Decide(c.User, a, &n.Recipient) != authz.Allow {
			continue
		}
		return n, nil
	}
	en.IncidentID = ""
	if len(list) > 0 {
		en.IncidentID = list[0].IncidentID
	}
	return store.Notice{}, s.refuse(ctx, c, a, en)
}

// Claim marks the incident's MASH notice as being worked by the caller, for
// colleagues to see. Claiming what one holds changes nothing; a notice
// another worker holds can be taken over only by a manager.
func (s *Service) Claim(ctx context.Context, c Caller, incidentID string) (store.Claim, error) {
	n, err := s.mashNotice(ctx, c, authz.Claim, incidentID)
	if err != nil {
		return store.Claim{}, err
	}
	claim := store.Claim{NotificationID: n.NotificationID, UserID: c.User.ID, UserName: c.User.Name, ClaimedAt: s.clock.Now().UTC()}
	err = pgdb.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := store.LockIncident(ctx, tx, n.IncidentID); err != nil {
			return err
		}
		held, err := store.ClaimOf(ctx, tx, n.NotificationID)
		if err != nil {
			return err
		}
		if held != nil && held.UserID == c.User.ID {
			claim = *held
			return nil
		}
		if err := s.mayTake(c, held); err != nil {
			return err
		}
		return store.PutClaim(ctx, tx, claim)
	})
	return claim, err
}

// Release gives up the claim on the incident's MASH notice. Releasing a
// notice nobody holds changes nothing.
func (s *Service) Release(ctx context.Context, c Caller, incidentID string) error {
	n, err := s.mashNotice(ctx, c, authz.Release, incidentID)
	if err != nil {
		return err
	}
	return pgdb.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := store.LockIncident(ctx, tx, n.IncidentID); err != nil {
			return err
		}
		held, err := store.ClaimOf(ctx, tx, n.NotificationID)
		if err != nil || held == nil {
			return err
		}
		if err := s.mayTake(c, held); err != nil {
			return err
		}
		return store.DeleteClaim(ctx, tx, n.NotificationID)
	})
}

// mayTake refuses to let a worker take or release a colleague's claim.
func (s *Service) mayTake(c Caller, held *store.Claim) error {
	if held == nil || held.UserID == c.User.ID || authz.ManagesClaims(c.User.Role) {
		return nil
	}
	return &ConflictError{Reason: fmt.Sprintf("%s is working this notice; ask them or a MASH manager to release it", held.UserName)}
}

// TriageInput is a MASH worker's rating and decision.
type TriageInput struct {
	RAG       string
	RAGReason string
	Decision  string
}

func (in TriageInput) check(defaultRAG string) error {
	var fields []FieldError
	if !notice.ValidRAG(in.RAG) {
		fields = append(fields, FieldError{"/rag", "Choose red, amber or green"})
	}
	if !slices.Contains(notice.Decisions(), in.Decision) {
		fields = append(fields, FieldError{"/decision", "Choose one of " + strings.Join(notice.Decisions(), ", ")})
	}
	reason := strings.TrimSpace(in.RAGReason)
	switch {
	case notice.ValidRAG(in.RAG) && in.RAG != defaultRAG && reason == "":
		fields = append(fields, FieldError{"/rag_reason", "Give the reason for a rating other than the proposed " + defaultRAG})
	case len(reason) > 2000:
		fields = append(fields, FieldError{"/rag_reason", "Keep the reason to 2000 characters"})
	}
	if len(fields) > 0 {
		return &InvalidError{Fields: fields}
	}
	return nil
}

// Triage records the MASH's rating and decision on the incident and emits
// triage.decided. It is idempotent: the same decision again returns the
// first with created false and emits nothing; a different one is a
// conflict, because a decision, once recorded, is changed by a later
// process, not by pressing again.
func (s *Service) Triage(ctx context.Context, c Caller, incidentID string, in TriageInput) (store.TriageDecision, bool, error) {
	n, err := s.mashNotice(ctx, c, authz.Triage, incidentID)
	if err != nil {
		return store.TriageDecision{}, false, err
	}
	content, err := notice.Decode(n.Content)
	if err != nil {
		return store.TriageDecision{}, false, err
	}
	defaultRAG := notice.DefaultRAG(n.Flags, content.Level())
	if err := in.check(defaultRAG); err != nil {
		return store.TriageDecision{}, false, err
	}
	d := store.TriageDecision{IncidentID: n.IncidentID, NotificationID: n.NotificationID, RAG: in.RAG,
		DefaultRAG: defaultRAG, Decision: in.Decision, DecidedAt: s.clock.Now().UTC(), UserID: c.User.ID,
		Role: string(c.User.Role), UserName: c.User.Name, EventID: cloudevent.RandomID()}
	if in.RAG != defaultRAG {
		d.RAGReason = strings.TrimSpace(in.RAGReason)
	}
	var created bool
	err = pgdb.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		created, err = s.decide(ctx, tx, c, n, &d)
		return err
	})
	return d, created, err
}

func (s *Service) decide(ctx context.Context, tx pgx.Tx, c Caller, n store.Notice, d *store.TriageDecision) (bool, error) {
	if err := store.LockIncident(ctx, tx, n.IncidentID); err != nil {
		return false, err
	}
	current, err := store.NoticeByID(ctx, tx, n.NotificationID)
	if err != nil {
		return false, err
	}
	if t := current.Triage; t != nil {
		if t.RAG != d.RAG || t.Decision != d.Decision || t.RAGReason != d.RAGReason {
			return false, &ConflictError{Reason: fmt.Sprintf("this incident was already decided (%s, %s) by %s",
				t.RAG, notice.DecisionLabel(t.Decision), nameOr(t.UserName, t.UserID))}
		}
		*d = *t
		return false, nil
	}
	held, err := store.ClaimOf(ctx, tx, n.NotificationID)
	if err != nil {
		return false, err
	}
	if err := s.mayTake(c, held); err != nil {
		return false, err
	}
	if err := store.RememberUser(ctx, tx, c.User.ID, c.User.Name, string(c.User.Role), c.User.Org.String(), d.DecidedAt); err != nil {
		return false, err
	}
	if err := store.PutClaim(ctx, tx, store.Claim{NotificationID: n.NotificationID, UserID: c.User.ID,
		UserName: c.User.Name, ClaimedAt: d.DecidedAt}); err != nil {
		return false, err
	}
	if _, err := store.InsertTriage(ctx, tx, *d); err != nil {
		return false, err
	}
	return true, s.announceTriage(ctx, tx, c, *d)
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func (s *Service) announceTriage(ctx context.Context, tx pgx.Tx, c Caller, d store.TriageDecision) error {
	e, err := cloudevent.New(cloudevent.Spec{ID: d.EventID, Type: events.TriageDecided, Source: events.SourceWorkspace,
		Subject: d.IncidentID, IncidentID: d.IncidentID, Actor: c.User.Actor(), Time: d.DecidedAt,
		Data: events.TriageDecidedData{IncidentID: d.IncidentID, NotificationID: d.NotificationID, RAG: d.RAG,
			DefaultRAG: d.DefaultRAG, RAGReason: d.RAGReason, Decision: d.Decision, DecidedAt: d.DecidedAt,
			DecidedBy: c.User.Person()}})
	if err != nil {
		return err
	}
	subject, err := events.Subject(events.TriageDecided, "")
	if err != nil {
		return err
	}
	return s.outbox.Enqueue(ctx, tx, subject, e)
}
