// Command lantern-nats runs Lantern's embedded NATS JetStream server as a
// process of its own, so that fault tests can kill and pause the broker the
// way an operating system would.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nats-io/nats-server/v2/logger"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
)

// stderrLogger prints the server's own notices, warnings and errors (what
// JetStream finds when it recovers a damaged store, or running out of
// space) to stderr, and reports a fatal error as an error: Start decides
// whether the process ends.
type stderrLogger struct{ *logger.Logger }

func (l stderrLogger) Fatalf(format string, v ...any) { l.Errorf(format, v...) }

var _ server.Logger = stderrLogger{}

func main() {
	port := flag.Int("port", 0, "client port (0 picks a free one)")
	store := flag.String("store", "", "JetStream store directory (required)")
	conf := flag.String("config", "", "nats-server configuration with Lantern's accounts (lantern nats config)")
	keyFile := flag.String("key-file", "", "JetStream store key (made if missing); empty leaves the store unencrypted")
	syncFlag := flag.String("sync-interval", os.Getenv(natsembed.SyncEnv),
		"sync the store every write (always) or on this timer, up to "+natsembed.MaxSyncInterval.String()+"; default "+natsembed.DefaultSyncInterval.String())
	flag.Parse()
	syncInterval, err := natsembed.ParseSync(*syncFlag)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lantern-nats: %v\n", err)
		os.Exit(2)
	}
	if *keyFile != "" {
		if err := natsembed.EnsureKeyFile(*keyFile); err != nil {
			fmt.Fprintf(os.Stderr, "lantern-nats: %v\n", err)
			os.Exit(1)
		}
	}
	// Supervised: JetStream does not recover by itself from a store that
	// failed a write or a sync, or from a full disk; a restart on the same
	// store does, once the disk takes writes again.
	srv, err := natsembed.StartSupervised(natsembed.Options{Host: "127.0.0.1", Port: *port, StoreDir: *store, ConfigFile: *conf, KeyFile: *keyFile,
		SyncInterval: syncInterval, Logger: stderrLogger{logger.NewStdLogger(true, false, false, false, false)}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "lantern-nats: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(srv.ClientURL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	srv.Shutdown()
}
