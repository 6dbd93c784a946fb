package reload

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Source is one kind of hot-reloaded file: how to read it and how to
// describe it.
type Source[T any] struct {
	// Name names the content in logs and errors ("reference data").
	Name string
	// Where names the file or folder in logs ("dir", path).
	WhereKey, Where string
	// Read looks at the content as it is now. It returns what identifies
	// that content (a version or digest), compared with the value in use so
	// that unchanged content is never built again, and how to build a value
	// from it. An error means the content cannot even be read; content then
	// still identifies the failure, so that it is logged once.
	Read func() (content string, build func() (*T, error), err error)
	// Version identifies the content a value was built from, as Read does.
	Version func(*T) string
	// Accept, if set, refuses a new value that may not replace the one in
	// use, such as a policy whose text changed while its version did not.
	Accept func(current, next *T) error
	// Fields describe a value for the log: versions and sizes, never
	// personal data.
	Fields func(*T) []zap.Field
	// ErrorFields describe a refusal for the log; the default logs the
	// error. Contents may hold people's addresses, so a Source whose errors
	// could quote them names only where each problem is.
	ErrorFields func(error) []zap.Field
	// Taken, if set, runs each time a value is taken into use, the first
	// included, for instance to log its warnings.
	Taken func(*T)
}

// Value holds the version of a file a running service uses and replaces it
// when the file changes, without a restart. A new version is used only if
// it builds without a single problem; until then the last good one stays in
// use, so that a half-finished edit never takes effect.
type Value[T any] struct {
	src     Source[T]
	log     *zap.Logger
	current atomic.Pointer[T]

	// mu makes checks run one at a time and guards the fields below.
	mu sync.Mutex
	// lastErr is why the present content was refused, or nil.
	lastErr error
	// refused identifies the content last refused, so that the same bad
	// content is not built and logged again on every check.
	refused string
}

// New reads and builds src's content. It fails if the content has any
// problem, because a service must not start on data it cannot trust.
func New[T any](src Source[T], log *zap.Logger) (*Value[T], error) {
	v := &Value[T]{src: src, log: log}
	_, build, err := src.Read()
	if err != nil {
		return nil, fmt.Errorf("loading %s from %s: %w", src.Name, src.Where, err)
	}
	first, err := build()
	if err != nil {
		return nil, fmt.Errorf("loading %s from %s: %w", src.Name, src.Where, err)
	}
	v.current.Store(first)
	log.Info(src.Name+" loaded", append([]zap.Field{zap.String(src.WhereKey, src.Where)}, src.Fields(first)...)...)
	v.taken(first)
	return v, nil
}

// Current returns the value in use. Callers take it once per unit of work
// (one event, one request), so that all their lookups agree.
func (v *Value[T]) Current() *T { return v.current.Load() }

// LastError returns why the present content was refused, or nil when the
// value in use matches it.
func (v *Value[T]) LastError() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lastErr
}

// Watch checks the content every interval until ctx ends. The interval
// must be positive, as for time.NewTicker.
func (v *Value[T]) Watch(ctx context.Context, interval time.Duration) { Every(ctx, interval, v) }

// WatchTicks checks the content each time ticks delivers, until ctx ends,
// so that tests drive the loop without waiting on real time.
func (v *Value[T]) WatchTicks(ctx context.Context, ticks <-chan time.Time) { OnTicks(ctx, ticks, v) }

// CheckNow compares the content with the value in use and, if it changed,
// builds it. It reports whether a new value is now in use and, when the
// content was refused, why.
func (v *Value[T]) CheckNow() (changed bool, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	content, build, err := v.src.Read()
	if err != nil {
		return false, v.refuse(content, err)
	}
	current := v.current.Load()
	if content == v.src.Version(current) {
		v.lastErr, v.refused = nil, ""
		return false, nil
	}
	if v.lastErr != nil && content == v.refused {
		return false, v.lastErr
	}
	next, err := build()
	if err == nil && v.src.Accept != nil {
		err = v.src.Accept(current, next)
	}
	if err != nil {
		return false, v.refuse(content, err)
	}
	v.current.Store(next)
	v.lastErr, v.refused = nil, ""
	v.log.Info(v.src.Name+" reloaded", append(append([]zap.Field{zap.String(v.src.WhereKey, v.src.Where)},
		v.src.Fields(next)...), zap.String("previous_version", v.src.Version(current)))...)
	v.taken(next)
	return true, nil
}

func (v *Value[T]) taken(t *T) {
	if v.src.Taken != nil {
		v.src.Taken(t)
	}
}

// refuse keeps the value in use, records why the content was refused and
// logs it once per distinct content.
func (v *Value[T]) refuse(content string, err error) error {
	err = fmt.Errorf("reloading %s from %s: %w", v.src.Name, v.src.Where, err)
	if v.lastErr == nil || content != v.refused {
		// The fields describe the value kept in use.
		fields := append([]zap.Field{zap.String(v.src.WhereKey, v.src.Where)}, v.src.Fields(v.current.Load())...)
		if v.src.ErrorFields != nil {
			fields = append(fields, v.src.ErrorFields(err)...)
		} else {
			fields = append(fields, zap.Error(err))
		}
		v.log.Error(v.src.Name+" refused; keeping the version in use", fields...)
	}
	v.lastErr, v.refused = err, content
	return err
}
