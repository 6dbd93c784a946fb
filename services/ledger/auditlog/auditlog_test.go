package auditlog_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/auditlogtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var start = time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC)

// triageEvent is a small valid event; the chain does not care what an
// event says, only that its bytes stay as written.
func triageEvent(t testing.TB, n int) cloudevent.Event {
	t.Helper()
	incident := fmt.Sprintf("0193a000-0000-7000-8000-%012d", n%3)
	at := start.Add(time.Duration(n) * time.Minute)
	e, err := cloudevent.New(cloudevent.Spec{
		ID: cloudevent.DeriveID("test", fmt.Sprint(n)), Type: events.TriageDecided, Source: events.SourceWorkspace,
		Subject: incident, IncidentID: incident, Actor: "user:mash-1", Time: at,
		Data: events.TriageDecidedData{IncidentID: incident, NotificationID: incident, RAG: events.RAGAmber,
			DefaultRAG: events.RAGAmber, Decision: events.DecisionEarlyHelp, DecidedAt: at,
			DecidedBy: events.Person{UserID: "mash-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fixture is a ledger of n entries in a database of its own, with a
// checkpointer writing into a folder of its own.
type fixture struct {
	t     *testing.T
	url   string
	pool  *pgxpool.Pool
	dir   string
	key   ed25519.PrivateKey
	clock *clock.Fake
	next  int
}

func newFixture(t *testing.T) *fixture {
	url, pool := auditlogtest.NewLedger(t)
	key, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "ledger.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, url: url, pool: pool, dir: filepath.Join(t.TempDir(), "checkpoints"), key: key,
		clock: clock.NewFake(start), next: 1}
}

// checkpointedFixture is a fixture whose ledger holds n entries, all
// covered by a checkpoint.
func checkpointedFixture(t *testing.T, n int) *fixture {
	t.Helper()
	f := newFixture(t)
	f.append(n)
	f.checkpoint()
	return f
}

func (f *fixture) append(n int) {
	f.t.Helper()
	for range n {
		auditlogtest.Append(f.t, f.pool, "sg.triage.decided", f.clock.Now(), triageEvent(f.t, f.next))
		f.next++
	}
}

func (f *fixture) checkpointer() *auditlog.Checkpointer {
	f.t.Helper()
	cp, err := auditlog.NewCheckpointer(f.pool, auditlog.CheckpointerConfig{Dir: f.dir, Key: f.key,
		Every: 100, Interval: time.Hour, Clock: f.clock}, zaptest.NewLogger(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	return cp
}

func (f *fixture) checkpoint() *auditlog.Checkpoint {
	f.t.Helper()
	f.clock.Advance(time.Minute)
	cp, err := f.checkpointer().Checkpoint(context.Background())
	if err != nil {
		f.t.Fatalf("checkpoint: %v", err)
	}
	return cp
}

func (f *fixture) verify() auditlog.Result {
	f.t.Helper()
	cps, err := auditlog.ReadCheckpoints(f.dir, f.key.Public().(ed25519.PublicKey))
	if err != nil {
		f.t.Fatalf("reading checkpoints: %v", err)
	}
	res, err := auditlog.VerifyDatabase(context.Background(), f.pool, auditlog.VerifyOptions{Checkpoints: cps})
	if err != nil {
		f.t.Fatalf("verify: %v", err)
	}
	return res
}

func (f *fixture) tamper(sql ...string) {
	f.t.Helper()
	auditlogtest.Tamper(f.t, f.url, func(ctx context.Context, conn *pgx.Conn) error {
		for _, s := range sql {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

const setHeadToLastEntry = `UPDATE ledger.head SET (seq, hash) =
	(SELECT seq, hash FROM ledger.entries ORDER BY seq DESC LIMIT 1)`

// TestVerifyNamesTheFirstBadEntry changes a ledger of ten checkpointed
// entries in each way F15 of the reliability plan lists, as a superuser
// could, and checks the verifier names exactly the first entry affected.
func TestVerifyNamesTheFirstBadEntry(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(f *fixture)
		wantSeq int64
	}{
		{"intact", func(*fixture) {}, 0},
		{"event updated", func(f *fixture) {
			f.tamper(`UPDATE ledger.entries SET event = convert_to(replace(convert_from(event, 'UTF8'), 'amber', 'green'), 'UTF8') WHERE seq = 4`)
		}, 4},
		{"hash updated", func(f *fixture) {
			f.tamper(`UPDATE ledger.entries SET hash = sha256(hash) WHERE seq = 6`)
		}, 6},
		{"incident column updated to hide an entry", func(f *fixture) {
			f.tamper(`UPDATE ledger.entries SET incident_id = 'elsewhere' WHERE seq = 5`)
		}, 5},
		{"row deleted", func(f *fixture) {
			f.tamper(`DELETE FROM ledger.entries WHERE seq = 4`)
		}, 4},
		{"row deleted and later rows renumbered", func(f *fixture) {
			f.tamper(`DELETE FROM ledger.entries WHERE seq = 4`,
				`UPDATE ledger.entries SET seq = -(seq - 1) WHERE seq > 4`,
				`UPDATE ledger.entries SET seq = -seq WHERE seq < 0`, setHeadToLastEntry)
		}, 4},
		{"two rows swapped", func(f *fixture) {
			f.tamper(`UPDATE ledger.entries SET seq = -1 WHERE seq = 3`,
				`UPDATE ledger.entries SET seq = 3 WHERE seq = 7`,
				`UPDATE ledger.entries SET seq = 7 WHERE seq = -1`)
		}, 3},
		{"tail truncated with the head moved back", func(f *fixture) {
			f.tamper(`DELETE FROM ledger.entries WHERE seq > 7`, setHeadToLastEntry)
		}, 8},
		{"tail truncated, head left alone", func(f *fixture) {
			f.tamper(`DELETE FROM ledger.entries WHERE seq > 9`)
		}, 10},
		{"everything truncated", func(f *fixture) {
			f.tamper(`TRUNCATE ledger.entries`, `UPDATE ledger.head SET seq = 0, hash = decode(repeat('00', 32), 'hex')`)
		}, 1},
		{"rewritten and every later hash recomputed", func(f *fixture) { rewriteFrom(f, 5) }, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := checkpointedFixture(t, 10)
			tc.tamper(f)
			res := f.verify()
			assertProblemAt(t, res, tc.wantSeq)
		})
	}
}

func assertProblemAt(t *testing.T, res auditlog.Result, want int64) {
	t.Helper()
	switch {
	case want == 0 && res.Problem != nil:
		t.Fatalf("verify found %v in an intact ledger", res.Problem)
	case want == 0:
		return
	case res.Problem == nil:
		t.Fatalf("verify found nothing; want entry %d named", want)
	case res.Problem.Seq != want:
		t.Fatalf("verify named entry %d (%s); want %d", res.Problem.Seq, res.Problem.Reason, want)
	}
}

// rewriteFrom changes entry seq and recomputes the hash of it and of every
// later entry and the head: the chain is whole again, and only the signed
// checkpoint can tell.
func rewriteFrom(f *fixture, seq int64) {
	f.t.Helper()
	auditlogtest.Tamper(f.t, f.url, func(ctx context.Context, conn *pgx.Conn) error {
		var entries []auditlog.Entry
		err := auditlog.ScanEntries(ctx, conn, 0, 0, func(e auditlog.Entry) error {
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return err
		}
		prev := auditlog.Genesis
		for _, e := range entries {
			if e.Seq == seq {
				e.Event = []byte(string(e.Event[:len(e.Event)-1]) + ` ,"rewritten":true}`)
			}
			e.PrevHash, e.Hash = prev, auditlog.ChainHash(prev, e.Seq, e.Event)
			prev = e.Hash
			if _, err := conn.Exec(ctx, `UPDATE ledger.entries SET event = $2, prev_hash = $3, hash = $4 WHERE seq = $1`,
				e.Seq, e.Event, e.PrevHash, e.Hash); err != nil {
				return err
			}
		}
		_, err = conn.Exec(ctx, setHeadToLastEntry)
		return err
	})
}

// TestVerifyCatchesARollback restores the ledger from a backup taken
// before the latest checkpoint: first as it was, then after the ledger has
// carried on appending new entries over the lost ones.
func TestVerifyCatchesARollback(t *testing.T) {
	cases := []struct {
		name        string
		appendAfter int
		wantSeq     int64
	}{
		{"restored from an older backup", 0, 7},
		{"restored, then appended to", 4, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := checkpointedFixture(t, 6)
			f.tamper(`CREATE TABLE ledger.backup_entries AS SELECT * FROM ledger.entries`,
				`CREATE TABLE ledger.backup_head AS SELECT * FROM ledger.head`)
			f.append(4)
			f.checkpoint()
			f.tamper(`TRUNCATE ledger.entries`, `INSERT INTO ledger.entries SELECT * FROM ledger.backup_entries`,
				`UPDATE ledger.head SET (seq, hash) = (SELECT seq, hash FROM ledger.backup_head)`)
			f.next += 100 // the events after a restore are new ones
			f.append(tc.appendAfter)
			assertProblemAt(t, f.verify(), tc.wantSeq)
		})
	}
}

// TestVerifyWithoutCheckpointsSeesOnlyTheChain shows why checkpoints are
// kept: without them a truncated ledger looks whole.
func TestVerifyWithoutCheckpointsSeesOnlyTheChain(t *testing.T) {
	f := newFixture(t)
	f.append(5)
	f.tamper(`DELETE FROM ledger.entries WHERE seq > 3`, setHeadToLastEntry)
	assertProblemAt(t, f.verify(), 0)
	f.tamper(`DELETE FROM ledger.entries WHERE seq = 2`)
	assertProblemAt(t, f.verify(), 2)
}

func TestVerifyReportsProgress(t *testing.T) {
	f := newFixture(t)
	f.append(5)
	var got [][2]int64
	_, err := auditlog.VerifyDatabase(context.Background(), f.pool, auditlog.VerifyOptions{ProgressEvery: 2,
		Progress: func(done, total int64) { got = append(got, [2]int64{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int64{{2, 5}, {4, 5}, {5, 5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("progress = %v, want %v", got, want)
	}
}
