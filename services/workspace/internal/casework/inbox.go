package casework

import (
	"context"
	"errors"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/accesslog"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// Inbox lists the notices in the caller's organisation's inbox, the
// earliest deadline first, recording each one shown.
func (s *Service) Inbox(ctx context.Context, c Caller) ([]NoticeView, error) {
	return s.list(ctx, c, authz.ListNotices, false)
}

// Queue is the MASH's triage queue: its notices not yet decided,
// the earliest deadline first, recording each one shown.
func (s *Service) Queue(ctx context.Context, c Caller) ([]NoticeView, error) {
	return s.list(ctx, c, authz.MASHQueue, true)
}

func (s *Service) list(ctx context.Context, c Caller, a authz.Action, undecidedOnly bool) ([]NoticeView, error) {
	if err := s.permit(ctx, c, a, accesslog.Entry{}); err != nil {
		return nil, err
	}
	list, err := store.Inbox(ctx, s.pool, c.User.Org.Kind, c.User.Org.ID, undecidedOnly)
	if err != nil {
		return nil, err
	}
	out, err := s.views(ctx, list)
	if err != nil {
		return nil, err
	}
	entries := make([]accesslog.Entry, 0, len(list))
	for _, n := range list {
		entries = append(entries, accesslog.Entry{IncidentID: n.IncidentID, NotificationID: n.NotificationID,
			Resource: accesslog.ResourceNoticeSummary, Purpose: purposes[a]})
	}
	if err := s.record(ctx, c, entries...); err != nil {
		return nil, err
	}
	return out, nil
}

// Notice returns one notice of the caller's organisation for reading.
func (s *Service) Notice(ctx context.Context, c Caller, notificationID string) (NoticeView, error) {
	return s.read(ctx, c, authz.ReadNotice, accesslog.ResourceNotice, notificationID)
}

// Record returns a notice for the printable record that goes into the
// child's safeguarding file.
func (s *Service) Record(ctx context.Context, c Caller, notificationID string) (NoticeView, error) {
	return s.read(ctx, c, authz.ReadRecord, accesslog.ResourceSafeguardingRecord, notificationID)
}

func (s *Service) read(ctx context.Context, c Caller, a authz.Action, resource, notificationID string) (NoticeView, error) {
	n, err := s.ownNotice(ctx, c, a, notificationID)
	if err != nil {
		return NoticeView{}, err
	}
	v, err := s.view(ctx, n)
	if err != nil {
		return NoticeView{}, err
	}
	err = s.record(ctx, c, accesslog.Entry{IncidentID: n.IncidentID, NotificationID: n.NotificationID,
		Resource: resource, Purpose: purposes[a]})
	if err != nil {
		return NoticeView{}, err
	}
	return v, nil
}

// ownNotice finds a notice in the inbox of the caller's
// organisation, recording a refusal when it is not there to be had.
func (s *Service) ownNotice(ctx context.Context, c Caller, a authz.Action, notificationID string) (store.Notice, error) {
	en, err := s.entryFor(ctx, c, a, accesslog.ResourceNotice, notificationID, "")
	if err != nil {
		return store.Notice{}, err
	}
	n, err := store.NoticeByID(ctx, s.pool, en.NotificationID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Notice{}, s.refuseAs(ctx, c, a, en, events.RefusalNotFound)
	}
	if err != nil {
		return store.Notice{}, err
	}
	en.IncidentID = n.IncidentID
	if authz.Decide(c.User, a, &n.Recipient) != authz.Allow {
		return store.Notice{}, s.refuseAs(ctx, c, a, en, events.RefusalOrganisation)
	}
	return n, nil
}
