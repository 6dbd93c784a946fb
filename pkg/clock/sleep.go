package clock

import (
	"context"
	"sync"
	"time"
)

// Sleep waits d of real time, for the tools that pace real traffic (load
// feeds, retrying clients), or until ctx ends; it reports whether ctx is
// still live. No wait at all for d <= 0.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Every calls fn every d of real time, on a goroutine of its own, until
// the returned stop is called, which returns once fn is no longer
// running: for chores that keep real time (keeping messages from
// redelivery, a progress line), never for a deadline.
func Every(d time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fn()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
