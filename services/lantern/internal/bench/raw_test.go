package bench_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

// rawMessageSize is about the size of a Lantern event on the wire: a
// notification.requested with its minimised notice and CloudEvents headers.
const rawMessageSize = 1024

// rawStream is a JetStream server as Lantern runs it (file storage, every
// write synced unless an option says otherwise, a duplicate window) with
// one stream, and a client.
type rawStream struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	payload []byte
}

func newRawStream(b *testing.B, opts ...natstest.Option) rawStream {
	b.Helper()
	srv := natstest.RunServer(b, opts...)
	js, err := jetstream.New(srv.Connect(b), jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		b.Fatal(err)
	}
	stream, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"},
		Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, rawMessageSize)
	_, _ = rand.Read(payload)
	return rawStream{js: js, stream: stream, payload: payload}
}

// syncOnTimer makes the server sync its store on make run's short timer
// instead of after every write.
func syncOnTimer(o *server.Options) {
	o.SyncAlways, o.SyncInterval = false, natsembed.DefaultSyncInterval
}

// message is the nth message, with a Nats-Msg-Id as Lantern's relays send.
func (r rawStream) message(n int) *nats.Msg {
	msg := nats.NewMsg(fmt.Sprintf("raw.%d", n%8))
	msg.Data = r.payload
	msg.Header.Set(nats.MsgIdHdr, fmt.Sprintf("raw-%d", n))
	return msg
}

// publishSync publishes n messages one at a time, each waiting for its
// acknowledgement, and returns the rate.
func (r rawStream) publishSync(b *testing.B, from, n int) float64 {
	b.Helper()
	start := time.Now()
	for i := range n {
		if _, err := r.js.PublishMsg(context.Background(), r.message(from+i)); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// publishAsync publishes n messages with up to 256 awaiting
// acknowledgement, as a relay publishes a batch, and returns the rate.
func (r rawStream) publishAsync(b *testing.B, from, n int) float64 {
	b.Helper()
	start := time.Now()
	for i := range n {
		if _, err := r.js.PublishMsgAsync(r.message(from+i), jetstream.WithStallWait(30*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-r.js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("async publishes not acknowledged within a minute")
	}
	return float64(n) / time.Since(start).Seconds()
}

// consume reads n stored messages with a durable consumer configured as
// Lantern's are, acknowledging each (with DoubleAck, waiting for the
// server's confirmation, when double is true), and returns the rate.
func (r rawStream) consume(b *testing.B, name string, n int, double bool) float64 {
	b.Helper()
	ctx := context.Background()
	cons, err := r.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name,
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1000, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		b.Fatal(err)
	}
	var seen atomic.Int64
	done := make(chan struct{})
	start := time.Now()
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		if double {
			_ = msg.DoubleAck(ctx)
		} else {
			_ = msg.Ack()
		}
		if seen.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("consumed %d of %d within two minutes", seen.Load(), n)
	}
	return float64(n) / time.Since(start).Seconds()
}

// rawTable is a PostgreSQL table shaped like Lantern's outboxes.
func rawTable(b *testing.B) *pgxpool.Pool {
	b.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(b, "bench-raw", nil))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE raw_events (
		seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id text NOT NULL UNIQUE,
		body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
	return pool
}

var rawSeq atomic.Int64

func insertOne(ctx context.Context, pool *pgxpool.Pool, body []byte) error {
	_, err := pool.Exec(ctx, `INSERT INTO raw_events (event_id, body) VALUES ($1, $2)`,
		fmt.Sprintf("raw-%d", rawSeq.Add(1)), body)
	return err
}

// insertRows commits n rows, one row per transaction, from conns
// connections at once, and returns the rate.
func insertRows(b *testing.B, pool *pgxpool.Pool, n, conns int) float64 {
	b.Helper()
	body := make([]byte, rawMessageSize)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := insertOne(context.Background(), pool, body); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// insertBatches commits n rows in transactions of size rows each, and
// returns the rate.
func insertBatches(b *testing.B, pool *pgxpool.Pool, n, size int) float64 {
	b.Helper()
	body := make([]byte, rawMessageSize)
	start := time.Now()
	for done := 0; done < n; done += size {
		err := pgdb.InTx(context.Background(), pool, func(tx pgx.Tx) error {
			batch := &pgx.Batch{}
			for range size {
				batch.Queue(`INSERT INTO raw_events (event_id, body) VALUES ($1, $2)`, fmt.Sprintf("raw-%d", rawSeq.Add(1)), body)
			}
			return tx.SendBatch(context.Background(), batch).Close()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
