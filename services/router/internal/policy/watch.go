package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// Watcher holds the policy a running router uses and replaces it when the
// file changes. A changed file is used only if it loads without a single
// problem; until then the last good policy stays in use, so that a
// half-finished edit never decides who is told.
type Watcher = reload.Value[Policy]

// ErrVersionUnchanged reports a policy file whose text changed while its
// version did not: notices would then carry one version for two policies.
var ErrVersionUnchanged = errors.New("the policy changed but its version did not; give it a new version")

// NewWatcher loads the policy file at path. It fails if the file has any
// problem, because the router must not start without a good policy. Every
// version is checked against the reference data reference returns (nil
// checks nothing).
func NewWatcher(path string, log *zap.Logger, reference func() *refdata.Set) (*Watcher, error) {
	if reference == nil {
		reference = func() *refdata.Set { return nil }
	}
	return reload.New(reload.Source[Policy]{
		Name: "routing policy", WhereKey: "file", Where: path,
		Read: func() (string, func() (*Policy, error), error) {
			data, err := os.ReadFile(path)
			if err != nil {
				return "unreadable", nil, fmt.Errorf("reading policy file: %w", err)
			}
			sum := sha256.Sum256(data)
			return "sha256:" + hex.EncodeToString(sum[:]), func() (*Policy, error) {
				p, err := Parse(path, data)
				if err != nil {
					return nil, err
				}
				return p, CheckReference(p, reference())
			}, nil
		},
		Version: func(p *Policy) string { return p.Digest },
		Accept: func(current, next *Policy) error {
			if next.Version == current.Version {
				return fmt.Errorf("policy file %s, version %s: %w", path, next.Version, ErrVersionUnchanged)
			}
			return nil
		},
		Fields: func(p *Policy) []zap.Field {
			return []zap.Field{zap.String("policy_version", p.Version), zap.String("policy_digest", p.Digest)}
		},
		// A policy holds no personal data, but the log still names only
		// where each problem is.
		ErrorFields: func(err error) []zap.Field {
			var loadErr *LoadError
			if errors.As(err, &loadErr) {
				return []zap.Field{zap.Int("problems", len(loadErr.Problems)), zap.Strings("locations", loadErr.Locations())}
			}
			return []zap.Field{zap.Error(err)}
		},
	}, log)
}
