package bus

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

type refusalError struct{ err error }

func (r refusalError) Error() string { return r.err.Error() }
func (r refusalError) Unwrap() error { return r.err }

// IsRefusal reports whether err is Provenance's refusal of an event.
func IsRefusal(err error) bool {
	var r refusalError
	return errors.As(err, &r)
}

// ErrNotEntitled is the reason for every refusal by Provenance.
var ErrNotEntitled = errors.New("refused: the event's source is not entitled to its subject")

// CheckProvenance reports whether e may have come from where it claims: its
// subject is one of the catalogue's, its type is the one that subject
// carries, and its source is entitled to publish that type.
func CheckProvenance(subject string, e cloudevent.Event) error {
	spec, ok := events.TypeOfSubject(subject)
	switch {
	case !ok:
		return fmt.Errorf("%w: %q is not an event subject", ErrNotEntitled, subject)
	case string(spec.Type) != e.Type():
		return fmt.Errorf("%w: subject %s carries %s, not %q", ErrNotEntitled, subject, spec.Type, e.Type())
	case !spec.Entitled(e.Source()):
		return fmt.Errorf("%w: %q may not publish %s (on %s)", ErrNotEntitled, e.Source(), spec.Type, subject)
	}
	return nil
}

// Provenance refuses, before any handler sees it, an event whose source is
// not entitled to its subject. The broker's permissions already keep each
// identity to its own subjects; this is the defence behind them, should an
// identity be misconfigured or a message reach the stream another way.
// A refused event is logged with refused=provenance and dead-lettered
// with its reason, without the consumer's dead-letter hook, so it is
// visible (`lantern dlq list`) and has no effect.
func Provenance(log *zap.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, e cloudevent.Event) error {
			subject := MsgSubject(ctx)
			if err := CheckProvenance(subject, e); err != nil {
				log.Error("event refused", zap.String("refused", "provenance"), zap.String("event_id", e.ID()),
					zap.String("subject", subject), zap.String("source", e.Source()), zap.String("type", e.Type()))
				return refusalError{err}
			}
			return next(ctx, e)
		}
	}
}
