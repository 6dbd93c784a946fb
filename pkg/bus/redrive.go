package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Dead letters are kept until the retention policy's stream age drops
// them: the dead-letter stream refuses deletes, like every Lantern stream.
// A redrive therefore leaves the dead letter in
// place and records a small marker on redrivenPrefix+<seq>, which listings
// use to tell handled dead letters from open ones. A marker has one more
// subject token than a dead letter (dlq.<consumer>), so no consumer name
// can collide with it.
const redrivenPrefix = DeadLetterPrefix + "redriven."

// Headers of a redriven message and of a redrive marker.
const (
	// HeaderRedriveOf names the dead letter (its sequence in the
	// dead-letter stream) a re-published message came from.
	HeaderRedriveOf = "Lantern-Redrive-Of"
	// HeaderRedriveSeq is the stream sequence of the re-published message,
	// on the marker.
	HeaderRedriveSeq = "Lantern-Redrive-Seq"
)

// Errors of Redrive.
var (
	ErrAlreadyRedriven = errors.New("dead letter was already redriven")
	ErrNoDeadLetter    = errors.New("no dead letter with that sequence")
)

// StoredDeadLetter is one message of the dead-letter stream.
type StoredDeadLetter struct {
	// Seq is the message's sequence in the dead-letter stream: the handle
	// to redrive it by.
	Seq      uint64
	Consumer string
	// Subject and OriginalSeq are where the message sat in the events
	// stream.
	Subject     string
	OriginalSeq uint64
	// EventID and EventType are empty when the message was not a readable
	// CloudEvent.
	EventID    string
	EventType  string
	Reason     string
	Deliveries uint64
	// DeadLetteredAt is when the dead-letter stream stored the message.
	DeadLetteredAt time.Time
	// RedrivenAt is when the message was redriven, zero if it has not been.
	RedrivenAt time.Time
}

// Redriven reports whether the dead letter has been put back.
func (d StoredDeadLetter) Redriven() bool { return !d.RedrivenAt.IsZero() }

// DeadLetters reads every dead letter stored so far, oldest first, with
// whether each has been redriven.
func DeadLetters(ctx context.Context, js jetstream.JetStream) ([]StoredDeadLetter, error) {
	stream, err := js.Stream(ctx, DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", DeadLetterStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", DeadLetterStream, err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	letters, redriven, err := readDeadLetterStream(ctx, stream, info.State.LastSeq)
	if err != nil {
		return nil, err
	}
	for i := range letters {
		letters[i].RedrivenAt = redriven[letters[i].Seq]
	}
	return letters, nil
}

// readDeadLetterStream reads the stream up to last with an ordered
// consumer, splitting dead letters from redrive markers.
func readDeadLetterStream(ctx context.Context, stream jetstream.Stream, last uint64) ([]StoredDeadLetter, map[uint64]time.Time, error) {
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, nil, fmt.Errorf("reading stream %s: %w", DeadLetterStream, err)
	}
	iter, err := cons.Messages()
	if err != nil {
		return nil, nil, fmt.Errorf("reading stream %s: %w", DeadLetterStream, err)
	}
	defer iter.Stop()
	var letters []StoredDeadLetter
	redriven := map[uint64]time.Time{}
	for {
		msg, err := iter.Next(jetstream.NextContext(ctx))
		if err != nil {
			return nil, nil, fmt.Errorf("reading stream %s: %w", DeadLetterStream, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return nil, nil, fmt.Errorf("reading stream %s: %w", DeadLetterStream, err)
		}
		if of, ok := strings.CutPrefix(msg.Subject(), redrivenPrefix); ok {
			if seq, err := strconv.ParseUint(of, 10, 64); err == nil {
				redriven[seq] = meta.Timestamp
			}
		} else {
			letters = append(letters, storedDeadLetter(meta.Sequence.Stream, meta.Timestamp, msg.Subject(), msg.Headers()))
		}
		if meta.Sequence.Stream >= last {
			return letters, redriven, nil
		}
	}
}

func storedDeadLetter(seq uint64, at time.Time, subject string, h nats.Header) StoredDeadLetter {
	d := StoredDeadLetter{Seq: seq, DeadLetteredAt: at, Consumer: h.Get(HeaderDLQConsumer),
		Subject: h.Get(HeaderDLQSubject), Reason: h.Get(HeaderDLQReason),
		EventID: h.Get("ce-id"), EventType: h.Get("ce-type")}
	if d.Consumer == "" {
		d.Consumer = strings.TrimPrefix(subject, DeadLetterPrefix)
	}
	d.OriginalSeq, _ = strconv.ParseUint(h.Get(HeaderDLQStreamSeq), 10, 64)
	d.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDLQDeliveries), 10, 64)
	return d
}

