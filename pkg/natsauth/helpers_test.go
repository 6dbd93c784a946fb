package natsauth_test

import (
	"os"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func jwtFrom(creds []byte) (string, error)          { return jwt.ParseDecoratedJWT(creds) }
func nkeysFrom(creds []byte) (nkeys.KeyPair, error) { return jwt.ParseDecoratedUserNKey(creds) }

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
