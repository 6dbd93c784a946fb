package conformance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// deliveries is a consumer that counts the deliveries it was given, in a
// table of its own; idempotent says whether it records each event once.
func deliveries(t *testing.T, idempotent bool) conformance.Consumer {
	t.Helper()
	_, pool := pgtest.NewPool(t, "conformance-empty", nil)
	if _, err := pool.Exec(t.Context(), `CREATE SCHEMA probe;
		CREATE TABLE probe.seen (event_id text NOT NULL, notification_id text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if idempotent {
		if _, err := pool.Exec(t.Context(), `CREATE UNIQUE INDEX ON probe.seen (event_id)`); err != nil {
			t.Fatal(err)
		}
	}
	m := bus.NewMux()
	bus.On(m, events.NotificationDelivered, func(ctx context.Context, e cloudevent.Event, d events.NotificationDeliveredData) error {
		return record(ctx, pool, e.ID(), d.NotificationID, idempotent)
	})
	return conformance.Consumer{Handler: m.Handle, Subjects: m.Subjects(), Digest: conformance.SchemaDigest(pool, "probe"),
		Batch: bus.Batch{DB: pool}}
}

func record(ctx context.Context, pool *pgxpool.Pool, eventID, notificationID string, idempotent bool) error {
	if idempotent {
		_, err := pool.Exec(ctx, `INSERT INTO probe.seen (event_id, notification_id)
			VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`, eventID, notificationID)
		return err
	}
	_, err := pool.Exec(ctx, `INSERT INTO probe.seen (event_id, notification_id) VALUES ($1, $2)`, eventID, notificationID)
	return err
}

func TestSuitePassesAnIdempotentConsumer(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Consumer { return deliveries(t, true) }, conformance.Simulated(t, 4, 1))
}

func TestSuiteFailsANonIdempotentConsumer(t *testing.T) {
	err := conformance.CheckRedelivery(t.Context(), deliveries(t, false), conformance.Simulated(t, 4, 1), 7)
	if err == nil || !strings.Contains(err.Error(), "changed the stored state") {
		t.Errorf("CheckRedelivery on a consumer that records every delivery = %v, want a changed digest", err)
	}
}

func TestSuiteFailsAConsumerThatAcceptsInvalidData(t *testing.T) {
	c := deliveries(t, true)
	// A handler that records whatever arrives, without validating it.
	c.Handler = func(ctx context.Context, e cloudevent.Event) error {
		_, err := c.Digest(ctx)
		return err
	}
	err := conformance.CheckInvalid(t.Context(), c, conformance.Simulated(t, 1, 1))
	if err == nil || !strings.Contains(err.Error(), "want a Permanent error") {
		t.Errorf("CheckInvalid on a handler that accepts anything = %v, want it refused", err)
	}
}

// TestSimulatedFixturesPassTheirSchemas keeps the fixtures honest: an
// invalid fixture would be refused by every consumer and prove nothing.
func TestSimulatedFixturesPassTheirSchemas(t *testing.T) {
	types := map[string]bool{}
	for _, m := range conformance.Simulated(t, 12, 3) {
		types[m.Event.Type()] = true
		if err := eventschema.ValidateData(events.Type(m.Event.Type()), m.Event.Data()); err != nil {
			t.Errorf("fixture %s: %v", m.Event.Type(), err)
		}
	}
	if len(types) < 6 {
		t.Errorf("fixtures cover %d event types, want most of the catalogue: %v", len(types), types)
	}
}
