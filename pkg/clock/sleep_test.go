package clock_test

import (
	"context"
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
