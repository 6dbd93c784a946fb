package app_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/projection"
)

// projectionTables are the tables built from events alone.
var projectionTables = []string{"notices", "deliveries", "acknowledgements", "triage_decisions", "mash_people"}

// sealedValue matches a sealed personal field. Each sealing draws a fresh
// nonce, so a rebuilt projection holds other ciphertext for the same
// plaintext: rows are compared with it masked, and what the fields say is
// compared through the API, which opens them.
var sealedValue = regexp.MustCompile(`sealed:v1:[A-Za-z0-9+/=_-]+`)

// snapshot reads every row of the projection as text, in a stable order,
// sealed fields masked.
func (b *bundle) snapshot() map[string][]string {
	b.t.Helper()
	out := map[string][]string{}
	for _, table := range projectionTables {
		rows, err := b.pool.Query(context.Background(), fmt.Sprintf(`SELECT t::text FROM workspace.%s t ORDER BY t::text`, table))
		if err != nil {
			b.t.Fatalf("reading %s: %v", table, err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				b.t.Fatalf("scanning %s: %v", table, err)
			}
			out[table] = append(out[table], sealedValue.ReplaceAllString(row, "sealed:v1:…"))
		}
		rows.Close()
	}
	return out
}

// readable reads, through the API, what the MASH and the school see of the
// incident: the sealed fields opened.
func (b *bundle) readable(m area, schoolNotice string) []string {
	b.t.Helper()
	reads := []struct{ user, path string }{
		{"mash-worker.e06000035", "/v1/workspace/mash/incidents/" + m.incidentID},
		{"key-adult.118234", "/v1/workspace/notices/" + schoolNotice},
	}
	var out []string
	for _, r := range reads {
		res := b.api(b.token(r.user), http.MethodGet, r.path, "")
		if res.status != http.StatusOK {
			b.t.Fatalf("GET %s as %s: %d %s", r.path, r.user, res.status, res.body)
		}
		out = append(out, res.body)
	}
	return out
}

func TestProjectionIsRebuiltByReplay(t *testing.T) {
	b := setup(t)
	m := medway()
	all := b.deliverAll(m, kent())
	if r := b.api(b.token("key-adult.118234"), http.MethodPost, "/v1/workspace/notices/"+all[m.la][events.KindSchool].NotificationID+"/acknowledge", ""); r.status != http.StatusCreated {
		t.Fatalf("acknowledging: %d", r.status)
	}
	if r := b.api(b.token("mash-worker.e06000035"), http.MethodPost, "/v1/workspace/mash/incidents/"+m.incidentID+"/triage",
		`{"rag":"red","decision":"marac_referral"}`); r.status != http.StatusCreated {
		t.Fatalf("deciding: %d", r.status)
	}
	// Wait until the workspace has consumed its own events back, as a
	// rebuild will, so the two projections can be compared.
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		var n int
		err := b.pool.QueryRow(context.Background(), `SELECT count(*) FROM workspace.consumed_events c
			JOIN workspace.outbox o ON o.event_id = c.event_id`).Scan(&n)
		if err == nil && n != 2 {
			err = fmt.Errorf("%d own events consumed back, want 2", n)
		}
		return err
	})
	before := b.snapshot()
	schoolNotice := all[m.la][events.KindSchool].NotificationID
	seenBefore := b.readable(m, schoolNotice)
	if !strings.Contains(seenBefore[0], "Amy Medwaychild") {
		t.Fatalf("the MASH's view does not name the child before replay: %s", seenBefore[0])
	}
	b.stop()

	ctx := context.Background()
	for _, table := range append(projectionTables, "consumed_events") {
		if _, err := b.pool.Exec(ctx, "TRUNCATE workspace."+table); err != nil {
			t.Fatalf("emptying %s: %v", table, err)
		}
	}
	if err := b.js.DeleteConsumer(ctx, bus.EventsStream, projection.Consumer); err != nil {
		t.Fatalf("dropping the consumer: %v", err)
	}
	rebuild, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = b.ws.Consume(rebuild, b.js, 5*time.Second, b.log); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if diff := cmp.Diff(before, b.snapshot()); diff != "" {
			return fmt.Errorf("projection differs after replay (-before +after):\n%s", diff)
		}
		return nil
	})
	if diff := cmp.Diff(seenBefore, b.readable(m, schoolNotice)); diff != "" {
		t.Errorf("what the MASH and the school read differs after replay (-before +after):\n%s", diff)
	}
}
