package contacts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// Store holds the contacts book in use and reloads it when the file
// changes, without a restart, as the rest of the reference data is. A new
// version is used only if it has no problem at all; until then the last good
// book stays in use.
type Store = reload.Value[Book]

// NewStore loads the contacts file from the reference data folder dir. It
// fails if the file exists and has any problem, because a service must not
// start on reference data it cannot trust.
func NewStore(dir string, log *zap.Logger) (*Store, error) {
	path := filepath.Join(dir, FileName)
	return reload.New(reload.Source[Book]{
		Name: "manager contacts", WhereKey: "file", Where: path,
		Read: func() (string, func() (*Book, error), error) {
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return "", func() (*Book, error) { return &Book{}, nil }, nil
			}
			if err != nil {
				return "unreadable: " + err.Error(), nil, fmt.Errorf("reading %s: %w", FileName, err)
			}
			return digest(data), func() (*Book, error) { return Parse(data) }, nil
		},
		Version: (*Book).Version,
		Fields: func(b *Book) []zap.Field {
			return []zap.Field{zap.Int("organisations", b.Len()), zap.String("version", b.Version())}
		},
		// The problems name places in the file, never the addresses in it.
	}, log)
}

// digest identifies a contacts file's content; it is the version of the
// book parsed from it.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
