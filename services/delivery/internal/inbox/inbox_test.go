package inbox_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func setup(t *testing.T) (*inbox.Deliverer, *pgxpool.Pool) {
	t.Helper()
	_, pool := pgtest.NewPool(t, "delivery-empty", nil)
	d := inbox.New(pool, sealedtest.New(t, pool), clock.NewFake(time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)), zaptest.NewLogger(t))
	d.IDs = cloudevent.KeyedIDs("delivery-test-event-id-key")
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d, pool
}

// requested loads the catalogue's example notification.requested event, the
// same fixture the schema tests use.
func requested(t *testing.T) cloudevent.Event {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "schemas", "examples", string(events.NotificationRequested)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	e := cloudevent.Event{}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM delivery.`+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	d, pool := setup(t)
	e := requested(t)
	for range 3 {
		if err := d.Handle(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, "inbox"); n != 1 {
		t.Errorf("inbox rows = %d, want 1", n)
	}
	if n := count(t, pool, "outbox"); n != 1 {
		t.Errorf("delivered events = %d, want 1", n)
	}
}

func TestInvalidRequestIsPermanent(t *testing.T) {
	d, pool := setup(t)
	e := requested(t)
	if err := e.SetData("application/json", map[string]string{"notification_id": "x"}); err != nil {
		t.Fatal(err)
	}
	err := d.Handle(context.Background(), e)
	if !bus.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent error for dead-lettering", err)
	}
	if n := count(t, pool, "inbox"); n != 0 {
		t.Errorf("an invalid request reached the inbox")
	}
}

func TestOtherEventTypesAreIgnored(t *testing.T) {
	d, pool := setup(t)
	e := requested(t)
	e.SetType(string(events.TriageDecided))
	if err := d.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, "inbox"); n != 0 {
		t.Errorf("a triage event reached the inbox")
	}
}

func TestDeliveryConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		d, pool := setup(t)
		return conformance.Consumer{Handler: d.Handle, Subjects: d.ConsumerSpec(0).Subjects,
			Digest: conformance.SchemaDigest(pool, inbox.Schema), Batch: d.Batch(0)}
	}, conformance.Simulated(t, 6, 11))
}
