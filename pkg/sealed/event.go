package sealed

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// SealEvent returns a copy of e whose data has its personal fields sealed
// under e's incident's key. An event without data or without an incident
// is returned as it is.
func (s *Sealer) SealEvent(ctx context.Context, e cloudevent.Event) (cloudevent.Event, error) {
	return mapEvent(e, func(incident string, data []byte) ([]byte, error) {
		return s.SealFields(ctx, incident, data)
	})
}

// SealPlainEvent is SealPlainFields for an event's data: it reports how
// many personal strings it sealed.
func (s *Sealer) SealPlainEvent(ctx context.Context, e cloudevent.Event) (cloudevent.Event, int, error) {
	n := 0
	out, err := mapEvent(e, func(incident string, data []byte) ([]byte, error) {
		sealed, count, err := s.SealPlainFields(ctx, incident, data)
		n = count
		return sealed, err
	})
	return out, n, err
}

// OpenEvent reverses SealEvent. A shredded incident's fields read as
// Removed.
func (s *Sealer) OpenEvent(ctx context.Context, e cloudevent.Event) (cloudevent.Event, error) {
	return mapEvent(e, func(incident string, data []byte) ([]byte, error) {
		opened, _, err := s.OpenFields(ctx, incident, data)
		return opened, err
	})
}

// mapEvent returns e with fn applied to its data. The data is set back as
// JSON, not as bytes, so the structured form keeps a "data" member rather
// than "data_base64".
func mapEvent(e cloudevent.Event, fn func(incident string, data []byte) ([]byte, error)) (cloudevent.Event, error) {
	incident := cloudevent.IncidentID(e)
	if incident == "" || len(e.Data()) == 0 {
		return e, nil
	}
	data, err := fn(incident, e.Data())
	if err != nil {
		return e, fmt.Errorf("event %s: %w", e.ID(), err)
	}
	out := e.Clone()
	if err := out.SetData(e.DataContentType(), json.RawMessage(data)); err != nil {
		return e, err
	}
	return out, nil
}
