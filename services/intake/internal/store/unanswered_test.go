package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func TestUnansweredTellsAnOpenCommitFromARefusal(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connection lost mid-commit", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF), true},
		{"server shutting down", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{"crash of another backend", &pgconn.PgError{Severity: "FATAL", Code: "57P02"}, true},
		{"connection failure reported by the server", &pgconn.PgError{Severity: "ERROR", Code: "08006"}, true},
		{"connection closed before the commit, as pgconn reports it", fmt.Errorf("committing: %w", closedConn(t)), true},
		{"unique violation", &pgconn.PgError{Severity: "ERROR", Code: "23505"}, false},
		{"serialization failure", &pgconn.PgError{Severity: "ERROR", Code: "40001"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := unanswered(c.err); got != c.want {
				t.Errorf("unanswered(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
	if unanswered(errors.New("plain")) != true {
		t.Error("an error of unknown origin after the statements succeeded must leave the outcome open")
	}
}

// closedConn returns the error pgconn gives for a statement on a connection
// it has already closed: the error it counts as safe to retry.
func closedConn(t *testing.T) error {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { _ = server.Close() })
	config, err := pgconn.ParseConfig("postgres://lantern@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgconn.Construct(&pgconn.HijackedConn{Conn: client, TxStatus: 'T',
		Frontend: pgproto3.NewFrontend(client, client), Config: config})
	if err != nil {
		t.Fatal(err)
	}
	_ = server.Close()
	_ = conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), "commit").ReadAll()
	if err == nil || !pgconn.SafeToRetry(err) {
		t.Fatalf("want pgconn's safe-to-retry error for a closed connection, got %v", err)
	}
	return err
}
