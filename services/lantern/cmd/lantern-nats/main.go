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

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
)

func main() {
	port := flag.Int("port", 0, "client port (0 picks a free one)")
	store := flag.String("store", "", "JetStream store directory (required)")
	flag.Parse()
	srv, err := natsembed.Start(natsembed.Options{Host: "127.0.0.1", Port: *port, StoreDir: *store})
	if err != nil {
		fmt.Fprintf(os.Stderr, "lantern-nats: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(srv.ClientURL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	srv.Shutdown()
	srv.WaitForShutdown()
}
