package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// streamWait bounds the wait for the next message of a replay; the stream
// is read only up to the last message it held when the replay began, so
// a longer silence means the server has gone.
const streamWait = 30 * time.Second

// streamFacts reads the events stream from its first message to the last
// it held at the start, through an ordered consumer that leaves no state on
// the server. Messages the ledger would refuse (unreadable, or without an
// incident id) are skipped, as the ledger dead-letters them.
func streamFacts(ctx context.Context, server localenv.Setting, errOut io.Writer) ([]projection.Fact, int64, error) {
	nc, js, err := localenv.ConnectJetStream(server, natsauth.Observer, "lantern-audit-replay")
	if err != nil {
		return nil, 0, err
	}
	defer nc.Close()
	stream, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		return nil, 0, localenv.StreamMissing(err, bus.EventsStream, nc, server)
	}
	last := stream.CachedInfo().State.LastSeq
	if last == 0 {
		return nil, 0, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.EventsSubjects}})
	if err != nil {
		return nil, 0, fmt.Errorf("reading stream %s: %w", bus.EventsStream, err)
	}
	return readStream(ctx, cons, last, newProgress(errOut, "replaying stream", int64(stream.CachedInfo().State.Msgs), clock.System))
}

func readStream(ctx context.Context, cons jetstream.Consumer, last uint64, bar *progress) ([]projection.Fact, int64, error) {
	defer bar.finish()
	it, err := cons.Messages()
	if err != nil {
		return nil, 0, fmt.Errorf("reading stream: %w", err)
	}
	defer it.Stop()
	var facts []projection.Fact
	var n int64
	for {
		msg, err := nextMessage(ctx, it)
		if err != nil {
			return nil, n, err
		}
		meta, err := msg.Metadata()
		if err != nil {
			return nil, n, fmt.Errorf("reading message metadata: %w", err)
		}
		if f, ok := factOfMessage(msg); ok {
			facts = append(facts, f)
		}
		n++
		bar.set(n)
		if meta.Sequence.Stream >= last {
			return facts, n, nil
		}
	}
}

// nextMessage waits for the next message, up to streamWait.
func nextMessage(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	type result struct {
		msg jetstream.Msg
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := it.Next()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("reading stream: %w", r.err)
		}
		return r.msg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(streamWait):
		return nil, fmt.Errorf("no message from the stream for %s", streamWait)
	}
}

func factOfMessage(msg jetstream.Msg) (projection.Fact, bool) {
	e, err := cloudevent.FromMsg(msg.Headers(), msg.Data())
	if err != nil || cloudevent.IncidentID(e) == "" {
		return projection.Fact{}, false
	}
	f, ok, err := projection.FactOf(e)
	return f, ok && err == nil
}
