package natsembed

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// storeKeyBytes is the size of the random store key: the server derives
// each stream's AES-256 key from it.
const storeKeyBytes = 32

// EnsureKeyFile writes a random JetStream store key to path (mode 0600)
// unless the file exists, so that a development broker keeps reading its
// store across restarts. A lost key makes the store unreadable for good.
func EnsureKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	key := make([]byte, storeKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing the JetStream store key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing the JetStream store key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	return errors.Join(werr, f.Close())
}

// ReadKeyFile reads a store key written by EnsureKeyFile.
func ReadKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the JetStream store key: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < 2*storeKeyBytes {
		return "", fmt.Errorf("reading the JetStream store key %s: shorter than %d hex digits", path, 2*storeKeyBytes)
	}
	return key, nil
}
