// Package policeauth checks the bearer tokens that police forces use on the
// intake API. Only SHA-256 hashes of tokens are configured, so a leaked
// configuration does not leak a credential.
package policeauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// AnyForce is the force of a credential that may act for every force, such
// as the development credential of `make run`.
const AnyForce = "*"

// Tokens maps the hex SHA-256 of each bearer token to the force it may act
// for.
type Tokens map[string]string

// Parse reads FORCE=sha256hex pairs, comma separated.
func Parse(s string) (Tokens, error) {
	out := Tokens{}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("LANTERN_INTAKE_TOKENS is required: at least one FORCE=sha256hex pair")
	}
	for i, pair := range strings.Split(s, ",") {
		force, hash, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if _, err := hex.DecodeString(hash); !ok || force == "" || len(hash) != 64 || err != nil {
			return nil, fmt.Errorf("LANTERN_INTAKE_TOKENS entry %d: want FORCE=<64 hex chars of SHA-256>", i+1)
		}
		out[strings.ToLower(hash)] = force
	}
	return out, nil
}

// Hash returns the configured form of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the force the request's bearer token may act for.
func (t Tokens) Authenticate(r *http.Request) (Credential, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return Credential{}, false
	}
	got := Hash(token)
	for hash, force := range t {
		if subtle.ConstantTimeCompare([]byte(hash), []byte(got)) == 1 {
			return Credential{Force: force, ID: "police:" + hash[:12]}, true
		}
	}
	return Credential{}, false
}

// Credential is an authenticated police caller.
type Credential struct {
	Force string
	// ID names the credential in audit records without revealing it: a
	// prefix of its hash.
	ID string
}

// MayActFor reports whether the credential covers force.
func (c Credential) MayActFor(force string) bool { return c.Force == AnyForce || c.Force == force }

// Settings are the police credentials as configured, parsed once by
// Validate and kept.
type Settings struct {
	// Raw lists the credentials as FORCE=sha256hex pairs, comma separated;
	// FORCE may be * for a credential valid for every force. Only hashes
	// are configured, never the tokens themselves.
	Raw    string `env:"LANTERN_INTAKE_TOKENS"`
	tokens Tokens
}

// Validate parses the credentials and keeps them for Tokens.
func (s *Settings) Validate() error {
	t, err := Parse(s.Raw)
	s.tokens = t
	return err
}

// Tokens are the credentials Validate parsed.
func (s *Settings) Tokens() Tokens { return s.tokens }
