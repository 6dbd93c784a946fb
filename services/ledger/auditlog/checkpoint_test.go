package auditlog_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

func sampleCheckpoint() *auditlog.Checkpoint {
	h := func(b byte) []byte { return bytes.Repeat([]byte{b}, auditlog.HashSize) }
	return &auditlog.Checkpoint{Origin: auditlog.Origin, Seq: 3, Hash: h(3), Time: start, First: 2,
		Hashes: [][]byte{h(2), h(3)}}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	key, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "keys", "ledger.key"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestCheckpointRoundTrip(t *testing.T) {
	key := newKey(t)
	cp := sampleCheckpoint()
	signed, err := cp.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := auditlog.ParseCheckpoint(signed, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("ParseCheckpoint: %v", err)
	}
	if diff := cmp.Diff(cp, got); diff != "" {
		t.Errorf("parsed checkpoint (-signed +parsed):\n%s", diff)
	}
}

func TestParseCheckpointRefusesForgeries(t *testing.T) {
	key := newKey(t)
	signed, err := sampleCheckpoint().Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		pub  ed25519.PublicKey
	}{
		{"seq changed", bytes.Replace(signed, []byte("seq 3"), []byte("seq 4"), 1), key.Public().(ed25519.PublicKey)},
		{"a listed hash changed", bytes.Replace(signed, []byte("\n0202"), []byte("\n0303"), 1), key.Public().(ed25519.PublicKey)},
		{"signature removed", signed[:bytes.Index(signed, []byte("\nsignature"))+1], key.Public().(ed25519.PublicKey)},
		{"another key", signed, newKey(t).Public().(ed25519.PublicKey)},
		{"empty", nil, key.Public().(ed25519.PublicKey)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := auditlog.ParseCheckpoint(tc.data, tc.pub); !errors.Is(err, auditlog.ErrBadCheckpoint) {
				t.Errorf("ParseCheckpoint() = %v, want ErrBadCheckpoint", err)
			}
		})
	}
}

func TestSignRefusesInconsistentCheckpoints(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *auditlog.Checkpoint)
	}{
		{"too few hashes", func(c *auditlog.Checkpoint) { c.Hashes = c.Hashes[:1] }},
		{"last hash is not the hash", func(c *auditlog.Checkpoint) { c.Hash = c.Hashes[0] }},
		{"first after seq", func(c *auditlog.Checkpoint) { c.First = 4 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := sampleCheckpoint()
			tc.change(cp)
			if _, err := cp.Sign(newKey(t)); !errors.Is(err, auditlog.ErrBadCheckpoint) {
				t.Errorf("Sign() = %v, want ErrBadCheckpoint", err)
			}
		})
	}
}

func TestLoadOrCreateKeyKeepsOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.key")
	first, err := auditlog.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(auditlog.PublicKeyPath(path)); err != nil {
		t.Fatal(err)
	}
	again, err := auditlog.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(again) {
		t.Error("a second start made a new key")
	}
	pub, err := auditlog.LoadPublicKey(auditlog.PublicKeyPath(path))
	if err != nil {
		t.Fatalf("public key not rewritten: %v", err)
	}
	if !pub.Equal(first.Public()) {
		t.Error("the public key file does not hold the key's public half")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", st.Mode().Perm())
	}
}

