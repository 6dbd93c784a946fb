package sealed_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

const reported = `{"incident_id":"inc-1","recipient":{"kind":"mash","id":"E06000035","name":"Medway MASH"},"received_at":"2026-11-20T22:40:00Z","incident":{
 "force_code":"KENT","police_reference":"KNT-1","local_authority_code":"E06000035",
 "location":{"postcode":"ME4 4TR","description":"Canary flat"},
 "dash":{"level":"high","yes_count":15},
 "adults":[{"person_id":"P-1","role":"victim","name":"Canary Jane","pregnant":true,"date_of_birth":"1994-03-02"}],
 "children":[{"person_id":"C-1","name":"Canary Amy","date_of_birth":"2019-05-01","present":true,
   "voice_of_child":"Canary hid upstairs","nhs_number":"9434765919"},
   {"person_id":"C-2","name":"Canary Bo","date_of_birth":"2020-01-01","present":false,"voice_of_child":""}],
 "circumstances":"Canary narrative","officer":{"id":"KNT-4411","name":"PC Canary"}}}`

func TestSealFieldsKeepsFactsClearAndOpensBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	s := sealed.New(pool, sealed.NewKeyring(fileKEK(t)), clock.NewFake(t0))
	stored, err := s.SealFields(ctx, "inc-1", []byte(reported))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Canary", "9434765919", "ME4 4TR", "1994-03-02"} {
		if strings.Contains(string(stored), secret) {
			t.Errorf("sealed data holds %q: %s", secret, stored)
		}
	}
	for _, clear := range []string{`"person_id":"C-1"`, `"level":"high"`, `"present":true`, `"local_authority_code":"E06000035"`,
		`"voice_of_child":""`, `"yes_count":15`, `"name":"Medway MASH"`} {
		if !strings.Contains(string(stored), clear) {
			t.Errorf("sealed data lost the clear fact %s: %s", clear, stored)
		}
	}
	opened, shredded, err := s.OpenFields(ctx, "inc-1", stored)
	if err != nil || shredded {
		t.Fatalf("OpenFields: shredded %v, %v", shredded, err)
	}
	var want, got any
	_ = json.Unmarshal([]byte(reported), &want)
	_ = json.Unmarshal(opened, &got)
	if w, g := mustJSON(t, want), mustJSON(t, got); w != g {
		t.Errorf("opened data differs:\n got %s\nwant %s", g, w)
	}
	// A value moved to another place does not open.
	var m map[string]any
	_ = json.Unmarshal(stored, &m)
	inc := m["incident"].(map[string]any)
	inc["circumstances"] = inc["location"].(map[string]any)["description"]
	moved, _ := json.Marshal(m)
	if _, _, err := s.OpenFields(ctx, "inc-1", moved); err == nil {
		t.Error("a sealed value moved to another field opened")
	}

	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _, err := s.Shred(ctx, tx, "inc-1", t0); return err }); err != nil {
		t.Fatal(err)
	}
	after, shredded, err := s.OpenFields(ctx, "inc-1", stored)
	if err != nil || !shredded {
		t.Fatalf("OpenFields after shredding: shredded %v, %v", shredded, err)
	}
	removed, err := sealed.RemoveFields(stored)
	if err != nil || string(after) != string(removed) {
		t.Errorf("shredded data %s differs from the keyless removal %s (%v)", after, removed, err)
	}
	if !strings.Contains(string(after), `"voice_of_child":"[removed]"`) || !strings.Contains(string(after), `"voice_of_child":""`) {
		t.Errorf("removal changed whether a voice was recorded: %s", after)
	}
	// An event arriving after the shredding is kept with its personal
	// strings removed, and no new key is made for it.
	late, err := s.SealFields(ctx, "inc-1", []byte(reported))
	if err != nil || string(late) != string(removed) {
		t.Errorf("sealing after shredding: %s, %v; want %s", late, err, removed)
	}
	var keys int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM sealed.incident_keys WHERE incident_id = 'inc-1'`).Scan(&keys); err != nil || keys != 0 {
		t.Errorf("keys of the shredded incident after a late seal: %d, %v", keys, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSealEventKeepsStructuredDataAndOpensBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := sealed.New(newPool(t), sealed.NewKeyring(fileKEK(t)), clock.NewFake(t0))
	e, err := cloudevent.New(cloudevent.Spec{ID: "e-1", Type: events.IncidentReported, Source: events.SourceIntake,
		IncidentID: "inc-2", Time: t0, Data: json.RawMessage(reported)})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.SealEvent(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := stored.MarshalJSON()
	if strings.Contains(string(body), "9434765919") || !strings.Contains(string(body), `"data":{`) {
		t.Errorf("sealed event holds the NHS number or lost its structured data: %s", body)
	}
	opened, err := s.OpenEvent(ctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(e.Data(), &want)
	_ = json.Unmarshal(opened.Data(), &got)
	if w, g := mustJSON(t, want), mustJSON(t, got); w != g {
		t.Errorf("opened event data differs:\n got %s\nwant %s", g, w)
	}
}

// queryCounter counts the statements a pool runs.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestOpenFieldsOfAShreddedIncidentAsksOnce checks that opening a
// shredded incident's many sealed values costs the two lookups of the
// first (no key; shredded), not two per value.
func TestOpenFieldsOfAShreddedIncidentAsksOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.NewDatabase(t, "sealed", pgtest.WithPool(sealed.Migrate))
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := sealed.New(pool, sealed.NewKeyring(fileKEK(t)), clock.NewFake(t0))
	stored, err := s.SealFields(ctx, "inc-1", []byte(reported))
	if err != nil {
		t.Fatal(err)
	}
	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _, err := s.Shred(ctx, tx, "inc-1", t0); return err }); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(stored), "sealed:v1:"); n < 10 {
		t.Fatalf("the notice has %d sealed values; the test wants many", n)
	}
	before := counter.n.Load()
	opened, shredded, err := s.OpenFields(ctx, "inc-1", stored)
	if err != nil || !shredded || strings.Contains(string(opened), "sealed:v1:") {
		t.Fatalf("OpenFields after shredding: shredded %v, %v: %s", shredded, err, opened)
	}
	if asked := counter.n.Load() - before; asked != 2 {
		t.Errorf("opening a shredded incident's values ran %d queries, want 2", asked)
	}
}
