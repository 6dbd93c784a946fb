package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	_, pool := pgtest.NewPool(t, "sealed", pgtest.WithPool(sealed.Migrate))
	return pool
}

func fileKEK(t *testing.T) *sealed.FileKEK {
	t.Helper()
	k, err := sealed.CreateFileKEK(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestSealOpensOnlyForItsIncidentAndPurpose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := sealed.New(newPool(t), sealed.NewKeyring(fileKEK(t)), clock.NewFake(t0))
	secret := []byte(`{"name":"Canary Zebedee"}`)
	ct, err := s.Seal(ctx, "inc-1", "ppn", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("Zebedee")) {
		t.Fatalf("ciphertext holds the plaintext")
	}
	got, err := s.Open(ctx, "inc-1", "ppn", ct)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v; want %q", got, err, secret)
	}
	if _, err := s.Seal(ctx, "inc-2", "ppn", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ incident, purpose string }{{"inc-2", "ppn"}, {"inc-1", "notice"}} {
		if _, err := s.Open(ctx, tc.incident, tc.purpose, ct); !errors.Is(err, sealed.ErrCorrupt) {
			t.Errorf("Open(%s, %s) of inc-1's ppn: err %v, want ErrCorrupt", tc.incident, tc.purpose, err)
		}
	}
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	if _, err := s.Open(ctx, "inc-1", "ppn", tampered); !errors.Is(err, sealed.ErrCorrupt) {
		t.Errorf("Open of a tampered ciphertext: err %v, want ErrCorrupt", err)
	}
	text, err := s.SealText(ctx, "inc-1", "name", []byte("Amy"))
	if err != nil || !sealed.IsSealedText(text) {
		t.Fatalf("SealText = %q, %v", text, err)
	}
	if got, err := s.OpenText(ctx, "inc-1", "name", text); err != nil || string(got) != "Amy" {
		t.Errorf("OpenText = %q, %v", got, err)
	}
}