func TestReadCheckpointsNamesAForgedFile(t *testing.T) {
	key := newKey(t)
	dir := t.TempDir()
	signed, err := sampleCheckpoint().Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	path, err := auditlog.WriteCheckpoint(dir, 3, bytes.Replace(signed, []byte("seq 3"), []byte("seq 9"), 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = auditlog.ReadCheckpoints(dir, key.Public().(ed25519.PublicKey))
	if !errors.Is(err, auditlog.ErrBadCheckpoint) || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Errorf("ReadCheckpoints() = %v, want ErrBadCheckpoint naming %s", err, path)
	}
}

// TestCheckpointerFollowsTheLedger checks that a checkpoint covers exactly
// the entries since the last one, that nothing is written when nothing was
// appended, and that a restarted checkpointer continues from the folder.
func TestCheckpointerFollowsTheLedger(t *testing.T) {
	f := newFixture(t)
	f.append(3)
	first := f.checkpoint()
	if first.First != 1 || first.Seq != 3 || len(first.Hashes) != 3 {
		t.Fatalf("first checkpoint covers %d..%d with %d hashes; want 1..3 with 3", first.First, first.Seq, len(first.Hashes))
	}
	if again := f.checkpoint(); again != nil {
		t.Errorf("a checkpoint with nothing new was written: seq %d", again.Seq)
	}
	f.append(2)
	second := f.checkpoint() // a new checkpointer, as after a restart
	if second.First != 4 || second.Seq != 5 {
		t.Errorf("second checkpoint covers %d..%d; want 4..5", second.First, second.Seq)
	}
	if !second.Time.Equal(f.clock.Now()) {
		t.Errorf("checkpoint time = %v, want the clock's %v", second.Time, f.clock.Now())
	}
}

// TestCheckpointerSignsALargeBacklogInSegments checks that entries
// appended in bulk since the last checkpoint are signed a segment at a
// time, each checkpoint following the one before, the last reaching the
// head, and that the ledger verifies against them all.
func TestCheckpointerSignsALargeBacklogInSegments(t *testing.T) {
	f := newFixture(t)
	f.append(7)
	cp, err := auditlog.NewCheckpointer(f.pool, auditlog.CheckpointerConfig{Dir: f.dir, Key: f.key,
		Every: 100, Interval: time.Hour, Segment: 3, Clock: f.clock}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	last, err := cp.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last == nil || last.First != 7 || last.Seq != 7 {
		t.Fatalf("the last checkpoint = %+v, want entry 7 alone, reaching the head", last)
	}
	cps, err := auditlog.ReadCheckpoints(f.dir, f.key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var spans []string
	for _, c := range cps {
		spans = append(spans, fmt.Sprintf("%d-%d", c.First, c.Seq))
	}
	if got, want := strings.Join(spans, " "), "1-3 4-6 7-7"; got != want {
		t.Errorf("checkpoints cover %s, want %s", got, want)
	}
	res := f.verify()
	if res.Problem != nil || res.Entries != 7 || res.Latest == nil || res.Latest.Seq != 7 {
		t.Errorf("verify against the segments = %d entries, latest %+v, problem %v; want 7, the last segment, none",
			res.Entries, res.Latest, res.Problem)
	}
}

// TestCheckpointerRefusesToSignABrokenLedger checks that once the ledger
// stops extending the last checkpoint nothing more is signed, so that a
// rollback cannot be laundered by a fresh checkpoint.
func TestCheckpointerRefusesToSignABrokenLedger(t *testing.T) {
	cases := []struct {
		name   string
		tamper string
	}{
		{"rolled back", `DELETE FROM ledger.entries WHERE seq > 2`},
		{"checkpointed entry changed", `UPDATE ledger.entries SET hash = sha256(hash) WHERE seq = 3`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := checkpointedFixture(t, 3)
			f.tamper(tc.tamper, setHeadToLastEntry)
			f.append(2)
			_, err := f.checkpointer().Checkpoint(context.Background())
			if !errors.Is(err, auditlog.ErrDiverged) {
				t.Errorf("Checkpoint() = %v, want ErrDiverged", err)
			}
		})
	}
}

// TestEntriesAreAppendOnly checks the triggers that stop a change made by
// mistake through an ordinary session.
func TestEntriesAreAppendOnly(t *testing.T) {
	f := newFixture(t)
	f.append(2)
	for _, sql := range []string{
		`UPDATE ledger.entries SET actor = 'x' WHERE seq = 1`,
		`DELETE FROM ledger.entries WHERE seq = 2`,
		`TRUNCATE ledger.entries`,
	} {
		if _, err := f.pool.Exec(context.Background(), sql); err == nil {
			t.Errorf("%s succeeded; want it refused", sql)
		}
	}
	assertProblemAt(t, f.verify(), 0)
}

func TestCheckpointerRunWritesWhenEveryIsReached(t *testing.T) {
	f := newFixture(t)
	cp, err := auditlog.NewCheckpointer(f.pool, auditlog.CheckpointerConfig{Dir: f.dir, Key: f.key,
		Every: 2, Interval: time.Hour, Clock: f.clock}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- cp.Run(ctx) }()
	f.append(2)
	cp.Appended(2)
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		_, err := os.Stat(filepath.Join(f.dir, auditlog.CheckpointFile(2)))
		return err
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
}

// FuzzParseCheckpoint feeds the parser damaged files: it must refuse them,
// never panic, and never accept one the key did not sign.
func FuzzParseCheckpoint(f *testing.F) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	signed, err := sampleCheckpoint().Sign(key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("lantern ledger checkpoint v1\n\nsignature ed25519 x y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := auditlog.ParseCheckpoint(data, key.Public().(ed25519.PublicKey))
		if err == nil && !bytes.Equal(data, signed) {
			if again, _ := cp.Sign(key); !bytes.Equal(again, data) {
				t.Errorf("accepted a file the key did not sign:\n%s", data)
			}
		}
	})
}