// Redrive puts the dead letter at seq back on its original subject, for
// every consumer of that subject to handle again, once the cause of its
// failure has been fixed, and marks it redriven.
//
// The message keeps its CloudEvents id, so consumers that did handle it
// recognise it and change nothing. Its Nats-Msg-Id is not the event id but
// one derived from the dead letter: within the duplicate window the stream
// would otherwise drop it as the event it already holds. A redrive retried
// within that window is dropped instead, and one retried later, or two run
// at once, reach only consumers that are idempotent by event id.
//
// The marker is written after the message, so a crash between the two can
// lead to a second redrive but never to a dead letter marked redriven that
// was not.
func Redrive(ctx context.Context, js jetstream.JetStream, seq uint64) (*jetstream.PubAck, error) {
	stream, err := js.Stream(ctx, DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", DeadLetterStream, err)
	}
	if err := checkNotRedriven(ctx, stream, seq); err != nil {
		return nil, err
	}
	raw, err := stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("redriving dead letter %d: %w", seq, ErrNoDeadLetter)
	}
	if err != nil {
		return nil, fmt.Errorf("reading dead letter %d: %w", seq, err)
	}
	if strings.HasPrefix(raw.Subject, redrivenPrefix) || raw.Header.Get(HeaderDLQSubject) == "" {
		return nil, fmt.Errorf("redriving dead letter %d: %w", seq, ErrNoDeadLetter)
	}
	ack, err := js.PublishMsg(ctx, redrivenMsg(raw), jetstream.WithMsgID(fmt.Sprintf("redrive:%d", seq)),
		jetstream.WithExpectStream(EventsStream))
	if err != nil {
		return nil, fmt.Errorf("re-publishing dead letter %d: %w", seq, err)
	}
	if err := markRedriven(ctx, js, seq, ack.Sequence); err != nil {
		return nil, err
	}
	return ack, nil
}

func checkNotRedriven(ctx context.Context, stream jetstream.Stream, seq uint64) error {
	_, err := stream.GetLastMsgForSubject(ctx, redrivenPrefix+strconv.FormatUint(seq, 10))
	switch {
	case err == nil:
		return fmt.Errorf("redriving dead letter %d: %w", seq, ErrAlreadyRedriven)
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return nil
	}
	return fmt.Errorf("checking dead letter %d: %w", seq, err)
}

// redrivenMsg rebuilds the original message: its subject, its CloudEvents
// headers and body, without the dead-letter headers.
func redrivenMsg(raw *jetstream.RawStreamMsg) *nats.Msg {
	h := nats.Header{}
	for k, v := range raw.Header {
		if !strings.HasPrefix(k, "Lantern-Dlq-") && k != nats.MsgIdHdr {
			h[k] = v
		}
	}
	h.Set(HeaderRedriveOf, strconv.FormatUint(raw.Sequence, 10))
	return &nats.Msg{Subject: raw.Header.Get(HeaderDLQSubject), Header: h, Data: raw.Data}
}

func markRedriven(ctx context.Context, js jetstream.JetStream, seq, redrivenSeq uint64) error {
	marker := &nats.Msg{Subject: redrivenPrefix + strconv.FormatUint(seq, 10), Header: nats.Header{}}
	marker.Header.Set(HeaderRedriveSeq, strconv.FormatUint(redrivenSeq, 10))
	_, err := js.PublishMsg(ctx, marker, jetstream.WithMsgID(fmt.Sprintf("redriven:%d", seq)),
		jetstream.WithExpectStream(DeadLetterStream))
	if err != nil {
		return fmt.Errorf("marking dead letter %d redriven (it was re-published as %d): %w", seq, redrivenSeq, err)
	}
	return nil
}
