// Package reload is how Lantern's hot-reloaded files (reference data,
// manager contacts, the routing policy) are kept: Value holds the last good
// version of one and replaces it only with content that builds without a
// problem, logging a refusal once per content; the polling loop asks it to
// check, on a ticker or on ticks a test sends. Each kind of file says only
// how it is read, built and described (Source).
package reload

import (
	"context"
	"time"
)

// Checker compares a file with the version in use and loads it if it
// changed. Its outcome is its own to log and keep: the loop ignores it,
// because the version in use stays good either way.
type Checker interface {
	CheckNow() (changed bool, err error)
}

// Every calls c.CheckNow every interval until ctx ends. The interval must
// be positive, as for time.NewTicker.
func Every(ctx context.Context, interval time.Duration, c Checker) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	OnTicks(ctx, ticker.C, c)
}

// OnTicks calls c.CheckNow each time ticks delivers, until ctx ends, so
// that tests drive the loop without waiting on real time.
func OnTicks(ctx context.Context, ticks <-chan time.Time, c Checker) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			_, _ = c.CheckNow()
		}
	}
}
