package pgdb

import (
	"sync"

	"github.com/jackc/pgx/v5"
)

// txState is what a transaction begun by InTx or Begin keeps while it is
// open: the steps to run once it has committed, and values kept for it
// alone. It is found from the transaction's connection, which every
// wrapper of a pgx.Tx still reaches, and is used by one goroutine at a
// time, as the transaction is.
type txState struct {
	after  []func()
	values map[any]any
}

// open maps the connection of each transaction begun here to its state.
var open sync.Map // *pgx.Conn -> *txState

func track(tx pgx.Tx) *txState {
	st := &txState{values: map[any]any{}}
	open.Store(tx.Conn(), st)
	return st
}

// untrack forgets tx's state. It is called before the commit or rollback,
// which hand the connection back to the pool for another transaction.
func untrack(tx pgx.Tx, st *txState) { open.CompareAndDelete(tx.Conn(), st) }

func stateOf(tx pgx.Tx) *txState {
	st, _ := open.Load(tx.Conn())
	s, _ := st.(*txState)
	return s
}

// committed runs the steps waiting for the commit, once.
func (st *txState) committed() {
	after := st.after
	st.after = nil
	for _, fn := range after {
		fn()
	}
}

// OnCommit runs fn once tx, begun by InTx or Begin, has committed, and
// never if it rolls back. It reports false, and never runs fn, for a
// transaction begun elsewhere, whose end it cannot see: what the caller
// would announce or cache (a data key made in tx) must then not be.
func OnCommit(tx pgx.Tx, fn func()) bool {
	st := stateOf(tx)
	if st == nil {
		return false
	}
	st.after = append(st.after, fn)
	return true
}

// TxValue returns tx's value under key, made by create the first time it
// is asked for: state kept for the transaction alone, gone with it. It
// returns nil for a transaction not begun by InTx or Begin.
func TxValue(tx pgx.Tx, key any, create func() any) any {
	st := stateOf(tx)
	if st == nil {
		return nil
	}
	if v, ok := st.values[key]; ok {
		return v
	}
	v := create()
	st.values[key] = v
	return v
}
