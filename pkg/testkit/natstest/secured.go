package natstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
)

// RunSecured starts a JetStream server with Lantern's accounts, as make run
// and the test clusters run it: the configuration `lantern nats config`
// prints, loaded from a file, and every identity's credentials issued into
// CredsDir. Anonymous clients are refused.
func RunSecured(t testing.TB, opts ...Option) *Server {
	t.Helper()
	auth, err := natsauth.Open(filepath.Join(t.TempDir(), "nats-auth"))
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Issue(); err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: opts, storeDir: t.TempDir(), port: -1, auth: auth, storeKey: randomKey(t)}
	s.config = filepath.Join(t.TempDir(), "accounts.conf")
	s.WriteAccounts(t)
	s.start(t)
	t.Cleanup(s.Shutdown)
	return s
}

// WriteAccounts writes the authority's current server configuration (its
// account JWT with any revocations) for the next start or Reload.
func (s *Server) WriteAccounts(t testing.TB) {
	t.Helper()
	conf, err := s.auth.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

// InstallAccounts gives the running server the authority's current
// account JWT (with its revocations), as an operator's configuration
// reload does, and writes it for the next start.
func (s *Server) InstallAccounts(t testing.TB) {
	t.Helper()
	s.WriteAccounts(t)
	token, err := s.auth.AccountJWT()
	if err != nil {
		t.Fatal(err)
	}
	claims, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	srv := s.NATS()
	acc, err := srv.LookupAccount(s.auth.AccountPublicKey())
	if err != nil {
		t.Fatalf("natstest: looking up the Lantern account: %v", err)
	}
	srv.UpdateAccountClaims(acc, claims)
}

// Authority signs a secured server's identities; nil for RunServer's.
func (s *Server) Authority() *natsauth.Authority { return s.auth }

// CredsDir holds every identity's credentials file: LANTERN_NATS_CREDS_DIR.
func (s *Server) CredsDir() string { return s.auth.Dir() }

// ConnectAs connects as the named identity of a secured server, with its
// credentials and its own inbox prefix.
func (s *Server) ConnectAs(t testing.TB, name string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return s.Connect(t, append([]nats.Option{nats.UserCredentials(natsauth.CredsFile(s.CredsDir(), name)),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(name))}, opts...)...)
}
