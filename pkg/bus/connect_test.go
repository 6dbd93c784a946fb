package bus_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// TestConnectReportsRefusedCredentials: a service given credentials the
// server does not accept says so at once, naming itself and where its
// credentials come from, instead of retrying in silence; and a connection
// whose credentials are revoked while it runs closes with the reason.
func TestConnectReportsRefusedCredentials(t *testing.T) {
	srv := natstest.RunSecured(t)
	other := natstest.RunSecured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wrong, err := natsauth.ClientOptions("router", other.CredsDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = bus.Connect(ctx, srv.URL(), "lantern-router", zaptest.NewLogger(t), wrong...)
	if err == nil || !strings.Contains(err.Error(), "refused the credentials of lantern-router") ||
		!strings.Contains(err.Error(), "LANTERN_NATS_CREDS_DIR") {
		t.Fatalf("wrong credentials: err = %v", err)
	}

	right, err := natsauth.ClientOptions("router", srv.CredsDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	nc, _, err := bus.Connect(ctx, srv.URL(), "lantern-router", zaptest.NewLogger(t),
		append(right, nats.ReconnectWait(10*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	closed := nc.StatusChanged(nats.CLOSED)
	creds, err := os.ReadFile(natsauth.CredsFile(srv.CredsDir(), "router"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Authority().Revoke(creds); err != nil {
		t.Fatal(err)
	}
	srv.InstallAccounts(t)
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatalf("the revoked connection is still %v", nc.Status())
	}
	if err := bus.ClosedReason(nc, "router"); !strings.Contains(err.Error(), "refused the credentials of router") {
		t.Fatalf("revoked: %v", err)
	}
}
