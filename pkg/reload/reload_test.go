package reload_test

import (
	"context"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

type counter struct{ checks chan struct{} }

func (c counter) CheckNow() (bool, error) {
	c.checks <- struct{}{}
	return false, nil
}

func TestOnTicksChecksOncePerTickUntilCancelled(t *testing.T) {
	c := counter{checks: make(chan struct{}, 10)}
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { reload.OnTicks(ctx, ticks, c); close(done) }()
	for range 3 {
		ticks <- time.Time{}
	}
	cancel()
	<-done
	if got := len(c.checks); got != 3 {
		t.Errorf("%d checks for 3 ticks", got)
	}
}
