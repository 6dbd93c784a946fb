package bus_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/retention"
)

func TestStreamsDropEventsAtTheRetentionPolicysAge(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, name := range []string{bus.EventsStream, bus.DeadLetterStream} {
		s, err := f.js.Stream(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().Config.MaxAge; got != retention.Default().StreamMaxAge() {
			t.Errorf("%s MaxAge = %v, want the default policy's %v", name, got, retention.Default().StreamMaxAge())
		}
	}
	// A partnership's longer period is applied to the live streams.
	if err := bus.EnsureStreams(t.Context(), f.js, bus.StreamOptions{MaxAge: 60 * retention.Day}); err != nil {
		t.Fatal(err)
	}
	s, err := f.js.Stream(t.Context(), bus.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxAge; got != 60*retention.Day {
		t.Errorf("dead-letter MaxAge after update = %v, want 60 days", got)
	}
}
