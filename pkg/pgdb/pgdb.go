// Package pgdb opens Lantern's PostgreSQL pools, runs transactions and
// applies each service's embedded migrations. Every service owns one schema
// in a shared database and never writes to another service's schema.
package pgdb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects to url and waits, with backoff, until the server answers or
// ctx ends, so that services started alongside PostgreSQL do not fail on a
// race at boot. An answer that waiting cannot change (no such database, a
// refused login) is returned at once.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	cfg.MaxConnLifetime = 30 * time.Minute
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating pool: %w", err)
	}
	if err := waitReady(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func waitReady(ctx context.Context, pool *pgxpool.Pool) error {
	delay := 100 * time.Millisecond
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		if refusedForGood(err) {
			return fmt.Errorf("connecting to PostgreSQL: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for PostgreSQL: %w", errors.Join(err, ctx.Err()))
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// refusedForGood reports whether the server refused the connection for a
// reason that retrying will not cure: the database does not exist, the
// login or its password is wrong, or its certificate fails verification
// (sslmode=verify-full: another authority, or not the host's name).
func refusedForGood(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	if errors.As(err, &verifyErr) || errors.As(err, &hostErr) || errors.As(err, &authErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "3D000", "28000", "28P01":
		return true
	}
	return false
}

// InTx runs fn in a transaction and commits it if fn returns nil. The commit
// is the point at which an effect becomes durable: callers acknowledge
// messages or answer requests only after InTx returns nil, and fn defers
// whatever must wait for the commit with OnCommit.
//
// When ctx carries a Shared transaction begun on pool (a batch of consumed
// messages), fn runs in it and nothing is committed yet: the batch commits
// once all its handlers have run, and a function that fails spoils the
// whole batch, which its consumer then applies again in smaller parts.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	if s := joined(ctx, pool); s != nil {
		s.wrote = true
		return fn(s.tx)
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	st := track(tx)
	err = fn(tx)
	untrack(tx, st)
	if err != nil {
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			return fmt.Errorf("rolling back: %w (after %w)", rbErr, err)
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	st.committed()
	return nil
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation,
// the signal that an idempotent insert met its earlier twin.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
