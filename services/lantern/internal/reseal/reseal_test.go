package reseal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	deliverymig "github.com/lantern-safeguarding/lantern/services/delivery/migrations"
	intakemig "github.com/lantern-safeguarding/lantern/services/intake/migrations"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/reseal"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	routermig "github.com/lantern-safeguarding/lantern/services/router/migrations"
	workspacemig "github.com/lantern-safeguarding/lantern/services/workspace/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	incA, incB, gone = "0193a000-0000-7000-8000-00000000000a", "0193a000-0000-7000-8000-00000000000b", "0193a000-0000-7000-8000-00000000000c"
	noticeA, noticeB = "0193a000-0000-7000-8000-0000000000a1", "0193a000-0000-7000-8000-0000000000b1"
)

// doc is a plaintext document as a deployment before sealing stored it.
func doc(tag string) string {
	return fmt.Sprintf(`{"incident_id":"x","recipient":{"kind":"mash","id":"E06000035","name":"Medway MASH"},
		"children":[{"person_id":"C-1","name":"Canary %[1]s Amy","date_of_birth":"2019-05-01","nhs_number":"94347659%[1]s","voice_of_child":""}],
		"circumstances":"Canary %[1]s narrative","dash":{"yes_count":15}}`, tag)
}

var canaries = []string{"Canary", "9434765919", "9434765920", "2019-05-01"}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	for _, m := range []func() error{
		func() error { return sealed.Migrate(ctx, pool) },
		func() error { return pgdb.Migrate(ctx, pool, "intake", intakemig.FS) },
		func() error { return pgdb.Migrate(ctx, pool, "router", routermig.FS) },
		func() error { return pgdb.Migrate(ctx, pool, "delivery", deliverymig.FS) },
		func() error { return pgdb.Migrate(ctx, pool, "workspace", workspacemig.FS) },
		func() error { return auditlog.Migrate(ctx, pool) },
	} {
		if err := m(); err != nil {
			return err
		}
	}
	for _, schema := range []string{"intake", "router", "delivery", "workspace"} {
		if err := outbox.New(schema).Migrate(ctx, pool); err != nil {
			return err
		}
	}
	return nil
}

