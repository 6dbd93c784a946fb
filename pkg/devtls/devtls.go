// Package devtls makes a development certificate authority and a
// certificate signed by it for the loopback addresses, so that make run and
// the test clusters can run the broker with TLS (`tls://` and
// LANTERN_NATS_CA) the way a deployment with a real authority does. The
// certificate serves both sides of a TLS connection, so the same files
// secure clients and cluster routes, which verify each other. Make issues
// one for chosen names, as the PostgreSQL verify-full test needs.
package devtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files is where a development authority and its certificate are kept.
type Files struct {
	CA, Cert, Key string
}

// In names the files in dir.
func In(dir string) Files {
	return Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem")}
}

// validFor is how long the development certificates last; they are made
// again when they expire.
const validFor = 90 * 24 * time.Hour

// Ensure makes the authority and certificate in dir unless a usable pair is
// already there, and returns where they are.
func Ensure(dir string, now time.Time) (Files, error) {
	f := In(dir)
	if f.usable(now) {
		return f, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, err
	}
	return f, f.make(now, loopback)
}

// loopback are the names the certificate of Ensure is valid for.
var loopback = []string{"localhost", "127.0.0.1", "::1"}

// Make makes a new authority and a certificate for hosts (names or IP
// addresses) in dir, replacing any there: for tests that need a
// certificate valid for some names and not others, or a second authority.
func Make(dir string, now time.Time, hosts ...string) (Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, err
	}
	f := In(dir)
	return f, f.make(now, hosts)
}

func (f Files) usable(now time.Time) bool {
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil || len(pair.Certificate) == 0 {
		return false
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || now.Add(24*time.Hour).After(leaf.NotAfter) {
		return false
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(f.CA)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		return false
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

func (f Files) make(now time.Time, hosts []string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "Lantern development CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validFor), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLenZero: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "lantern-dev"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validFor), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return errors.Join(
		writePEM(f.CA, "CERTIFICATE", caDER, 0o644),
		writePEM(f.Cert, "CERTIFICATE", der, 0o644),
		writePEM(f.Key, "EC PRIVATE KEY", keyDER, 0o600))
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ServerConfig is the nats-server configuration that serves clients over
// TLS 1.2 or later with f's certificate. Clients prove who they are with
// their credentials (JWT), not a certificate.
func (f Files) ServerConfig() string {
	return fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  timeout: 5\n}\n", f.Cert, f.Key, f.CA)
}

// RouteConfig is the tls block of a cluster's routes: each server presents
// f's certificate and verifies its peer's against the authority, which is
// how routes authenticate each other.
func (f Files) RouteConfig() string {
	return fmt.Sprintf("  tls {\n    cert_file: %q\n    key_file: %q\n    ca_file: %q\n    verify: true\n    timeout: 5\n  }\n", f.Cert, f.Key, f.CA)
}
