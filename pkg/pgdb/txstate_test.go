package pgdb_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

// TestOnCommitRunsOnlyAfterACommit: a step registered in a transaction
// InTx or Begin began runs once it commits and never if it rolls back; a
// transaction begun elsewhere refuses it; each transaction's values are
// its own.
func TestOnCommitRunsOnlyAfterACommit(t *testing.T) {
	ctx := t.Context()
	_, pool := pgtest.NewPool(t, "empty", nil)
	type key struct{}
	ran := map[string]bool{}
	step := func(tx pgx.Tx, name string) error {
		if v := pgdb.TxValue(tx, key{}, func() any { return name }); v != name {
			t.Errorf("%s: the transaction's value is %v, another's", name, v)
		}
		if !pgdb.OnCommit(tx, func() { ran[name] = true }) {
			t.Errorf("%s: OnCommit refused a transaction InTx began", name)
		}
		if ran[name] {
			t.Errorf("%s: the step ran before the commit", name)
		}
		return nil
	}
	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { return step(tx, "committed") }); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _ = step(tx, "rolled back"); return refused }); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	sh, err := pgdb.Begin(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	_ = step(sh.Tx(), "shared")
	if err := sh.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !ran["committed"] || !ran["shared"] || ran["rolled back"] {
		t.Errorf("steps run: %v; want those of the committed transactions only", ran)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if pgdb.OnCommit(tx, func() {}) || pgdb.TxValue(tx, key{}, func() any { return 1 }) != nil {
		t.Error("a transaction begun on the pool directly took a step or a value it cannot see the end of")
	}
}
