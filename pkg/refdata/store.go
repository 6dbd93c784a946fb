package refdata

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// Store holds the reference data a running service uses and replaces it
// when the folder changes, without a restart. A new version is used only if
// it loads without a single problem; until then the last good set stays in
// use, so a half-finished edit can never route a notice to the wrong place.
type Store struct {
	dir     string
	log     *zap.Logger
	current atomic.Pointer[Set]

	// mu makes checks run one at a time and guards the fields below.
	mu sync.Mutex
	// lastErr is why the folder's present content was refused, or nil.
	lastErr error
	// refused identifies the content last refused, so that the same bad
	// content is not loaded and logged again on every check.
	refused string
}

// NewStore loads the folder dir. It fails if the folder has any problem,
// because a service must not start without good reference data.
func NewStore(dir string, log *zap.Logger) (*Store, error) {
	set, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading reference data from %s: %w", dir, err)
	}
	s := &Store{dir: dir, log: log}
	s.current.Store(set)
	log.Info("reference data loaded", setFields(set)...)
	logWarnings(log, set)
	return s, nil
}

// Current returns the set in use. Callers should take it once per unit of
// work (one incident, one request), so that all their lookups agree.
func (s *Store) Current() *Set { return s.current.Load() }

// LastError returns why the folder's present content was refused, or nil
// when the set in use matches the folder. A *LoadError lists every problem.
func (s *Store) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Watch checks the folder every interval until ctx ends. Run it in its own
// goroutine. The interval must be positive, as for time.NewTicker.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	reload.Every(ctx, interval, s)
}

// WatchTicks checks the folder each time ticks delivers, until ctx ends. It
// lets tests drive the watch loop without waiting on real time.
func (s *Store) WatchTicks(ctx context.Context, ticks <-chan time.Time) {
	reload.OnTicks(ctx, ticks, s)
}

// CheckNow compares the folder with the set in use and, if it changed,
// loads it. It reports whether a new set is now in use and, when the
// folder's content was refused, why.
func (s *Store) CheckNow() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := readSnapshot(s.dir)
	if err != nil {
		return false, s.refuse("unreadable: "+err.Error(), err)
	}
	current := s.current.Load()
	switch snap.version {
	case current.Version():
		s.lastErr, s.refused = nil, ""
		return false, nil
	case s.refused:
		return false, s.lastErr
	}
	set, err := build(snap)
	if err != nil {
		return false, s.refuse(snap.version, err)
	}
	s.current.Store(set)
	s.lastErr, s.refused = nil, ""
	s.log.Info("reference data reloaded", append(setFields(set),
		zap.String("previous_version", current.Version()))...)
	logWarnings(s.log, set)
	return true, nil
}

// refuse keeps the set in use, records why the folder's content was refused
// and logs it once per distinct content. The log names where each problem
// is but never the values, which may be people's email addresses.
func (s *Store) refuse(content string, err error) error {
	err = fmt.Errorf("reloading reference data from %s: %w", s.dir, err)
	if content != s.refused {
		fields := []zap.Field{zap.String("dir", s.dir), zap.String("version_in_use", s.current.Load().Version())}
		var loadErr *LoadError
		if errors.As(err, &loadErr) {
			fields = append(fields, zap.Int("problems", len(loadErr.Problems)),
				zap.Strings("locations", loadErr.Locations()))
		} else {
			fields = append(fields, zap.Error(err))
		}
		s.log.Error("reference data refused; keeping the version in use", fields...)
	}
	s.lastErr, s.refused = err, content
	return err
}

// logWarnings names where each warning of set is, without the values,
// which may be personal data.
func logWarnings(log *zap.Logger, set *Set) {
	if ws := set.Warnings(); len(ws) > 0 {
		log.Warn("reference data loaded with warnings", zap.String("version", set.Version()),
			zap.Strings("locations", (&LoadError{Problems: ws}).Locations()))
	}
}

// setFields describes a set for the log by its version and sizes.
func setFields(set *Set) []zap.Field {
	return []zap.Field{
		zap.String("version", set.Version()),
		zap.Int("local_authorities", len(set.localAuthorities)),
		zap.Int("schools", len(set.schools)),
		zap.Int("gp_practices", len(set.gpPractices)),
		zap.Int("services", len(set.services)),
		zap.Int("bank_holidays", len(set.holidays)),
	}
}
