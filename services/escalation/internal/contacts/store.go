package contacts

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// Store holds the contacts book in use and reloads it when the file
// changes, without a restart, as the rest of the reference data is. A new
// version is used only if it has no problem at all; until then the last good
// book stays in use.
type Store struct {
	dir     string
	log     *zap.Logger
	current atomic.Pointer[Book]

	// mu makes checks run one at a time and guards refused.
	mu sync.Mutex
	// refused is the version of the content last refused, so the same bad
	// content is logged once, not on every check.
	refused string
}

// NewStore loads the contacts file from the reference data folder dir. It
// fails if the file exists and has any problem, because a service must not
// start on reference data it cannot trust.
func NewStore(dir string, log *zap.Logger) (*Store, error) {
	book, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading manager contacts from %s: %w", dir, err)
	}
	s := &Store{dir: dir, log: log}
	s.current.Store(book)
	log.Info("manager contacts loaded", zap.Int("organisations", book.Len()), zap.String("version", book.Version()))
	return s, nil
}

// Current returns the book in use.
func (s *Store) Current() *Book { return s.current.Load() }

// Watch checks the file every interval until ctx ends. The interval must be
// positive, as for time.NewTicker.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	reload.Every(ctx, interval, s)
}

// WatchTicks checks the file each time ticks delivers, until ctx ends, so
// that tests can drive the loop without waiting on real time.
func (s *Store) WatchTicks(ctx context.Context, ticks <-chan time.Time) {
	reload.OnTicks(ctx, ticks, s)
}

// CheckNow reloads the file if its content changed. It reports whether a
// new book is now in use and, when the content was refused, why.
func (s *Store) CheckNow() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	book, err := Load(s.dir)
	if err != nil {
		s.refuse(err)
		return false, err
	}
	s.refused = ""
	current := s.current.Load()
	if book.Version() == current.Version() {
		return false, nil
	}
	s.current.Store(book)
	s.log.Info("manager contacts reloaded", zap.Int("organisations", book.Len()),
		zap.String("version", book.Version()), zap.String("previous_version", current.Version()))
	return true, nil
}

// refuse logs a refused file once per distinct problem list. The problems
// name places in the file, never the addresses in it.
func (s *Store) refuse(err error) {
	if err.Error() == s.refused {
		return
	}
	s.refused = err.Error()
	s.log.Warn("manager contacts file refused; the last good version stays in use",
		zap.String("dir", s.dir), zap.String("version_in_use", s.current.Load().Version()), zap.Error(err))
}
