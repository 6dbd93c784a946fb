package clock

import (
	"context"
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
