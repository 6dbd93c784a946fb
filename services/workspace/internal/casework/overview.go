package casework

import (
	"context"

	"github.com/lantern-safeguarding/lantern/services/workspace/internal/accesslog"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// Overview counts notices by recipient kind, with no personal data, for
// the people who oversee the service.
func (s *Service) Overview(ctx context.Context, c Caller) ([]store.KindCounts, error) {
	if err := s.permit(ctx, c, authz.ReadOverview, accesslog.Entry{}); err != nil {
		return nil, err
	}
	return store.Overview(ctx, s.pool, s.clock.Now())
}

// Account checks that the caller may see who they are signed in as, which
// every role may.
func (s *Service) Account(ctx context.Context, c Caller) error {
	return s.permit(ctx, c, authz.ReadAccount, accesslog.Entry{})
}
