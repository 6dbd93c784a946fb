package natstest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

func TestRestartKeepsStreamMessages(t *testing.T) {
	t.Parallel()
	srv := natstest.RunServer(t)
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New: %v", err)
	}
	stream, err := js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name:     "NOTES",
		Subjects: []string{"notes.>"},
		Storage:  jetstream.FileStorage,
	})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	want := []string{"first", "second", "third"}
	for _, body := range want {
		if _, err := js.Publish(t.Context(), "notes.kept", []byte(body)); err != nil {
			t.Fatalf("Publish %q: %v", body, err)
		}
	}
	urlBefore := srv.URL()

	srv.Restart(t)

	if got := srv.URL(); got != urlBefore {
		t.Errorf("URL after Restart = %s, want %s", got, urlBefore)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !nc.IsConnected() {
			return errors.New("client has not reconnected")
		}
		return nil
	})
	if diff := cmp.Diff(want, natstest.StreamData(t, stream, len(want))); diff != "" {
		t.Errorf("messages after Restart (-want +got):\n%s", diff)
	}
}

func TestServerDefaults(t *testing.T) {
	t.Parallel()
	srv := natstest.RunServer(t)

	natstest.CheckDefaults(t, srv.NATS())
}

func TestOptionsAdjustTheServer(t *testing.T) {
	t.Parallel()
	const maxPayload = 4096
	srv := natstest.RunServer(t, func(o *server.Options) { o.MaxPayload = maxPayload })

	for _, phase := range []string{"first start", "after restart"} {
		if got := srv.Connect(t).MaxPayload(); got != maxPayload {
			t.Errorf("%s: MaxPayload = %d, want %d", phase, got, maxPayload)
		}
		srv.Restart(t)
	}
}

func TestShutdownStopsTheServer(t *testing.T) {
	t.Parallel()
	srv := natstest.RunServer(t)

	srv.Shutdown()
	srv.Shutdown()

	if srv.NATS() != nil {
		t.Errorf("NATS() after Shutdown is not nil")
	}
	nc, err := nats.Connect(srv.URL(), nats.NoReconnect())
	if err == nil {
		nc.Close()
		t.Errorf("connecting to a shut-down server succeeded")
	}
}

func TestCheckForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	calls := 0

	natstest.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		calls++
		if calls < 3 {
			return fmt.Errorf("call %d: not yet", calls)
		}
		return nil
	})

	if calls != 3 {
		t.Errorf("f was called %d times, want 3", calls)
	}
}