// TestResealSealsEveryPlaintextValueOnce writes rows as the plaintext
// version did, in every table that holds personal data, beside rows
// already sealed and an incident already shredded; reseal leaves no
// canary string readable in any of them, every value opens back to what
// was written (the people index matches by keyed hash), sealed rows stay
// as they were, the shredded incident's strings read as removed, and a
// second run changes nothing.
func TestResealSealsEveryPlaintextValueOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "reseal", pgtest.WithPool(migrate))
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := sealedtest.New(t, pool)
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _, err := s.Shred(ctx, tx, gone, at); return err }); err != nil {
		t.Fatal(err)
	}
	sealedB, err := s.SealFields(ctx, incB, []byte(doc("20")))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, pool, `INSERT INTO intake.incidents (incident_id, force_code, police_reference, content_hash, ppn, received_at)
		VALUES ($1, 'KENT', 'KNT-1', 'h', $2::jsonb, $3)`, incA, doc("19"), at)
	exec(t, pool, `INSERT INTO router.cases (incident_id, occurred_at, received_at, local_authority_code, default_rag, incident, policy_version, recorded_at)
		VALUES ($1, $3, $3, 'E06000035', 'red', $2::jsonb, 'v1', $3), ($4, $3, $3, 'E06000035', 'red', $5::jsonb, 'v1', $3),
		       ($6, $3, $3, 'E06000035', 'red', $7::jsonb, 'v1', $3)`, incA, doc("19"), at, incB, string(sealedB), gone, doc("19"))
	exec(t, pool, `INSERT INTO delivery.inbox (notification_id, incident_id, rule_id, policy_version, recipient_kind, recipient_id,
		recipient_name, child_ids, profile, calendar, lawful_basis, due_at, requested_at, delivered_at, request)
		VALUES ($1, $2, 'R1', 'v1', 'mash', 'E06000035', 'Medway MASH', '{C-1}', 'A', 'working', 'basis', $3, $3, $3, $4::jsonb)`,
		noticeA, incA, at, doc("19"))
	exec(t, pool, `INSERT INTO workspace.notices (notification_id, incident_id, rule_id, policy_version, recipient_kind, recipient_id,
		recipient_name, child_ids, profile, calendar, lawful_basis, purpose, repeat, flags, notice, occurred_at, requested_at, due_at)
		VALUES ($1, $2, 'R1', 'v1', 'mash', 'E06000035', 'Medway MASH', '{C-1}', 'A', 'working', 'basis', 'triage', false, '{}', $3::jsonb, $4, $4, $4),
		       ($5, $6, 'R1', 'v1', 'mash', 'E06000035', 'Medway MASH', '{C-1}', 'A', 'working', 'basis', 'triage', false, '{}', $7::jsonb, $4, $4, $4)`,
		noticeA, incA, doc("19"), at, noticeB, incB, string(sealedB))
	matchKey := []byte("a match key of some length")
	exec(t, pool, `INSERT INTO workspace.mash_people (notification_id, incident_id, recipient_id, person_id, name_key, date_of_birth, nhs_number, occurred_at)
		VALUES ($1, $2, 'E06000035', 'C-1', 'canary amy', '2019-05-01', '9434765919', $3)`, noticeA, incA, at)
	e, err := cloudevent.New(cloudevent.Spec{ID: "e-1", Type: events.IncidentReported, Source: events.SourceIntake,
		Subject: incA, IncidentID: incA, Time: at, Data: json.RawMessage(doc("19"))})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := e.MarshalJSON()
	exec(t, pool, `INSERT INTO intake.outbox (event_id, subject, event) VALUES ('e-1', 'sg.incident.reported', $1)`, body)
	exec(t, pool, `INSERT INTO ledger.entries (seq, event_id, event_type, nats_subject, incident_id, source, event_time, recorded_at, event, prev_hash, hash)
		VALUES (1, 'e-1', $1, 'sg.incident.reported', $2, 'intake', $3, $3, $4, '\x00', '\x00')`, string(events.IncidentReported), incA, at, body)

	before := dump(t, pool, "router.cases WHERE incident_id = '"+incB+"'")
	tables, err := reseal.Run(ctx, pool, reseal.Options{Sealer: s, MatchKey: matchKey})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"intake.incidents": 1, "router.cases": 2, "delivery.inbox": 1, "workspace.notices": 1,
		"workspace.mash_people": 1, "intake.outbox": 1, "router.outbox": 0, "delivery.outbox": 0, "workspace.outbox": 0}
	for _, tb := range tables {
		if tb.Skipped != "" || tb.Changed != want[tb.Name] {
			t.Errorf("%s: %+v, want %d resealed", tb.Name, tb, want[tb.Name])
		}
	}
	if len(tables) != len(want) {
		t.Errorf("tables resealed: %+v, want %d", tables, len(want))
	}
	for _, table := range []string{"intake.incidents", "router.cases", "delivery.inbox", "workspace.notices", "workspace.mash_people", "intake.outbox"} {
		text := dump(t, pool, table)
		for _, c := range canaries {
			if strings.Contains(text, c) {
				t.Errorf("%s still holds %q after reseal", table, c)
			}
		}
	}
	if after := dump(t, pool, "router.cases WHERE incident_id = '"+incB+"'"); after != before {
		t.Errorf("a row already sealed was rewritten:\n%s\n%s", before, after)
	}

	var ppn []byte
	if err := pool.QueryRow(ctx, `SELECT ppn_sealed FROM intake.incidents WHERE incident_id = $1`, incA).Scan(&ppn); err != nil {
		t.Fatal(err)
	}
	if plain, err := s.Open(ctx, incA, "intake.ppn", ppn); err != nil || !strings.Contains(string(plain), "Canary 19 narrative") {
		t.Errorf("intake's notice opens to %s, %v", plain, err)
	}
	for _, q := range []struct{ sql, id string }{
		{`SELECT incident::text FROM router.cases WHERE incident_id = $1`, incA},
		{`SELECT request::text FROM delivery.inbox WHERE incident_id = $1`, incA},
		{`SELECT notice::text FROM workspace.notices WHERE incident_id = $1`, incA},
	} {
		var stored string
		if err := pool.QueryRow(ctx, q.sql, q.id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		opened, _, err := s.OpenFields(ctx, q.id, []byte(stored))
		if err != nil || !strings.Contains(string(opened), `"nhs_number":"9434765919"`) || !strings.Contains(string(opened), `"name":"Canary 19 Amy"`) {
			t.Errorf("%s opens to %s, %v", q.sql, opened, err)
		}
	}
	var shredded string
	if err := pool.QueryRow(ctx, `SELECT incident::text FROM router.cases WHERE incident_id = $1`, gone).Scan(&shredded); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(shredded, "sealed:v1:") || !strings.Contains(shredded, `"circumstances": "[removed]"`) {
		t.Errorf("the shredded incident's case reads %s; want its strings removed", shredded)
	}
	var name, dob, nhs string
	if err := pool.QueryRow(ctx, `SELECT name_key, date_of_birth, nhs_number FROM workspace.mash_people`).Scan(&name, &dob, &nhs); err != nil {
		t.Fatal(err)
	}
	if name != sealed.MatchHash(matchKey, "name", "canary amy") || dob != sealed.MatchHash(matchKey, "date_of_birth", "2019-05-01") ||
		nhs != sealed.MatchHash(matchKey, "nhs_number", "9434765919") {
		t.Errorf("the people index holds %s %s %s, not the keyed hashes the workspace matches by", name, dob, nhs)
	}
	var outBody []byte
	if err := pool.QueryRow(ctx, `SELECT event FROM intake.outbox`).Scan(&outBody); err != nil {
		t.Fatal(err)
	}
	oe := event.New()
	if err := oe.UnmarshalJSON(outBody); err != nil {
		t.Fatal(err)
	}
	if opened, err := s.OpenEvent(ctx, oe); err != nil || !strings.Contains(string(opened.Data()), "Canary 19 narrative") {
		t.Errorf("the outbox body opens to %s, %v", opened.Data(), err)
	}

	again, err := reseal.Run(ctx, pool, reseal.Options{Sealer: s, MatchKey: matchKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range again {
		if tb.Changed != 0 {
			t.Errorf("second run rewrote %d rows of %s", tb.Changed, tb.Name)
		}
	}
	if n, err := reseal.Plain(ctx, pool, nil); err != nil || n != 1 {
		t.Errorf("ledger entries holding plaintext = %d, %v; want the one written before sealing", n, err)
	}
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dump is every row of table (or "table WHERE …") as text.
func dump(t *testing.T, pool *pgxpool.Pool, from string) string {
	t.Helper()
	table, _, _ := strings.Cut(from, " ")
	alias := table[strings.Index(table, ".")+1:]
	rows, err := pool.Query(context.Background(), `SELECT `+alias+`::text FROM `+from)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		b.WriteString(s + "\n")
	}
	return b.String()
}
