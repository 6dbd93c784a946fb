package clock_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// TestSleepEndsWithItsContext: a wait no longer than nothing reports the
// context live at once, and an ended context stops any wait.
func TestSleepEndsWithItsContext(t *testing.T) {
	if !clock.Sleep(t.Context(), 0) || !clock.Sleep(t.Context(), -time.Second) {
		t.Error("no wait on a live context reported it ended")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if clock.Sleep(ctx, time.Hour) || clock.Sleep(ctx, 0) {
		t.Error("a wait on an ended context reported it live")
	}
}

// TestEveryCallsUntilStopped: fn is called again and again, and stop
// returns with fn no longer running.
func TestEveryCallsUntilStopped(t *testing.T) {
	var calls, running atomic.Int32
	twice := make(chan struct{})
	stop := clock.Every(time.Millisecond, func() {
		running.Store(1)
		defer running.Store(0)
		if calls.Add(1) == 2 {
			close(twice)
		}
	})
	select {
	case <-twice:
	case <-t.Context().Done():
		t.Fatal("fn was not called twice")
	}
	stop()
	if running.Load() != 0 {
		t.Error("stop returned while fn was running")
	}
}
