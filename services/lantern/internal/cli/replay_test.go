package cli_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/auditlogtest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// ledgerHandler is the ledger service's handler: append each event once and
// refresh its incident's projections in the same transaction.
func ledgerHandler(pool *pgxpool.Pool) bus.Handler {
	return func(ctx context.Context, e cloudevent.Event) error {
		if cloudevent.IncidentID(e) == "" {
			return bus.Permanent(errors.New("no incident id"))
		}
		entry, err := auditlog.EntryOf(e, bus.MsgSubject(ctx), e.Time())
		if err != nil {
			return err
		}
		return pgdb.InTx(ctx, pool, func(tx pgx.Tx) error {
			_, _, err := projection.AppendAndProject(ctx, tx, entry)
			return err
		})
	}
}

// livePipeline publishes simulated incidents to a real JetStream server and
// records them through the ledger's consumer into the live database, with
// a repeated event and an unreadable message thrown in. It returns the
// live database's URL once the ledger has caught up.
func livePipeline(t *testing.T) string {
	ns := natstest.RunServer(t)
	nc := ns.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	url, pool := pt.NewDatabase(t)
	done := make(chan error, 1)
	go func() {
		done <- bus.Consume(ctx, js, bus.ConsumerSpec{Durable: "ledger", Subjects: []string{bus.EventsSubjects}},
			ledgerHandler(pool), zaptest.NewLogger(t))
	}()
	t.Cleanup(func() { cancel(); <-done })
	pubs := pt.All(pt.Simulate(t, 25, t0, 11))
	publish(t, ctx, js, pubs)
	natstest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		head, err := auditlog.ReadHead(ctx, pool)
		if err == nil && head.Seq != int64(len(pubs)) {
			err = errors.New("the ledger has not caught up")
		}
		return err
	})
	t.Setenv("DATABASE_URL", url)
	t.Setenv("NATS_URL", ns.URL())
	return url
}

func publish(t *testing.T, ctx context.Context, js jetstream.JetStream, pubs []pt.Published) {
	t.Helper()
	p := bus.NewPublisher(js)
	for _, pub := range pubs {
		if _, err := p.Publish(ctx, pub.Event, pub.Subject); err != nil {
			t.Fatal(err)
		}
	}
	// The same event again under another message id, as a relay
	// re-publishing after the duplicate window would, and a message that
	// is no CloudEvent at all.
	again, err := cloudevent.ToMsg(pubs[3].Event, pubs[3].Subject)
	if err != nil {
		t.Fatal(err)
	}
	again.Header.Set(nats.MsgIdHdr, "republished")
	junk := &nats.Msg{Subject: "sg.incident.reported", Header: nats.Header{}, Data: []byte("not an event")}
	for _, m := range []*nats.Msg{again, junk} {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func emptyDatabase(t *testing.T) string { return pgtest.NewDatabase(t, "empty", nil) }

func TestAuditReplayMatchesTheLiveProjections(t *testing.T) {
	live := livePipeline(t)
	code, digestOut, errOut := run(t, "audit", "digest")
	if code != 0 {
		t.Fatalf("digest: exit %d: %s", code, errOut)
	}
	for _, from := range []string{"stream", "ledger"} {
		t.Run(from, func(t *testing.T) {
			code, out, errOut := run(t, "audit", "replay", "--from", from, "--target-database-url", emptyDatabase(t))
			if code != 0 || !strings.Contains(out, "The replay matches the live projections") {
				t.Fatalf("exit %d; output:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "ETA") {
				t.Errorf("no progress bar on stderr: %q", errOut)
			}
			total := strings.Fields(digestOut[strings.Index(digestOut, "total"):])[1]
			if !strings.Contains(out, total) {
				t.Errorf("replay output lacks the live digest's total %s:\n%s", total, out)
			}
		})
	}
	t.Run("after the live projections were altered", func(t *testing.T) {
		auditTamper(t, live, `UPDATE audit.notifications SET outcome = 'met' WHERE outcome = 'late'`)
		code, out, _ := run(t, "audit", "replay", "--from", "stream", "--target-database-url", emptyDatabase(t))
		if code != 1 || !strings.Contains(out, "differs from the live projections in: notifications") {
			t.Errorf("exit %d; want 1 naming notifications; output:\n%s", code, out)
		}
	})
}

func TestAuditReplayRefusesADatabaseThatIsNotEmpty(t *testing.T) {
	url, _ := pt.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	code, _, errOut := run(t, "audit", "replay", "--from", "ledger", "--target-database-url", url)
	if code != 1 || !strings.Contains(errOut, "replay needs an empty database") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func auditTamper(t *testing.T, url, sql string) {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tag, err := pool.Exec(context.Background(), sql)
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("%s: %v (%d rows)", sql, err, tag.RowsAffected())
	}
}

func TestAuditReplayOfATamperedLedgerNamesTheFirstBadEntry(t *testing.T) {
	url := verifyFixture(t)
	auditlogtest.Tamper(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `UPDATE ledger.entries SET event = convert_to(replace(convert_from(event, 'UTF8'), 'R8', 'R9'), 'UTF8') WHERE seq = 3`)
		return err
	})
	code, out, errOut := run(t, "audit", "replay", "--from", "ledger", "--target-database-url", emptyDatabase(t))
	if code != 1 || !strings.Contains(out, "The ledger fails verification at entry 3") ||
		!strings.Contains(errOut, "first bad entry 3") || strings.Contains(out, "Replayed") {
		t.Errorf("exit %d; want 1, entry 3 named and nothing replayed; output:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, _ = run(t, "audit", "replay", "--from", "ledger", "--ignore-verification", "--target-database-url", emptyDatabase(t))
	if code != 1 || !strings.Contains(out, "fails verification at entry 3") || !strings.Contains(out, "Replaying it anyway") ||
		!strings.Contains(out, "differs from the live projections in") {
		t.Errorf("replay anyway: exit %d; output:\n%s", code, out)
	}
}
