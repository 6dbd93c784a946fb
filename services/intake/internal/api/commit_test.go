package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

// slowCommit makes every commit that stored an incident take two seconds,
// with a deferred trigger that runs at COMMIT, so that the store timeout
// passes while PostgreSQL is committing. The trigger ignores the cancel
// request the driver sends when it gives up, as a server frozen or busy at
// that moment does: the commit then completes after the intake has stopped
// waiting for it.
const slowCommit = `
CREATE FUNCTION intake.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(2);
    RETURN NULL;
EXCEPTION WHEN query_canceled THEN
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON intake.incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION intake.slow_commit();`

// TestUnansweredCommitIsNotCalledARefusal covers a commit that goes through
// after the intake stopped waiting for it: the sender must hear that the
// outcome is unknown, never that nothing was accepted, and a repeat must
// find the stored incident.
func TestUnansweredCommitIsNotCalledARefusal(t *testing.T) {
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, pgtest.NewDatabase(t, "intake", migrated))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, slowCommit); err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, pool)
	a.StoreTimeout = 500 * time.Millisecond
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	f := fixture{srv: srv, pool: pool}

	first := f.post(t, sample(t), "Idempotency-Key", "commit-unanswered-1")
	if first.status != http.StatusServiceUnavailable || first.body["type"] != "https://lantern.example/problems/outcome-unknown" {
		t.Fatalf("first answer = %d %v, want 503 outcome-unknown", first.status, first.body)
	}
	var stored string
	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		err := pool.QueryRow(ctx, `SELECT incident_id::text FROM intake.incidents`).Scan(&stored)
		if err != nil {
			return fmt.Errorf("incident not stored yet: %w", err)
		}
		return nil
	})
	repeat := f.post(t, sample(t), "Idempotency-Key", "commit-unanswered-1")
	if repeat.status != http.StatusOK || repeat.body["incident_id"] != stored {
		t.Errorf("repeat = %d %v, want 200 with the stored incident %s", repeat.status, repeat.body, stored)
	}
}
