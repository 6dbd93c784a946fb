// Package bus carries Lantern's CloudEvents over NATS JetStream: it declares
// the streams, publishes with the event id as Nats-Msg-Id, and consumes with
// an acknowledgement sent only after the handler's effects are committed, so
// that a crash at any point leads to redelivery rather than loss.
package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/retention"
)

// Stream names. Every event subject sits under sg.> in EventsStream; messages
// that exhausted their deliveries go to dlq.> in DeadLetterStream, outside
// sg.> so that they are never mistaken for events.
const (
	EventsStream        = "LANTERN_EVENTS"
	EventsSubjects      = "sg.>"
	DeadLetterStream    = "LANTERN_DLQ"
	DeadLetterPrefix    = "dlq."
	defaultDupWindow    = 10 * time.Minute
	connectRetryBackoff = 250 * time.Millisecond
)

// Connect dials NATS as name, with extra options such as the identity's
// credentials (natsauth.ClientOptions), and keeps reconnecting for ever: a
// service that loses its broker should wait for it, not exit and lose its
// place. It returns once connected. A server that refuses the credentials
// (wrong, expired or revoked) closes the connection, and Connect says so
// rather than retrying in silence; ClosedReason tells the caller if that
// happens later.
func Connect(ctx context.Context, url, name string, log *zap.Logger, extra ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	opts := append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(connectRetryBackoff),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats disconnected", zap.Error(err))
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("nats reconnected") }),
		// Permission violations and the server's other complaints: each
		// refusal is logged, naming the subject, never a payload.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Error("nats refused an operation", zap.String("nats_identity", name), zap.Error(err))
		}),
	}, extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to nats at %s: %w", url, err)
	}
	if err := waitConnected(ctx, nc, name, log); err != nil {
		nc.Close()
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening jetstream: %w", err)
	}
	return nc, js, nil
}

// waitConnected waits for the first connection, logging while the server
// cannot be reached, and fails at once when the server refuses the
// credentials.
func waitConnected(ctx context.Context, nc *nats.Conn, name string, log *zap.Logger) error {
	changed := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(changed)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		switch nc.Status() {
		case nats.CONNECTED:
			return nil
		case nats.CLOSED:
			return ClosedReason(nc, name)
		}
		select {
		case <-changed:
		case <-tick.C:
			log.Warn("waiting for nats", zap.String("url", nc.Opts.Url), zap.Error(nc.LastError()))
		case <-ctx.Done():
			return fmt.Errorf("connecting to nats as %s: %w", name, ctx.Err())
		}
	}
}

// ClosedReason explains why the closed connection nc ended: above all, that
// the server refused identity's credentials.
func ClosedReason(nc *nats.Conn, identity string) error {
	err := nc.LastError()
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked),
		errors.Is(err, nats.ErrAccountAuthExpired):
		return fmt.Errorf("the NATS server refused the credentials of %s (wrong, expired or revoked: check LANTERN_NATS_CREDS_DIR): %w", identity, err)
	case err != nil:
		return fmt.Errorf("the connection to NATS of %s closed: %w", identity, err)
	}
	return fmt.Errorf("the connection to NATS of %s closed", identity)
}

// StreamOptions tune the streams for a deployment.
type StreamOptions struct {
	// Replicas is 1 on one machine and 3 across failure domains.
	Replicas int
	// DuplicateWindow bounds JetStream's Nats-Msg-Id deduplication. It is
	// only a shield against publisher retries; consumers are idempotent in
	// PostgreSQL for anything older.
	DuplicateWindow time.Duration
	// MaxAge drops events older than this from the events and dead-letter
	// streams; zero means the default retention policy's stream age
	// (retention.Policy.StreamMaxAge).
	MaxAge time.Duration
	// CreateOnly declares a stream that does not exist yet and leaves one
	// that does as it is: a service starting without the provisioner's
	// credentials must not reset the replicas or limits the provisioning
	// step set.
	CreateOnly bool
}

