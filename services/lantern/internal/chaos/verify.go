package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunCheck is what the checks found after a run whose pipeline settled:
// the fault suite's targets for losses, duplicates and the ledger, for
// tests outside the suite that run a workload through a fault of their own.
type RunCheck struct {
	Notices, Acked int
	Lost           Lost
	Duplicates     Duplicates
	Ledger         LedgerCheck
}

// Settle waits until everything accepted has gone all the way through:
// nothing unfinished in PostgreSQL and no consumer with anything waiting
// or unacknowledged. It returns the last reason to wait when timeout
// passes.
func (c *Checker) Settle(b Broker, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := c.settled(b)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not settled within %s: %w", timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *Checker) settled(b Broker) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := c.Unfinished(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d items of work outstanding in PostgreSQL", n)
	}
	return b.Idle(ctx)
}

// Check counts, for a settled run's submissions, what was lost and what
// was recorded twice, and verifies the ledger.
func (c *Checker) Check(ctx context.Context, subs []*Submission) (RunCheck, error) {
	v := RunCheck{Notices: len(subs)}
	for _, s := range subs {
		if s.Outcome == OK {
			v.Acked++
		}
	}
	var errs [3]error
	v.Lost, errs[0] = c.Lost(ctx, subs)
	v.Duplicates, errs[1] = c.DuplicateEffects(ctx)
	v.Ledger, errs[2] = c.VerifyLedger(ctx)
	return v, errors.Join(errs[:]...)
}

// Failures names every target the run missed: a notice never
// acknowledged, anything acknowledged lost, any effect recorded twice, a
// ledger that does not verify. Nil means every target was met.
func (v RunCheck) Failures() []string {
	var out []string
	add := func(n int64, what string) {
		if n != 0 {
			out = append(out, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(int64(v.Notices-v.Acked), "notices never acknowledged")
	add(int64(v.Lost.Total()), "acknowledged notices or deliveries lost")
	add(int64(v.Duplicates.Effects()), "duplicate effects")
	add(v.Ledger.Gaps, "ledger sequence gaps")
	add(v.Ledger.FirstBadSeq, "= first ledger entry failing verification")
	if !v.Ledger.HeadMatches {
		out = append(out, "the ledger head does not name the last entry")
	}
	return out
}

// String is the verdict in one line, for the test log.
func (v RunCheck) String() string {
	return fmt.Sprintf("%d notices, %d acknowledged (202); %d lost, %d duplicate effects; ledger %d entries, %d gaps, chain verified %t",
		v.Notices, v.Acked, v.Lost.Total(), v.Duplicates.Effects(), v.Ledger.Entries, v.Ledger.Gaps,
		v.Ledger.FirstBadSeq == 0 && v.Ledger.HeadMatches)
}

// LedgerSeq is the ledger's head sequence number: how many events the
// pipeline has recorded, for measuring its progress and throughput.
func (c *Checker) LedgerSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := c.Pool.QueryRow(ctx, `SELECT seq FROM ledger.head`).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}
