package natstest

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
)

// CheckDefaults fails t unless srv listens on loopback at a port of its
// own, never the system server's 4222, and runs JetStream syncing every
// write to disk: what Lantern's embedded and test servers both promise.
func CheckDefaults(t testing.TB, srv *server.Server) {
	t.Helper()
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		t.Fatalf("parsing %s: %v", srv.ClientURL(), err)
	}
	type defaults struct {
		Host       string
		SystemPort bool
		NoPort     bool
		JetStream  bool
		SyncAlways bool
	}
	want := defaults{Host: "127.0.0.1", JetStream: true, SyncAlways: true}
	got := defaults{
		Host:       u.Hostname(),
		SystemPort: u.Port() == "4222",
		NoPort:     u.Port() == "" || u.Port() == "0",
		JetStream:  srv.JetStreamEnabled(),
		SyncAlways: srv.JetStreamConfig().SyncAlways,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server defaults (-want +got):\n%s", diff)
	}
}
