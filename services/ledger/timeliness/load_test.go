package timeliness_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/ingest"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestLoadIsComputeOverTheRows records a random history that crosses both
// of 2026's clock changes and several month ends, with triage and receipt
// breaches besides the simulated ones, shreds some incidents and records
// late events for them, then asks for reports over random spans (some
// starting or ending on a clock-change day) at random moments, and wants
// Load's streamed report to equal Compute over every row LoadRange reads.
func TestLoadIsComputeOverTheRows(t *testing.T) {
	ctx := context.Background()
	_, pool := pt.NewDatabase(t)
	sealer := sealedtest.New(t, pool)
	app := ingest.New(pool, sealer, clock.System)
	r := rand.New(rand.NewPCG(13, 17))
	spring := time.Date(2026, 3, 28, 18, 0, 0, 0, time.UTC)
	autumn := time.Date(2026, 10, 24, 20, 0, 0, 0, time.UTC)
	monthEnd := time.Date(2026, 4, 30, 21, 0, 0, 0, time.UTC)
	var all []*pt.Incident
	for i, start := range []time.Time{spring, autumn, monthEnd} {
		incidents := pt.SimulateRange(t, 1+i*100, 60, start, time.Duration(7+r.IntN(20))*time.Minute, uint64(i+1))
		for n, in := range incidents {
			extraBreaches(in, r, 1+i*100+n)
		}
		all = append(all, incidents...)
	}
	record(t, app, pt.All(all))
	shredded := 0
	for _, in := range all {
		if r.IntN(6) != 0 {
			continue
		}
		id := cloudevent.IncidentID(in.Events()[0].Event)
		if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _, err := sealer.Shred(ctx, tx, id, spring); return err }); err != nil {
			t.Fatal(err)
		}
		shredded++
		// Late redeliveries of the shredded incident's first events.
		record(t, app, in.Events()[:2])
	}
	if shredded == 0 {
		t.Fatal("nothing was shredded: the test would prove less than it says")
	}

	days := []calendar.Date{
		calendar.DateOf(spring.In(calendar.London)), calendar.DateOf(spring.Add(30 * time.Hour).In(calendar.London)),
		calendar.DateOf(autumn.In(calendar.London)), calendar.DateOf(autumn.Add(30 * time.Hour).In(calendar.London)),
		calendar.DateOf(monthEnd.In(calendar.London)), calendar.DateOf(monthEnd.Add(5 * time.Hour).In(calendar.London)),
	}
	checked := 0
	for range 12 {
		from, to := days[r.IntN(len(days))], days[r.IntN(len(days))]
		if to.Before(from) {
			from, to = to, from
		}
		from, to = from.AddDays(-r.IntN(2)), to.AddDays(r.IntN(2))
		asOf := spring.Add(time.Duration(r.Int64N(int64(240 * 24 * time.Hour))))
		o := timeliness.Options{From: from, To: to, AsOf: asOf}
		rows, err := projection.LoadRange(ctx, pool, from.In(calendar.London), to.AddDays(1).In(calendar.London))
		if err != nil {
			t.Fatal(err)
		}
		want := timeliness.Compute(rows, o)
		got, err := timeliness.Load(ctx, pool, o)
		if err != nil {
			t.Fatal(err)
		}
		if w, g := encode(t, want), encode(t, got); w != g {
			t.Errorf("%s..%s as of %s: Load differs from Compute:\nwant %s\n got %s", from, to, asOf, w, g)
		}
		if want.Totals.Notifications > 0 && want.Totals.Breaches > 0 {
			checked++
		}
	}
	if checked < 4 {
		t.Fatalf("only %d of the reports had notices and breaches: the comparison proves little", checked)
	}
}

// extraBreaches adds, to some incidents, breaches the simulation does not
// make: a triage breach on the MASH notice (sometimes before, sometimes
// after its decision) and a receipt breach.
func extraBreaches(in *pt.Incident, r *rand.Rand, n int) {
	mash := pt.NotificationID(n, 1)
	at := in.Events()[0].Event.Time()
	switch r.IntN(5) {
	case 0:
		in.Breached(mash, events.StepTriage, at.Add(time.Duration(1+r.IntN(40))*time.Hour))
	case 1:
		in.Breached(mash, events.StepReceipt, at.Add(time.Duration(r.IntN(90))*time.Second))
	}
}

func record(t *testing.T, app *ingest.Appender, pubs []pt.Published) {
	t.Helper()
	batch := make([]ingest.Received, len(pubs))
	for i, p := range pubs {
		batch[i] = ingest.Received{Event: p.Event, Subject: p.Subject}
	}
	if _, err := app.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func encode(t *testing.T, rep timeliness.Report) string {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
