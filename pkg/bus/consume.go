package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
)

// Handler applies one event. It must be idempotent: commit its effects
// together with a record that the event was handled, and return nil for an
// event it has already handled. Returning an error asks for redelivery;
// wrapping it with Permanent sends the message to the dead-letter stream.
type Handler func(ctx context.Context, e cloudevent.Event) error

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one that no retry can cure, such as an event that
// fails validation.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// DeadLetter describes a message given up on.
type DeadLetter struct {
	Consumer   string
	Subject    string
	StreamSeq  uint64
	Deliveries uint64
	// Attempts is how many times the handler ran: every delivery but the
	// one that found the message over its limit, and none at all for a
	// message that could not be read as an event.
	Attempts uint64
	Reason   string
	// Event is nil when the message could not be read as a CloudEvent.
	Event *cloudevent.Event
	// Refused is true for an event Provenance refused.
	Refused bool
}

// ConsumerSpec declares a durable consumer.
type ConsumerSpec struct {
	// Durable names the consumer; it survives restarts of the service.
	Durable  string
	Subjects []string
	// AckWait is how long the server waits for an ack before redelivering;
	// it bounds how long a crash delays an event.
	AckWait time.Duration
	// MaxDeliver is how many deliveries a message gets before it is
	// dead-lettered, including deliveries that crashed the process.
	MaxDeliver int
	// Backoff gives the redelivery delay after the nth failed attempt; the
	// last entry repeats.
	Backoff []time.Duration
	// OnDeadLetter runs after a message is copied to the dead-letter
	// stream, for instance to raise notification.failed. It does not run
	// for an event refused by Provenance.
	OnDeadLetter func(context.Context, DeadLetter) error
	// Bound, if set, is told true once the consumer is declared and
	// receiving, and false when Consume returns, for readiness checks.
	Bound func(bound bool)
	// Provisioned says the consumer is declared by the provisioning step
	// (Provision), as it is wherever services have their own credentials:
	// Consume binds to it, waiting until it exists, and takes its ack wait,
	// instead of declaring it.
	Provisioned bool
}

func (s *ConsumerSpec) setDefaults() {
	if s.AckWait == 0 {
		s.AckWait = 30 * time.Second
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = 8
	}
	if len(s.Backoff) == 0 {
		s.Backoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}
	}
}

// Headers added to a dead-lettered message.
const (
	HeaderDLQReason     = "Lantern-Dlq-Reason"
	HeaderDLQConsumer   = "Lantern-Dlq-Consumer"
	HeaderDLQSubject    = "Lantern-Dlq-Subject"
	HeaderDLQStreamSeq  = "Lantern-Dlq-Stream-Seq"
	HeaderDLQDeliveries = "Lantern-Dlq-Deliveries"
)

// Consume runs h for every message matching spec until ctx ends, then drains:
// messages already fetched are handled and acknowledged before it returns.
func Consume(ctx context.Context, js jetstream.JetStream, spec ConsumerSpec, h Handler, log *zap.Logger) error {
	spec.setDefaults()
	if err := WaitForStreams(ctx, js); err != nil {
		return err
	}
	cons, err := bindConsumer(ctx, js, &spec, log)
	if err != nil {
		return err
	}
	w := &worker{js: js, spec: spec, handle: h, log: log.With(zap.String("consumer", spec.Durable))}
	// Messages are handled one at a time, so fetching ahead gains nothing,
	// and a message fetched ahead waits in this process with its ack wait
	// running: behind a slow or stalled handler it is redelivered without
	// having been tried, and enough such redeliveries pass MaxDeliver and
	// dead-letter a message that never failed. Fetching one at a time keeps
	// each delivery an attempt.
	cc, err := cons.Consume(w.process, jetstream.PullMaxMessages(1), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		w.log.Warn("consume error", zap.Error(err))
	}))
	if err != nil {
		return fmt.Errorf("starting consumer %s: %w", spec.Durable, err)
	}
	w.log.Info("consuming", zap.Strings("subjects", spec.Subjects))
	if spec.Bound != nil {
		spec.Bound(true)
		defer spec.Bound(false)
	}
	<-ctx.Done()
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(spec.AckWait):
		w.log.Warn("drain timed out; unacknowledged messages will be redelivered")
	}
	return nil
}

type worker struct {
	js     jetstream.JetStream
	spec   ConsumerSpec
	handle Handler
	log    *zap.Logger
}

func (w *worker) process(msg jetstream.Msg) {
	// Handlers finish even while the service is stopping: the drain waits
	// for them, and an interrupted handler would only be redone.
	ctx, cancel := context.WithTimeout(context.Background(), w.spec.AckWait)
	defer cancel()
	meta, err := msg.Metadata()
	if err != nil {
		w.log.Error("message without metadata", zap.Error(err))
		return
	}
	faults.Crash(faults.ConsumeAfterReceive)
	e, err := cloudevent.FromMsg(msg.Headers(), msg.Data())
	if meta.NumDelivered > uint64(w.spec.MaxDeliver) {
		// Earlier deliveries never finished, most likely because the
		// handler crashed the process: stop before it crashes again.
		var readable *cloudevent.Event
		if err == nil {
			readable = &e
		}
		w.deadLetter(ctx, msg, meta, DeadLetter{Event: readable, Attempts: meta.NumDelivered - 1,
			Reason: fmt.Sprintf("gave up after %d deliveries", meta.NumDelivered-1)})
		return
	}
	if err != nil {
		w.deadLetter(ctx, msg, meta, DeadLetter{Reason: err.Error()})
		return
	}
	w.handleEvent(ctx, msg, meta, e)
}

