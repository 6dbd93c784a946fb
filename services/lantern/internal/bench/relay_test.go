package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

// relayRows is how many outbox rows the relay phase publishes.
const relayRows = 20000

func relayRate(b *testing.B, opts ...natstest.Option) float64 {
	b.Helper()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, pgtest.NewDatabase(b, "bench-relay", nil))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	store := outbox.New("relaybench")
	if err := store.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	js, err := jetstream.New(natstest.RunServer(b, opts...).Connect(b))
	if err != nil {
		b.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	fillOutbox(b, pool, store)
	relay := store.NewRelay(pool, bus.NewPublisher(js), zap.NewNop())
	start := time.Now()
	published := 0
	for published < relayRows {
		n, err := relay.RelayOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("relay published %d of %d and then nothing", published, relayRows)
		}
		published += n
	}
	return float64(published) / time.Since(start).Seconds()
}

// fillOutbox commits relayRows events, 500 to a transaction.
func fillOutbox(b *testing.B, pool *pgxpool.Pool, store *outbox.Store) {
	b.Helper()
	payload := make([]byte, 700)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	for first := 0; first < relayRows; first += 500 {
		out := make([]outbox.Outgoing, 0, 500)
		for i := first; i < first+500; i++ {
			e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID("relay-bench", fmt.Sprint(i)), Type: events.IncidentReported,
				Source: events.SourceIntake, Subject: fmt.Sprint(i), IncidentID: fmt.Sprint(i), Actor: "service:bench",
				Time: time.Now(), Data: map[string]any{"n": i, "pad": string(payload)}})
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, outbox.Outgoing{Subject: "sg.incident.reported", Event: e})
		}
		err := pgdb.InTx(context.Background(), pool, func(tx pgx.Tx) error {
			return store.EnqueueAll(context.Background(), tx, out)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
