package store

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
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
