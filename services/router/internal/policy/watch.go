package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// Watcher holds the policy a running router uses and replaces it when the
// file changes. A changed file is used only if it loads without a single
// problem; until then the last good policy stays in use, so that a
// half-finished edit never decides who is told.
type Watcher struct {
	path    string
	log     *zap.Logger
	current atomic.Pointer[Policy]
	// reference is the reference data in force, against which every
	// policy is checked; nil checks nothing.
	reference func() *refdata.Set

	// mu makes checks run one at a time and guards the fields below.
	mu sync.Mutex
	// lastErr is why the file's present content was refused, or nil.
	lastErr error
	// refused is the digest of the content last refused, so that the same
	// bad content is logged once, not on every check.
	refused string
}

// NewWatcher loads the policy file at path. It fails if the file has any
// problem, because the router must not start without a good policy.
func NewWatcher(path string, log *zap.Logger, reference func() *refdata.Set) (*Watcher, error) {
	if reference == nil {
		reference = func() *refdata.Set { return nil }
	}
	p, err := LoadChecked(path, reference())
	if err != nil {
		return nil, fmt.Errorf("loading routing policy: %w", err)
	}
	w := &Watcher{path: path, log: log, reference: reference}
	w.current.Store(p)
	log.Info("routing policy loaded", zap.String("file", path), zap.String("policy_version", p.Version),
		zap.String("policy_digest", p.Digest))
	return w, nil
}

// Current returns the policy in use. Take it once per event, so that every
// decision about one event comes from the same policy.
func (w *Watcher) Current() *Policy { return w.current.Load() }

// LastError returns why the file's present content was refused, or nil
// when the policy in use matches the file.
func (w *Watcher) LastError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Watch checks the file every interval until ctx ends.
func (w *Watcher) Watch(ctx context.Context, interval time.Duration) {
	reload.Every(ctx, interval, w)
}

// WatchTicks checks the file each time ticks delivers, until ctx ends, so
// that tests can drive it without waiting on real time.
func (w *Watcher) WatchTicks(ctx context.Context, ticks <-chan time.Time) {
	reload.OnTicks(ctx, ticks, w)
}

// ErrVersionUnchanged reports a policy file whose text changed while its
// version did not: notices would then carry one version for two policies.
var ErrVersionUnchanged = errors.New("the policy changed but its version did not; give it a new version")

// CheckNow compares the file with the policy in use and, if it changed,
// loads it. It reports whether a new policy is now in use and, when the
// file was refused, why.
func (w *Watcher) CheckNow() (changed bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, err := os.ReadFile(w.path)
	if err != nil {
		return false, w.refuse("unreadable", fmt.Errorf("reading policy file: %w", err))
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	current := w.current.Load()
	switch digest {
	case current.Digest:
		w.lastErr, w.refused = nil, ""
		return false, nil
	case w.refused:
		return false, w.lastErr
	}
	next, err := Parse(w.path, data)
	if err == nil {
		err = CheckReference(next, w.reference())
	}
	if err != nil {
		return false, w.refuse(digest, err)
	}
	if next.Version == current.Version {
		return false, w.refuse(digest, fmt.Errorf("policy file %s, version %s: %w", w.path, next.Version, ErrVersionUnchanged))
	}
	w.current.Store(next)
	w.lastErr, w.refused = nil, ""
	w.log.Info("routing policy reloaded", zap.String("file", w.path), zap.String("policy_version", next.Version),
		zap.String("policy_digest", next.Digest), zap.String("previous_version", current.Version))
	return true, nil
}

// refuse keeps the policy in use, records why the file was refused and
// logs it once per distinct content. A policy holds no personal data, but
// the log still names only where each problem is.
func (w *Watcher) refuse(content string, err error) error {
	if content != w.refused {
		fields := []zap.Field{zap.String("file", w.path), zap.String("policy_version_in_use", w.current.Load().Version)}
		var loadErr *LoadError
		if errors.As(err, &loadErr) {
			fields = append(fields, zap.Int("problems", len(loadErr.Problems)), zap.Strings("locations", loadErr.Locations()))
		} else {
			fields = append(fields, zap.Error(err))
		}
		w.log.Error("routing policy refused; keeping the policy in use", fields...)
	}
	w.lastErr, w.refused = err, content
	return err
}
