package topology_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

func TestLayoutGivesEveryListenerItsOwnPort(t *testing.T) {
	ports := make([]int, topology.PortsNeeded())
	for i := range ports {
		ports[i] = 20000 + i
	}
	l := topology.NewLayout("127.0.0.1:8080", ports)
	seen := map[string]string{}
	for _, s := range topology.Services {
		for kind, addr := range map[string]string{"admin": l.Admin[s.Name], "http": l.HTTP[s.Name]} {
			if addr == "" {
				continue
			}
			if other, dup := seen[addr]; dup {
				t.Errorf("%s %s shares %s with %s", s.Name, kind, addr, other)
			}
			seen[addr] = s.Name + " " + kind
		}
	}
	if l.HTTP["gateway"] != "127.0.0.1:8080" {
		t.Errorf("gateway at %q, want the public address", l.HTTP["gateway"])
	}
	if want := len(ports) + 1; len(seen) != want {
		t.Errorf("%d listeners placed, want %d", len(seen), want)
	}
}

func TestRoutesSendTimelinesToTheLedgerAndPagesToTheWorkspace(t *testing.T) {
	ports := make([]int, topology.PortsNeeded())
	for i := range ports {
		ports[i] = 21000 + i
	}
	l := topology.NewLayout("127.0.0.1:8080", ports)
	i := slices.IndexFunc(l.Env(), func(kv string) bool { return strings.HasPrefix(kv, "GATEWAY_ROUTES=") })
	if i < 0 {
		t.Fatal("no GATEWAY_ROUTES in the environment")
	}
	routes := l.Env()[i]
	for _, want := range []string{"/v1/incidents/{id}/timeline=http://" + l.HTTP["ledger"],
		"/v1/incidents=http://" + l.HTTP["intake"], "/=http://" + l.HTTP["workspace"]} {
		if !strings.Contains(routes, want) {
			t.Errorf("%s lacks %s", routes, want)
		}
	}
}