// EnsureStreams creates or updates Lantern's streams. They are file-backed
// and refuse deletes and purges, the append-only posture an audit trail
// needs. Durability of each write also depends on the server's sync setting,
// which the embedded server sets to sync every write.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = defaultDupWindow
	}
	if o.MaxAge == 0 {
		o.MaxAge = retention.Default().StreamMaxAge()
	}
	for _, cfg := range []jetstream.StreamConfig{
		{Name: EventsStream, Subjects: []string{EventsSubjects}, Description: "Lantern events"},
		{Name: DeadLetterStream, Subjects: []string{DeadLetterPrefix + ">"}, Description: "Messages that exhausted their deliveries"},
	} {
		cfg.Storage = jetstream.FileStorage
		cfg.Retention = jetstream.LimitsPolicy
		cfg.Replicas = o.Replicas
		cfg.Duplicates = o.DuplicateWindow
		// Personal data in an event outlives its incident's shredding
		// only until this age: the retention policy bounds the stream.
		cfg.MaxAge = o.MaxAge
		cfg.DenyDelete = true
		cfg.DenyPurge = true
		// Direct gets name the subject in the request's own subject, so
		// the broker's permissions can let a consumer read the last
		// message of its own subjects only (to tell it has caught up).
		cfg.AllowDirect = cfg.Name == EventsStream
		if err := declareStream(ctx, js, cfg, o.CreateOnly); err != nil {
			return fmt.Errorf("declaring stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

func declareStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, createOnly bool) error {
	if !createOnly {
		_, err := js.CreateOrUpdateStream(ctx, cfg)
		return err
	}
	_, err := js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil
	}
	return err
}

// WaitForStreams blocks until EnsureStreams has been run by someone, so that
// a consumer started before the streams exist waits instead of failing.
func WaitForStreams(ctx context.Context, js jetstream.JetStream) error {
	for {
		_, err := js.Stream(ctx, EventsStream)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			return fmt.Errorf("looking up stream %s: %w", EventsStream, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for stream %s: %w", EventsStream, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitCaughtUp returns once the durable consumer of spec has applied and
// acknowledged every message on its subjects that was in the stream when
// WaitCaughtUp was called. It judges by the consumer's acknowledgement
// floor against the stream's last matching sequence, rather than by the
// consumer's pending count, because a consumer that has only just been made
// can report nothing pending before it has counted. It returns ctx's error
// if that does not happen before ctx ends.
func WaitCaughtUp(ctx context.Context, js jetstream.JetStream, spec ConsumerSpec, poll time.Duration) error {
	target, err := lastSequence(ctx, js, spec.Subjects)
	if err != nil {
		return err
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		caughtUp, err := consumerCaughtUp(ctx, js, spec.Durable, target)
		if err != nil {
			return err
		}
		if caughtUp {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for consumer %s to catch up: %w", spec.Durable, ctx.Err())
		case <-ticker.C:
		}
	}
}

// lastSequence returns the stream sequence of the last message on any of
// subjects, or zero when there is none.
func lastSequence(ctx context.Context, js jetstream.JetStream, subjects []string) (uint64, error) {
	stream, err := js.Stream(ctx, EventsStream)
	if err != nil {
		return 0, fmt.Errorf("looking up stream %s: %w", EventsStream, err)
	}
	var last uint64
	for _, subject := range subjects {
		msg, err := stream.GetLastMsgForSubject(ctx, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("finding the last message on %s: %w", subject, err)
		}
		last = max(last, msg.Sequence)
	}
	return last, nil
}

// consumerCaughtUp reports whether durable has acknowledged everything up
// to stream sequence target and has nothing awaiting acknowledgement. A
// consumer that does not exist yet has not caught up; the error is kept for
// other failures.
func consumerCaughtUp(ctx context.Context, js jetstream.JetStream, durable string, target uint64) (bool, error) {
	cons, err := js.Consumer(ctx, EventsStream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false, nil
	}
	if err != nil {
		return false, ignoreTimeout(ctx, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return false, ignoreTimeout(ctx, err)
	}
	return info.NumAckPending == 0 && info.AckFloor.Stream >= target, nil
}

// ignoreTimeout treats a JetStream request that timed out while ctx is
// still live as "not yet", because the server may simply be busy.
func ignoreTimeout(ctx context.Context, err error) error {
	if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)) {
		return nil
	}
	return fmt.Errorf("reading consumer progress: %w", err)
}