func (w *worker) handleEvent(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, e cloudevent.Event) {
	ctx = context.WithValue(WithSubject(ctx, msg.Subject()), deliveryKey{}, meta.NumDelivered)
	err := w.handle(ctx, e)
	switch {
	case err == nil:
		faults.Crash(faults.ConsumeBeforeAck)
		if err := msg.DoubleAck(ctx); err != nil {
			// The effects are committed; a redelivery will be recognised.
			w.log.Warn("ack failed", zap.String("event_id", e.ID()), zap.Error(err))
		}
	case IsRefusal(err):
		w.deadLetter(ctx, msg, meta, DeadLetter{Event: &e, Attempts: meta.NumDelivered, Reason: err.Error(), Refused: true})
	case IsPermanent(err) || meta.NumDelivered >= uint64(w.spec.MaxDeliver):
		w.deadLetter(ctx, msg, meta, DeadLetter{Event: &e, Attempts: meta.NumDelivered, Reason: err.Error()})
	default:
		delay := w.backoff(meta.NumDelivered)
		w.log.Warn("handler failed; will retry", zap.String("event_id", e.ID()),
			zap.Uint64("delivery", meta.NumDelivered), zap.Duration("retry_in", delay), zap.Error(err))
		_ = msg.NakWithDelay(delay)
	}
}

func (w *worker) backoff(delivered uint64) time.Duration {
	i := min(int(delivered)-1, len(w.spec.Backoff)-1)
	return w.spec.Backoff[max(i, 0)]
}

// deadLetter copies msg to the dead-letter stream with the reason, then
// terminates it. If the copy cannot be stored the message is left for
// redelivery: it is never dropped.
func (w *worker) deadLetter(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, dl DeadLetter) {
	dl.Consumer, dl.Subject, dl.StreamSeq, dl.Deliveries = w.spec.Durable, msg.Subject(), meta.Sequence.Stream, meta.NumDelivered
	if err := w.storeDeadLetter(ctx, msg, dl); err != nil {
		w.log.Error("dead-lettering failed; will retry", zap.Uint64("stream_seq", dl.StreamSeq), zap.Error(err))
		_ = msg.NakWithDelay(w.backoff(meta.NumDelivered))
		return
	}
	// A refused event is not Lantern's: nothing may follow from it.
	if w.spec.OnDeadLetter != nil && !dl.Refused {
		if err := w.spec.OnDeadLetter(ctx, dl); err != nil {
			w.log.Error("dead-letter hook failed; will retry", zap.Uint64("stream_seq", dl.StreamSeq), zap.Error(err))
			_ = msg.NakWithDelay(w.backoff(meta.NumDelivered))
			return
		}
	}
	w.log.Error("message dead-lettered", zap.Uint64("stream_seq", dl.StreamSeq), zap.String("subject", dl.Subject), zap.String("reason", dl.Reason))
	_ = msg.TermWithReason("dead-lettered")
}

func (w *worker) storeDeadLetter(ctx context.Context, msg jetstream.Msg, dl DeadLetter) error {
	h := nats.Header{}
	for k, v := range msg.Headers() {
		if k != nats.MsgIdHdr {
			h[k] = v
		}
	}
	h.Set(HeaderDLQReason, dl.Reason)
	h.Set(HeaderDLQConsumer, dl.Consumer)
	h.Set(HeaderDLQSubject, dl.Subject)
	h.Set(HeaderDLQStreamSeq, strconv.FormatUint(dl.StreamSeq, 10))
	h.Set(HeaderDLQDeliveries, strconv.FormatUint(dl.Deliveries, 10))
	out := &nats.Msg{Subject: DeadLetterPrefix + dl.Consumer, Header: h, Data: msg.Data()}
	id := fmt.Sprintf("dlq:%s:%d", dl.Consumer, dl.StreamSeq)
	_, err := w.js.PublishMsg(ctx, out, jetstream.WithMsgID(id), jetstream.WithExpectStream(DeadLetterStream))
	return err
}

type subjectKey struct{}

// WithSubject is ctx for a Handler whose event arrived on subject, as
// Consume passes it; suites that call handlers directly use it too.
func WithSubject(ctx context.Context, subject string) context.Context {
	return context.WithValue(ctx, subjectKey{}, subject)
}

type deliveryKey struct{}

// Delivery returns, inside a Handler, which delivery of its message this is:
// 1 the first time, more on a redelivery, 0 outside Consume.
func Delivery(ctx context.Context) uint64 {
	n, _ := ctx.Value(deliveryKey{}).(uint64)
	return n
}

// MsgSubject returns, inside a Handler, the NATS subject the event arrived on.
func MsgSubject(ctx context.Context) string {
	s, _ := ctx.Value(subjectKey{}).(string)
	return s
}
