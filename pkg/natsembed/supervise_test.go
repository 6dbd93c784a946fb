package natsembed_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// TestSupervisedRestartsAfterAStoreFailure has the server report the error
// a stream logs when a write or sync of its store fails, and checks that
// the supervisor restarts it on the same address and store: the stream's
// messages are all there and it takes new ones. The fault suite (F12, F13)
// makes real syncs and writes fail.
func TestSupervisedRestartsAfterAStoreFailure(t *testing.T) {
	t.Parallel()
	logger := &recordingLogger{}
	sup, err := natsembed.StartSupervised(natsembed.Options{StoreDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatalf("StartSupervised: %v", err)
	}
	t.Cleanup(sup.Shutdown)
	url := sup.ClientURL()
	js := jetStream(t, sup.Server())
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "NOTES", Subjects: []string{"notes.>"},
		Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := js.Publish(t.Context(), "notes.kept", []byte("before")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	first := sup.Server()

	first.Errorf("JetStream stream '$G > NOTES' critical write error: sync 1.blk: input/output error")

	natstest.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if sup.Restarts() != 1 || sup.Server() == first || !sup.Server().JetStreamEnabled() {
			return errRestarting
		}
		return nil
	})
	if got := sup.ClientURL(); got != url {
		t.Errorf("restarted on %s, want the same address %s", got, url)
	}
	js = jetStream(t, sup.Server())
	if _, err := js.Publish(t.Context(), "notes.kept", []byte("after")); err != nil {
		t.Fatalf("Publish after the restart: %v", err)
	}
	stream, err := js.Stream(t.Context(), "NOTES")
	if err != nil {
		t.Fatalf("Stream after the restart: %v", err)
	}
	info, err := stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("stream holds %d messages after the restart, want 2", info.State.Msgs)
	}
	if !logger.saw("natsembed supervisor: restarted") {
		t.Errorf("the restart was not logged; the log says:\n%v", logger.lines())
	}
}

var errRestarting = errors.New("no restart yet")
