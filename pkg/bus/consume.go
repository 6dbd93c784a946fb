package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
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
	// Batch, when its DB is set, applies up to Batch.Size messages in one
	// PostgreSQL transaction.
	Batch Batch
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
	switch {
	case s.Batch.DB == nil:
		s.Batch.Size = 1
	case s.Batch.Size <= 0:
		s.Batch.Size = DefaultBatchSize
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

// Consume runs h for every message matching spec until ctx ends, then
// stops: the messages it has fetched are handled and acknowledged before it
// returns. With spec.Batch.DB set it applies up to spec.Batch.Size
// messages in one transaction (see Batch); otherwise one at a time.
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
	w.log.Info("consuming", zap.Strings("subjects", spec.Subjects), zap.Int("batch", spec.Batch.Size))
	if spec.Bound != nil {
		spec.Bound(true)
		defer spec.Bound(false)
	}
	w.run(ctx, cons)
	return nil
}

// fetchWait is how long one fetch waits for a first message: it bounds how
// long a stopping consumer takes to notice.
const fetchWait = time.Second

// run fetches and handles batches until ctx ends. It fetches only what it
// is about to handle, and the next batch only once the last is settled: a
// message fetched ahead would wait in this process with its ack wait
// running, be redelivered behind a slow handler without having been tried,
// and enough such redeliveries would pass MaxDeliver and dead-letter a
// message that never failed. Fetching after settling also keeps the
// messages of one incident in stream order across batches.
func (w *worker) run(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		msgs, err := w.fetch(cons)
		if err != nil {
			w.log.Warn("fetch error", zap.Error(err))
			clock.Sleep(ctx, connectRetryBackoff)
		}
		if len(msgs) > 0 {
			w.process(msgs)
		}
	}
}

// fetch waits up to fetchWait for one message, then takes whatever else is
// waiting, up to the batch size, without waiting for more: a lightly loaded
// consumer handles each message the moment it arrives, and a busy one
// handles what has queued up in one go.
func (w *worker) fetch(cons jetstream.Consumer) ([]jetstream.Msg, error) {
	first, err := cons.Fetch(1, jetstream.FetchMaxWait(fetchWait))
	if err != nil {
		return nil, err
	}
	msgs := drain(first)
	if len(msgs) == 0 || w.spec.Batch.Size <= 1 {
		return msgs, first.Error()
	}
	more, err := cons.FetchNoWait(w.spec.Batch.Size - 1)
	if err != nil {
		// What was fetched is handled; the rest waits for the next fetch.
		return msgs, nil
	}
	return append(msgs, drain(more)...), nil
}

func drain(b jetstream.MessageBatch) []jetstream.Msg {
	var out []jetstream.Msg
	for m := range b.Messages() {
		out = append(out, m)
	}
	return out
}

type worker struct {
	js     jetstream.JetStream
	spec   ConsumerSpec
	handle Handler
	log    *zap.Logger
}

// batchDeadline bounds how long a batch's handlers may take, in ack waits:
// messages waiting their turn in a batch are kept from redelivery meanwhile
// (keepAlive), so the bound is for a handler that hangs.
const batchDeadline = 10

