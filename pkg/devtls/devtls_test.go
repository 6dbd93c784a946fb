package devtls_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/devtls"
)

func TestEnsureMakesACertificateTheAuthorityVouchesForAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f, err := devtls.Ensure(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	roots := x509.NewCertPool()
	ca, _ := os.ReadFile(f.CA)
	roots.AppendCertsFromPEM(ca)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("usage %v: %v", usage, err)
		}
	}
	if st, _ := os.Stat(f.Key); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
	again, err := devtls.Ensure(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(again.Cert); !bytes.Equal(second, mustRead(t, f.Cert)) {
		t.Error("a usable certificate was made again")
	}
	// Near expiry it is made afresh.
	before := mustRead(t, f.Cert)
	if _, err := devtls.Ensure(dir, now.Add(89*24*time.Hour+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(mustRead(t, f.Cert), before) {
		t.Error("an expiring certificate was kept")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
