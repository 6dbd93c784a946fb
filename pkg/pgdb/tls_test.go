package pgdb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/devtls"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
)

// TestVerifyFullChecksTheAuthorityAndTheName starts a PostgreSQL server
// with TLS whose certificate names localhost only, and requires
// sslmode=verify-full to connect with the right authority and host name,
// and to be refused at once, saying why, with another authority or a name
// the certificate does not carry. verify-ca accepting that name shows the
// refusal was the name's.
func TestVerifyFullChecksTheAuthorityAndTheName(t *testing.T) {
	now := time.Now()
	right, err := devtls.Make(t.TempDir(), now, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := devtls.Make(t.TempDir(), now, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pglocal.Start(t.Context(), pglocal.Options{TLS: &pglocal.TLS{CertFile: right.Cert, KeyFile: right.Key}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	url := func(host, mode, ca string) string {
		return fmt.Sprintf("postgres://postgres@%s:%d/postgres?sslmode=%s&sslrootcert=%s", host, srv.Port(), mode, ca)
	}
	t.Run("right authority and name", func(t *testing.T) {
		requireTLSConnection(t, url("localhost", "verify-full", right.CA))
	})
	t.Run("verify-ca ignores the name", func(t *testing.T) {
		requireTLSConnection(t, url("127.0.0.1", "verify-ca", right.CA))
	})
	for name, tc := range map[string]struct{ url, want string }{
		"another authority": {url("localhost", "verify-full", wrong.CA), "certificate signed by unknown authority"},
		"another name":      {url("127.0.0.1", "verify-full", right.CA), "cannot validate certificate for 127.0.0.1"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			pool, err := pgdb.Open(ctx, tc.url)
			if err == nil {
				pool.Close()
				t.Fatal("connected; want refused")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want it to say %q", err, tc.want)
			}
			if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Error("Open waited for its context to end instead of refusing at once")
			}
		})
	}
}

func requireTLSConnection(t *testing.T, url string) {
	t.Helper()
	pool, err := pgdb.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var ssl bool
	if err := pool.QueryRow(t.Context(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
		t.Fatal(err)
	}
	if !ssl {
		t.Error("connected without TLS")
	}
}
