package app_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/app"
	ledgerconfig "github.com/lantern-safeguarding/lantern/services/ledger/internal/config"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRunCheckpointsAndVerifies runs the whole service on real JetStream
// and PostgreSQL, publishes incidents, stops it, and checks that the
// checkpoint written at shutdown covers every entry and verifies.
func TestRunCheckpointsAndVerifies(t *testing.T) {
	ns := natstest.RunServer(t)
	dbURL := pgtest.NewDatabase(t, "ledger-app-empty", nil)
	dir := t.TempDir()
	t.Setenv("LANTERN_KEK", "file:"+filepath.Join(dir, "kek"))
	cfg := &ledgerconfig.Config{Common: config.CommonFor(dbURL, ns.URL()), AdminAddr: "127.0.0.1:0",
		HTTPAddr: freeAddr(t), Police: policeauth.Settings{Raw: "*=" + policeauth.Hash("t")},
		Consumer:      config.Consumer{AckWait: 2 * time.Second},
		CheckpointDir: filepath.Join(dir, "checkpoints"), KeyFile: filepath.Join(dir, "ledger.key"),
		CheckpointEvery: 1000, CheckpointInterval: time.Hour}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serverenv.Run(ctx, zaptest.NewLogger(t), app.Service, cfg) }()

	pubs := pt.All(pt.Simulate(t, 3, time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC), 9))
	publishAll(t, ns, pubs)
	pool, err := pgdb.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	natstest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		head, err := auditlog.ReadHead(context.Background(), pool)
		if err == nil && head.Seq != int64(len(pubs)) {
			err = fmt.Errorf("ledger at %d of %d", head.Seq, len(pubs))
		}
		return err
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	pub, err := auditlog.LoadPublicKey(auditlog.PublicKeyPath(cfg.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	cps, err := auditlog.ReadCheckpoints(cfg.CheckpointDir, pub)
	if err != nil || len(cps) != 1 || cps[0].Seq != int64(len(pubs)) {
		t.Fatalf("checkpoints after shutdown: %d (%v); want one covering %d entries", len(cps), err, len(pubs))
	}
	res, err := auditlog.VerifyDatabase(context.Background(), pool, auditlog.VerifyOptions{Checkpoints: cps})
	if err != nil || res.Problem != nil {
		t.Errorf("verify: %v %v", res.Problem, err)
	}
}

func publishAll(t *testing.T, ns *natstest.Server, pubs []pt.Published) {
	t.Helper()
	js, err := jetstream.New(ns.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		_, err := js.Stream(ctx, bus.EventsStream)
		return err
	})
	p := bus.NewPublisher(js)
	for _, pub := range pubs {
		if _, err := p.Publish(ctx, pub.Event, pub.Subject); err != nil {
			t.Fatal(err)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
