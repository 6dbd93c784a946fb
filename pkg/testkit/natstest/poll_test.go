package natstest

import (
	"errors"
	"testing"
	"time"
)

func TestPollGivesUpWithTheLastError(t *testing.T) {
	t.Parallel()
	errStill := errors.New("still waiting")
	calls := 0

	err := poll(20*time.Millisecond, time.Millisecond, func() error {
		calls++
		return errStill
	})

	if !errors.Is(err, errStill) {
		t.Errorf("poll error = %v, want one wrapping %v", err, errStill)
	}
	if calls < 2 {
		t.Errorf("f was called %d times before giving up, want it retried", calls)
	}
}
