package sealed

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KEK is a key-encryption key: it wraps and unwraps data keys and never
// hands out its own key material. aad binds a wrapped key to its incident,
// so a wrapped key copied to another incident's row does not unwrap.
//
// A backend for another keeper (HashiCorp Vault's transit engine, Google
// Cloud KMS, Azure Key Vault) implements these three methods: Wrap is the
// keeper's encrypt call with aad as its context, Unwrap its decrypt call,
// and ID a stable name for the key (and version, where the keeper versions
// keys itself) that is stored beside every key it wrapped.
type KEK interface {
	// ID names this KEK in the keys table; it must not change for the
	// lifetime of the key material.
	ID() string
	// Wrap encrypts a data key.
	Wrap(ctx context.Context, dataKey, aad []byte) ([]byte, error)
	// Unwrap decrypts what Wrap returned.
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// FileKEK is a KEK kept in a local file, for development and tests. The
// file holds 32 random bytes, base64-encoded, readable by its owner only.
type FileKEK struct {
	id   string
	aead cipher.AEAD
}

// keySize is the size of every key in this package: AES-256.
const keySize = 32

// NewFileKEK returns a KEK over raw key material.
func NewFileKEK(key []byte) (*FileKEK, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("key-encryption key: %d bytes, want %d", len(key), keySize)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	// The id is a fingerprint, not the key: a truncated hash of a random
	// 256-bit key reveals nothing usable about it.
	sum := sha256.Sum256(append([]byte("lantern-kek-id\x00"), key...))
	return &FileKEK{id: "file:" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// LoadFileKEK reads a KEK written by CreateFileKEK.
func LoadFileKEK(path string) (*FileKEK, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key-encryption key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, fmt.Errorf("reading key-encryption key %s: not base64", path)
	}
	return NewFileKEK(key)
}

// CreateFileKEK writes a fresh random KEK to path (mode 0600) unless the
// file exists already, and returns the KEK in the file either way, so that
// a development stack keeps its key across restarts.
func CreateFileKEK(path string) (*FileKEK, error) {
	if _, err := os.Stat(path); err == nil {
		return LoadFileKEK(path)
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("writing key-encryption key: %w", err)
	}
	text := base64.StdEncoding.EncodeToString(key) + "\n"
	// Written whole under a temporary name, then linked into place: a link
	// fails if the name exists, and a process that finds the file never
	// reads it half written (several services of one stack start at once).
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kek-*")
	if err != nil {
		return nil, fmt.Errorf("writing key-encryption key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text); err != nil {
		_ = tmp.Close()
		return nil, fmt.Errorf("writing key-encryption key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing key-encryption key: %w", err)
	}
	err = os.Link(tmp.Name(), path)
	if errors.Is(err, os.ErrExist) {
		// Another process wrote it first; use theirs.
		return LoadFileKEK(path)
	}
	if err != nil {
		return nil, fmt.Errorf("writing key-encryption key: %w", err)
	}
	return NewFileKEK(key)
}

// ID is the key's fingerprint, prefixed "file:".
func (k *FileKEK) ID() string { return k.id }

// Wrap seals dataKey under the KEK.
func (k *FileKEK) Wrap(_ context.Context, dataKey, aad []byte) ([]byte, error) {
	return seal(k.aead, dataKey, aad)
}

// Unwrap opens what Wrap returned.
func (k *FileKEK) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	return open(k.aead, wrapped, aad)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal returns nonce || ciphertext. Nonces are random: each data key seals
// only one incident's fields, far below GCM's 2^32 random-nonce bound.
func seal(aead cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out, plaintext, aad), nil
}

func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrCorrupt
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}
