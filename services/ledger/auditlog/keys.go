package auditlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PublicKeyPath is where the public key of the signing key at keyPath is
// written: beside it, with ".pub" added.
func PublicKeyPath(keyPath string) string { return keyPath + ".pub" }

// LoadOrCreateKey reads the Ed25519 signing key at path (PKCS #8, PEM). If
// there is none it makes one, writes it readable by its owner only, and
// writes the public key beside it for auditors. The public key file is
// rewritten if it has gone missing.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	key, err := readPrivateKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(path)
	}
	if err != nil {
		return nil, err
	}
	pubPath := PublicKeyPath(path)
	if _, err := os.Stat(pubPath); errors.Is(err, fs.ErrNotExist) {
		if err := writePublicKey(pubPath, key.Public().(ed25519.PublicKey)); err != nil {
			return nil, err
		}
	}
	return key, nil
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeKey[ed25519.PrivateKey](data, "PRIVATE KEY", x509.ParsePKCS8PrivateKey, "ledger key "+path, "private key")
}

// decodeKey reads the PEM block of type blockType in data with parse, and
// requires an Ed25519 key K; name says whose key it is in errors, kind
// what key the block should hold.
func decodeKey[K ed25519.PrivateKey | ed25519.PublicKey](data []byte, blockType string, parse func([]byte) (any, error), name, kind string) (K, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != blockType {
		return nil, fmt.Errorf("reading %s: not a PEM %s", name, kind)
	}
	k, err := parse(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	key, ok := k.(K)
	if !ok {
		return nil, fmt.Errorf("reading %s: not an Ed25519 key", name)
	}
	return key, nil
}

func createKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ledger key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding ledger key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating folder for ledger key: %w", err)
	}
	// O_EXCL: two ledgers starting at once must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readPrivateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("creating ledger key %s: %w", path, err)
	}
	if err := writeAndSync(f, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("writing ledger key %s: %w", path, err)
	}
	return key, nil
}

func writePublicKey(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encoding ledger public key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("writing ledger public key: %w", err)
	}
	return nil
}

// LoadPublicKey reads an Ed25519 public key (PKIX, PEM).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading ledger public key: %w", err)
	}
	return decodeKey[ed25519.PublicKey](data, "PUBLIC KEY", x509.ParsePKIXPublicKey, "ledger public key "+path, "public key")
}
