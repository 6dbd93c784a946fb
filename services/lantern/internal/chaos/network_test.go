package chaos_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// toxic is one Toxiproxy toxic, applied to the given directions of a link
// ("downstream" is upstream to service, "upstream" service to upstream).
type toxic struct {
	kind    string
	attrs   toxiproxy.Attributes
	streams []string
}

var bothWays = []string{"downstream", "upstream"}

// networkFaults are F8's variants: each degrades every service's link to
// the broker and to PostgreSQL in one way. The long profile degrades the
// broker links, then the PostgreSQL links, then both; the short one both
// at once.
func networkFaults(p profile) []fault {
	hold := p.pick(6*time.Second, 45*time.Second)
	return []fault{
		{id: "F8/latency", title: "network latency 2 s ± 1 s on every link to the broker and PostgreSQL (Toxiproxy latency)",
			inject: degrade(p, hold, toxic{"latency", toxiproxy.Attributes{"latency": 2000, "jitter": 1000}, []string{"downstream"}}),
			check:  loadNotAmplified},
		{id: "F8/bandwidth", title: "bandwidth cut to 10 KB/s each way on every link (Toxiproxy bandwidth)",
			inject: degrade(p, hold, toxic{"bandwidth", toxiproxy.Attributes{"rate": 10}, bothWays}),
			check:  loadNotAmplified},
		{id: "F8/slicer", title: "every link's bytes sliced into small packets with delays (Toxiproxy slicer)",
			inject: degrade(p, hold, toxic{"slicer", toxiproxy.Attributes{"average_size": 32, "size_variation": 24, "delay": 2000}, bothWays}),
			check:  loadNotAmplified},
		{id: "F8/blackhole", title: "black hole: connections stay open, nothing passes either way (Toxiproxy timeout 0)",
			inject: degrade(p, hold, toxic{"timeout", toxiproxy.Attributes{"timeout": 0}, bothWays}),
			check:  loadNotAmplified},
		{id: "F8/reset", title: "connections reset by peer after 500 ms, and closed after 64 KB (Toxiproxy reset_peer, limit_data)",
			inject: degrade(p, hold, toxic{"reset_peer", toxiproxy.Attributes{"timeout": 500}, []string{"upstream"}},
				toxic{"limit_data", toxiproxy.Attributes{"bytes": 64 << 10}, []string{"downstream"}}),
			check: loadNotAmplified},
		{id: "F8/down", title: "every link's proxy disabled (connections closed, new ones refused), then enabled again",
			inject: linksDown(p, hold), check: loadNotAmplified},
	}
}

// linkPhases are the sets of upstreams degraded one after the other.
func linkPhases(p profile) [][]string {
	if p.long {
		return [][]string{{cluster.UpstreamNATS}, {cluster.UpstreamPostgres}, {cluster.UpstreamNATS, cluster.UpstreamPostgres}}
	}
	return [][]string{{cluster.UpstreamNATS, cluster.UpstreamPostgres}}
}

// degrade adds the toxics to every link of each phase for hold, then
// removes them.
func degrade(p profile, hold time.Duration, toxics ...toxic) func(*run) {
	return func(r *run) {
		for i, upstreams := range linkPhases(p) {
			if i > 0 {
				r.waitAcked(r.p.warmup)
			}
			links := r.c.Proxies().Links(upstreams...)
			what := fmt.Sprintf("%s on %d links to %s", toxicNames(toxics), len(links), strings.Join(upstreams, " and "))
			r.phaseStarts(i, "add "+what)
			for _, l := range links {
				for _, tx := range toxics {
					for _, stream := range tx.streams {
						if _, err := l.Proxy.AddToxic(tx.kind+"_"+stream, tx.kind, stream, 1, tx.attrs); err != nil {
							r.t.Fatalf("adding %s to %s: %v", tx.kind, l.Name(), err)
						}
					}
				}
			}
			r.hold(hold)
			if err := r.c.Proxies().Reset(); err != nil {
				r.t.Fatal(err)
			}
			r.phaseEnds("remove " + what)
		}
	}
}

func toxicNames(toxics []toxic) string {
	var names []string
	for _, tx := range toxics {
		names = append(names, fmt.Sprintf("%s %v", tx.kind, tx.attrs))
	}
	return strings.Join(names, " + ")
}

// linksDown disables every link's proxy of each phase for hold, then
// enables it again on the same address.
func linksDown(p profile, hold time.Duration) func(*run) {
	return func(r *run) {
		for i, upstreams := range linkPhases(p) {
			if i > 0 {
				r.waitAcked(r.p.warmup)
			}
			links := r.c.Proxies().Links(upstreams...)
			what := fmt.Sprintf("%d proxies to %s", len(links), strings.Join(upstreams, " and "))
			r.phaseStarts(i, "disable "+what)
			for _, l := range links {
				if err := l.Proxy.Disable(); err != nil {
					r.t.Fatalf("disabling %s: %v", l.Name(), err)
				}
			}
			r.hold(hold)
			for _, l := range links {
				if err := l.Proxy.Enable(); err != nil {
					r.t.Fatalf("enabling %s: %v", l.Name(), err)
				}
			}
			r.phaseEnds("enable " + what)
		}
	}
}

// phaseStarts marks the start of a fault's phase; the first starts the
// fault window.
func (r *run) phaseStarts(i int, what string) {
	if i == 0 {
		r.faultStarts(what)
		return
	}
	r.mark(what)
}

// phaseEnds marks the end of a phase; the last one to run ends the window.
func (r *run) phaseEnds(what string) { r.faultEnds(what) }

// loadNotAmplified checks F8's "nothing amplifies the load": PostgreSQL
// never held more sessions than the pools of the services and the checker
// allow, so no reconnect loop left sessions behind, and it reports how
// often the clients had to try.
func loadNotAmplified(r *run, f chaos.Figures, _ []*chaos.Submission) {
	perNotice := float64(f.Requests.Attempts) / float64(max(1, f.Requests.Notices))
	r.note("attempts per notice %.2f; PostgreSQL sessions at most %d (pools allow %d)", perNotice, r.mostSessions, sessionLimit)
	if r.mostSessions > sessionLimit {
		r.t.Errorf("PostgreSQL held %d sessions during the run, more than the %d the pools allow: sessions pile up", r.mostSessions, sessionLimit)
	}
}

// sessionLimit is the most PostgreSQL sessions the cluster may open: one
// pool each for the intake, router, delivery, ledger and the checker, at
// pgxpool's default size, plus the session counting them.
var sessionLimit = 5*max(4, runtime.NumCPU()) + 1

// sessionCount is the number of client sessions PostgreSQL holds.
func (r *run) sessionCount(ctx context.Context) (int, error) {
	var n int
	err := r.c.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'`).Scan(&n)
	return n, err
}