func TestTwoSealersShareOneKeyPerIncident(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	ring := sealed.NewKeyring(fileKEK(t))
	a := sealed.New(pool, ring, clock.NewFake(t0))
	b := sealed.New(pool, ring, clock.NewFake(t0))
	ct, err := a.Seal(ctx, "inc-1", "ppn", []byte("shared"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(ctx, "inc-1", "ppn", ct); err != nil || string(got) != "shared" {
		t.Fatalf("other sealer Open = %q, %v", got, err)
	}
	var keys int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM sealed.incident_keys`).Scan(&keys); err != nil || keys != 1 {
		t.Errorf("keys stored = %d, %v; want 1", keys, err)
	}
}

func TestShreddingDestroysTheKeyForGood(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	kek := fileKEK(t)
	clk := clock.NewFake(t0)
	s := sealed.New(pool, sealed.NewKeyring(kek), clk)
	other := sealed.New(pool, sealed.NewKeyring(kek), clk)
	ct, err := s.Seal(ctx, "inc-1", "ppn", []byte("Canary"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(ctx, "inc-1", "ppn", ct); err != nil {
		t.Fatal(err) // warms the other process's cache
	}
	shred := func() bool {
		var did bool
		if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			did, err = s.Shred(ctx, tx, "inc-1", clk.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return did
	}
	if !shred() {
		t.Fatal("first Shred reported it had been done already")
	}
	if shred() {
		t.Error("second Shred reported it shredded again")
	}
	if _, err := s.Open(ctx, "inc-1", "ppn", ct); !errors.Is(err, sealed.ErrShredded) {
		t.Errorf("Open after shredding: err %v, want ErrShredded", err)
	}
	if _, err := s.Seal(ctx, "inc-1", "ppn", []byte("new")); !errors.Is(err, sealed.ErrShredded) {
		t.Errorf("Seal after shredding: err %v, want ErrShredded (no fresh key)", err)
	}
	clk.Advance(time.Minute)
	if _, err := other.Open(ctx, "inc-1", "ppn", ct); !errors.Is(err, sealed.ErrShredded) {
		t.Errorf("another process's Open after its cache expired: err %v, want ErrShredded", err)
	}
	if done, err := s.Shredded(ctx, "inc-1"); err != nil || !done {
		t.Errorf("Shredded = %v, %v", done, err)
	}
}

func TestRotationRewrapsWhileServing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	oldKEK, newKEK := fileKEK(t), fileKEK(t)
	clk := clock.NewFake(t0)
	before := sealed.New(pool, sealed.NewKeyring(oldKEK), clk)
	sealedBefore := map[string][]byte{}
	for _, id := range []string{"inc-1", "inc-2", "inc-3"} {
		ct, err := before.Seal(ctx, id, "ppn", []byte("body of "+id))
		if err != nil {
			t.Fatal(err)
		}
		sealedBefore[id] = ct
	}
	// A backup taken before the rotation: its keys are wrapped by the old KEK.
	backup := dumpKeys(t, pool)

	// During the rotation services hold both KEKs: they keep opening and
	// sealing while the rows move.
	during := sealed.New(pool, sealed.NewKeyring(newKEK, oldKEK), clk)
	n, err := during.Rewrap(ctx, nil)
	if err != nil || n != 3 {
		t.Fatalf("Rewrap = %d, %v; want 3", n, err)
	}
	if counts, err := during.Counts(ctx); err != nil || counts[newKEK.ID()] != 3 || len(counts) != 1 {
		t.Errorf("Counts after rewrap = %v, %v; want all 3 under %s", counts, err, newKEK.ID())
	}
	if n, err := during.Rewrap(ctx, nil); err != nil || n != 0 {
		t.Errorf("second Rewrap = %d, %v; want 0", n, err)
	}

	// After it, the old KEK is retired; the live data still opens.
	after := sealed.New(pool, sealed.NewKeyring(newKEK), clk)
	for id, ct := range sealedBefore {
		if got, err := after.Open(ctx, id, "ppn", ct); err != nil || string(got) != "body of "+id {
			t.Errorf("Open(%s) after rotation = %q, %v", id, got, err)
		}
	}

	// The old backup opens only while its KEK exists.
	restored := newPool(t)
	restoreKeys(t, restored, backup)
	withOld := sealed.New(restored, sealed.NewKeyring(newKEK, oldKEK), clk)
	if _, err := withOld.Open(ctx, "inc-1", "ppn", sealedBefore["inc-1"]); err != nil {
		t.Errorf("backup with its KEK still held: %v", err)
	}
	withoutOld := sealed.New(restored, sealed.NewKeyring(newKEK), clk)
	if _, err := withoutOld.Open(ctx, "inc-1", "ppn", sealedBefore["inc-1"]); !errors.Is(err, sealed.ErrUnknownKEK) {
		t.Errorf("backup after its KEK was destroyed: err %v, want ErrUnknownKEK", err)
	}
}

type keyRow struct {
	id, kek string
	wrapped []byte
}

func dumpKeys(t *testing.T, pool *pgxpool.Pool) []keyRow {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT incident_id, kek_id, wrapped FROM sealed.incident_keys`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyRow, error) {
		var k keyRow
		return k, r.Scan(&k.id, &k.kek, &k.wrapped)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func restoreKeys(t *testing.T, pool *pgxpool.Pool, rows []keyRow) {
	t.Helper()
	for _, r := range rows {
		if _, err := pool.Exec(context.Background(),
			`INSERT INTO sealed.incident_keys (incident_id, kek_id, wrapped) VALUES ($1, $2, $3)`, r.id, r.kek, r.wrapped); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFileKEKKeepsItsKeyAcrossRestarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dir", "kek")
	first, err := sealed.CreateFileKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := sealed.CreateFileKEK(path)
	if err != nil || again.ID() != first.ID() {
		t.Fatalf("second CreateFileKEK id %v, %v; want %s", again, err, first.ID())
	}
	wrapped, err := first.Wrap(t.Context(), []byte("k"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Unwrap(t.Context(), wrapped, []byte("aad")); err != nil || string(got) != "k" {
		t.Errorf("Unwrap with the reloaded KEK = %q, %v", got, err)
	}
	if _, err := again.Unwrap(t.Context(), wrapped, []byte("other")); err == nil {
		t.Error("Unwrap with other additional data succeeded")
	}
}

// Every service of a development stack starts at once and creates the file
// KEK if it is missing: they must all end with the one key, none reading
// the file half written.
func TestFileKEKCreatedByManyProcessesAtOnceIsOneKey(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprint(round), "kek")
		ids := make([]string, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				k, err := sealed.CreateFileKEK(path)
				errs[i] = err
				if err == nil {
					ids[i] = k.ID()
				}
			})
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("round %d: creator %d got %q, %v; creator 0 got %q", round, i, ids[i], errs[i], ids[0])
			}
		}
	}
}

// TestAKeyMadeInABatchRolledBackIsNotUsedAgain: a batch of consumed
// messages (pgdb.Shared) that made an incident's key and was rolled back
// must leave no trace of the key, or the batch's next attempt would seal
// under a key that was never stored.
func TestAKeyMadeInABatchRolledBackIsNotUsedAgain(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ring := sealed.NewKeyring(fileKEK(t))
	s := sealed.New(pool, ring, clock.NewFake(t0))
	secret := []byte("Canary Zebedee")

	sh, err := pgdb.Begin(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	ctx := sh.Context(t.Context())
	first, err := s.In(sh.Tx()).Seal(ctx, "inc-batch", "ppn", secret)
	if err != nil {
		t.Fatal(err)
	}
	// A second seal in the same batch uses the key the batch made.
	again, err := s.In(sh.Tx()).Seal(ctx, "inc-batch", "ppn", secret)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.In(sh.Tx()).Open(ctx, "inc-batch", "ppn", again); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("opening in the batch = %q, %v", got, err)
	}
	sh.Rollback(t.Context())

	// The retry, in a transaction that commits.
	var retried []byte
	if err := pgdb.InTx(t.Context(), pool, func(tx pgx.Tx) error {
		retried, err = s.In(tx).Seal(t.Context(), "inc-batch", "ppn", secret)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fresh := sealed.New(pool, ring, clock.NewFake(t0))
	if got, err := fresh.Open(t.Context(), "inc-batch", "ppn", retried); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("opening the retry's ciphertext with the stored key = %q, %v: it was sealed under the rolled-back key", got, err)
	}
	if _, err := fresh.Open(t.Context(), "inc-batch", "ppn", first); err == nil {
		t.Error("the rolled-back batch's ciphertext opened: its key was stored")
	}
}

// TestAKeyMadeInATransactionRolledBackIsNotUsedAgain: a plain transaction
// (pgdb.InTx, as intake stores a notice) that made an incident's key and
// was rolled back must leave no trace of the key, or the next attempt
// would seal under a key that was never stored.
func TestAKeyMadeInATransactionRolledBackIsNotUsedAgain(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ring := sealed.NewKeyring(fileKEK(t))
	s := sealed.New(pool, ring, clock.NewFake(t0))
	secret := []byte("Canary Zebedee")
	refused := errors.New("refused after sealing")

	var first []byte
	err := pgdb.InTx(t.Context(), pool, func(tx pgx.Tx) error {
		in := s.In(tx)
		var err error
		if first, err = in.Seal(t.Context(), "inc-tx", "ppn", secret); err != nil {
			return err
		}
		// A second seal in the same transaction uses the key it made.
		again, err := in.Seal(t.Context(), "inc-tx", "ppn", secret)
		if err != nil {
			return err
		}
		if got, err := in.Open(t.Context(), "inc-tx", "ppn", again); err != nil || !bytes.Equal(got, secret) {
			t.Errorf("opening in the transaction = %q, %v", got, err)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("the transaction returned %v, want it refused", err)
	}

	var retried []byte
	if err := pgdb.InTx(t.Context(), pool, func(tx pgx.Tx) error {
		retried, err = s.In(tx).Seal(t.Context(), "inc-tx", "ppn", secret)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fresh := sealed.New(pool, ring, clock.NewFake(t0))
	if got, err := fresh.Open(t.Context(), "inc-tx", "ppn", retried); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("opening the retry's ciphertext with the stored key = %q, %v: it was sealed under the rolled-back key", got, err)
	}
	if _, err := fresh.Open(t.Context(), "inc-tx", "ppn", first); err == nil {
		t.Error("the rolled-back transaction's ciphertext opened: its key was stored")
	}
}
