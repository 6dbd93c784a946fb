package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// TestKeysRewrapWhileServing rotates the key-encryption key with `lantern
// keys rewrap` while a service keeps opening sealed values with both KEKs
// in its keyring: no read fails, every key moves, and afterwards the old
// KEK may be destroyed.
func TestKeysRewrapWhileServing(t *testing.T) {
	url := pgtest.NewDatabase(t, "cli-keys", pgtest.WithPool(sealed.Migrate, auditlog.Migrate))
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	dir := t.TempDir()
	oldSpec, newSpec := "file:"+filepath.Join(dir, "old"), "file:"+filepath.Join(dir, "new")
	oldKEK, err := sealed.ParseKEK(ctx, oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	newKEK, err := sealed.ParseKEK(ctx, newSpec)
	if err != nil {
		t.Fatal(err)
	}
	before := sealed.New(pool, sealed.NewKeyring(oldKEK), clock.System)
	sealedValues := map[string][]byte{}
	for i := range 250 {
		id := fmt.Sprintf("inc-%03d", i)
		ct, err := before.Seal(ctx, id, "ppn", []byte("body of "+id))
		if err != nil {
			t.Fatal(err)
		}
		sealedValues[id] = ct
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("LANTERN_KEK", newSpec)
	t.Setenv("LANTERN_KEK_PREVIOUS", oldSpec)

	// A service mid-rotation holds both KEKs and keeps reading.
	serving := sealed.New(pool, sealed.NewKeyring(newKEK, oldKEK), clock.NewFake(t0))
	var stop atomic.Bool
	var failures atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			for id, ct := range sealedValues {
				serving.Forget(id)
				if _, err := serving.Open(ctx, id, "ppn", ct); err != nil {
					failures.Add(1)
				}
			}
		}
	})
	code, out, errOut := run(t, "keys", "rewrap")
	stop.Store(true)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "250 data keys rewrapped under "+newKEK.ID()) {
		t.Fatalf("keys rewrap = %d\n%s%s", code, out, errOut)
	}
	if n := failures.Load(); n != 0 {
		t.Errorf("%d reads failed during the rotation", n)
	}
	code, out, _ = run(t, "keys", "status")
	if code != 0 || strings.TrimSpace(out) != newKEK.ID()+"\t250" {
		t.Errorf("keys status after the rotation = %d %q, want every key under the new KEK", code, out)
	}
	after := sealed.New(pool, sealed.NewKeyring(newKEK), clock.System)
	for id, ct := range sealedValues {
		if got, err := after.Open(ctx, id, "ppn", ct); err != nil || string(got) != "body of "+id {
			t.Fatalf("Open(%s) with only the new KEK = %q, %v", id, got, err)
		}
	}
}