// process handles one fetched batch.
func (w *worker) process(msgs []jetstream.Msg) {
	// Handlers finish even while the service is stopping: an interrupted
	// handler would only be redone.
	limit := w.spec.AckWait
	if len(msgs) > 1 {
		limit *= batchDeadline
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var items []*item
	for _, msg := range msgs {
		if it, ok := w.receive(ctx, msg); ok {
			items = append(items, it)
		}
	}
	defer w.keepAlive(items)()
	// Without a Batch.DB the size is 1 (setDefaults): apply handles each
	// message on its own.
	w.apply(ctx, items, map[string]bool{})
}

// keepAlive tells the server, every third of the ack wait, that the
// messages of a batch not yet settled are being worked on, until the
// returned stop is called: a batch may take longer than the ack wait, and
// a message redelivered while it waits its turn would be applied by
// another replica at the same time, count a delivery it never had, and
// could pass MaxDeliver without ever failing.
func (w *worker) keepAlive(items []*item) (stop func()) {
	if len(items) < 2 {
		return func() {}
	}
	return clock.Every(max(w.spec.AckWait/3, 10*time.Millisecond), func() {
		for _, it := range items {
			if !it.settled.Load() {
				_ = it.msg.InProgress()
			}
		}
	})
}

// item is one readable message of a batch.
type item struct {
	msg      jetstream.Msg
	meta     *jetstream.MsgMetadata
	event    cloudevent.Event
	incident string
	// settled is set once the message is acknowledged, retried or
	// dead-lettered: it needs keeping alive no longer.
	settled atomic.Bool
}

// receive reads msg as an event, or dead-letters it at once if it is
// unreadable or has used up its deliveries.
func (w *worker) receive(ctx context.Context, msg jetstream.Msg) (*item, bool) {
	meta, err := msg.Metadata()
	if err != nil {
		w.log.Error("message without metadata", zap.Error(err))
		return nil, false
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
		return nil, false
	}
	if err != nil {
		w.deadLetter(ctx, msg, meta, DeadLetter{Reason: err.Error()})
		return nil, false
	}
	return &item{msg: msg, meta: meta, event: e, incident: cloudevent.IncidentID(e)}, true
}

// context is ctx as the handler of it sees it.
func (it *item) context(ctx context.Context) context.Context {
	return context.WithValue(WithSubject(ctx, it.msg.Subject()), deliveryKey{}, it.meta.NumDelivered)
}

// single handles it alone, committing in the handler's own transaction,
// unless an earlier message of its incident in the same batch is to be
// retried (held).
func (w *worker) single(ctx context.Context, it *item, held map[string]bool) {
	if w.holds(held, it) {
		w.settle(ctx, it, errHeld)
		return
	}
	err := w.handle(it.context(ctx), it.event)
	if err == nil {
		faults.Crash(faults.ConsumeBeforeAck)
		w.ack(ctx, []*item{it})
		return
	}
	if w.retries(it, err) && it.incident != "" {
		held[it.incident] = true
	}
	w.settle(ctx, it, err)
}

// errHeld stands for a message not tried because an earlier message of its
// incident in the same batch failed and will be retried: applying it first
// would apply the incident's events out of order.
var errHeld = errors.New("held behind an earlier event of its incident that will be retried")

// holds reports whether it must wait for an earlier message of its
// incident. A message on its last delivery is never held: being held is
// no reason to dead-letter it.
func (w *worker) holds(held map[string]bool, it *item) bool {
	return it.incident != "" && held[it.incident] && it.meta.NumDelivered < uint64(w.spec.MaxDeliver)
}

// retries reports whether err leads to a redelivery rather than a dead
// letter.
func (w *worker) retries(it *item, err error) bool {
	return err != nil && !IsRefusal(err) && !IsPermanent(err) && it.meta.NumDelivered < uint64(w.spec.MaxDeliver)
}

// ack acknowledges items whose effects are committed. Each ack is sent at
// once and the last waits for the server's confirmation: the server takes
// a connection's acks in order, so the confirmation covers them all.
func (w *worker) ack(ctx context.Context, items []*item) {
	for i, it := range items {
		it.settled.Store(true)
		var err error
		if i == len(items)-1 {
			err = it.msg.DoubleAck(ctx)
		} else {
			err = it.msg.Ack()
		}
		if err != nil {
			// The effects are committed; a redelivery will be recognised.
			w.log.Warn("ack failed", zap.String("event_id", it.event.ID()), zap.Error(err))
		}
	}
}

// settle deals with a message whose handler failed: a dead letter, or a
// redelivery after the backoff.
func (w *worker) settle(ctx context.Context, it *item, err error) {
	it.settled.Store(true)
	msg, meta, e := it.msg, it.meta, it.event
	switch {
	case IsRefusal(err):
		w.deadLetter(ctx, msg, meta, DeadLetter{Event: &e, Attempts: meta.NumDelivered, Reason: err.Error(), Refused: true})
	case errors.Is(err, errHeld):
		_ = msg.NakWithDelay(w.backoff(meta.NumDelivered))
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
