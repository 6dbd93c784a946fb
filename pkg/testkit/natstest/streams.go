package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
)

// Streams connects to the server and declares Lantern's streams with their
// default options, as a service finds them once the broker is provisioned.
func (s *Server) Streams(t testing.TB) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(s.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(context.Background(), js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return js
}

// WaitAcked waits until the durable consumer on the events stream has
// acknowledged every message up to stream sequence n and holds none
// pending, so that a test reads the effects only once they are all applied.
func WaitAcked(t testing.TB, js jetstream.JetStream, durable string, n uint64) {
	t.Helper()
	CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		c, err := js.Consumer(context.Background(), bus.EventsStream, durable)
		if err != nil {
			return err
		}
		info, err := c.Info(context.Background())
		if err != nil {
			return err
		}
		if info.AckFloor.Stream < n || info.NumAckPending != 0 {
			return fmt.Errorf("ack floor %d, pending %d", info.AckFloor.Stream, info.NumAckPending)
		}
		return nil
	})
}

// StreamData reads the data of stream's messages 1 to n, in order.
func StreamData(t testing.TB, stream jetstream.Stream, n int) []string {
	t.Helper()
	var data []string
	for seq := uint64(1); seq <= uint64(n); seq++ {
		msg, err := stream.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatalf("reading stream message %d: %v", seq, err)
		}
		data = append(data, string(msg.Data))
	}
	return data
}
