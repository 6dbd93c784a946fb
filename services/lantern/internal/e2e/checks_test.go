package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// pipeline is a running cluster with the checks the end-to-end tests share.
type pipeline struct {
	*cluster.Cluster
	t *testing.T
}

func startPipeline(t *testing.T) pipeline {
	return pipeline{Cluster: cluster.New(t, cluster.Options{}), t: t}
}

func (p pipeline) post(body []byte, header ...string) cluster.Response {
	p.t.Helper()
	r, err := p.Post(body, header...)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

func (p pipeline) get(path string) cluster.Response {
	p.t.Helper()
	r, err := p.Get(path)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

func (p pipeline) accept(body []byte, header ...string) string {
	p.t.Helper()
	r := p.post(body, header...)
	if r.Status != http.StatusAccepted {
		p.t.Fatalf("POST = %d %v, want 202", r.Status, r.Body)
	}
	return r.Body["incident_id"].(string)
}

func (p pipeline) strings(query string, args ...any) []string {
	p.t.Helper()
	rows, err := p.Pool.Query(context.Background(), query, args...)
	if err != nil {
		p.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			p.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (p pipeline) count(query string, args ...any) int {
	p.t.Helper()
	var n int
	if err := p.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		p.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// decided waits for the router's decisions on the incident and returns the
// recipients as kind/id.
func (p pipeline) decided(incidentID string) []string {
	p.t.Helper()
	var out []string
	p.WaitFor(60*time.Second, func() error {
		out = p.strings(`SELECT recipient_kind || '/' || recipient_id FROM router.notifications WHERE incident_id = $1 ORDER BY 1`, incidentID)
		if len(out) == 0 {
			return fmt.Errorf("no routing decisions yet")
		}
		return nil
	})
	return out
}

func (p pipeline) inboxes(incidentID string) []string {
	return p.strings(`SELECT recipient_kind || '/' || recipient_id FROM delivery.inbox WHERE incident_id = $1 ORDER BY 1`, incidentID)
}

// ledgerTypes lists the short event types in the ledger for the incident,
// in ledger order.
func (p pipeline) ledgerTypes(incidentID string) []string {
	types := p.strings(`SELECT event_type FROM ledger.entries WHERE incident_id = $1 ORDER BY seq`, incidentID)
	for i, s := range types {
		types[i] = shortType(s)
	}
	return types
}

func shortType(s string) string {
	return strings.TrimPrefix(strings.TrimSuffix(s, ".v1"), "org.lantern.")
}

// settled waits until the ledger holds want entries for the incident.
func (p pipeline) settled(incidentID string, want int) []string {
	p.t.Helper()
	var types []string
	p.WaitFor(60*time.Second, func() error {
		types = p.ledgerTypes(incidentID)
		if len(types) < want {
			return fmt.Errorf("ledger has %d of %d entries: %v", len(types), want, types)
		}
		return nil
	})
	return types
}

// wantFlow is the ledger content for an incident routed to n recipients.
func wantFlow(n int) []string {
	flow := []string{"incident.reported"}
	for range n {
		flow = append(flow, "notification.requested", "notification.delivered")
	}
	slices.Sort(flow)
	return flow
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// assertExactlyOnce checks that no event or notice was recorded twice and
// the ledger sequence has no gaps.
func (p pipeline) assertExactlyOnce() {
	p.t.Helper()
	if dup := p.count(`SELECT count(*) FROM (SELECT event_id FROM ledger.entries GROUP BY event_id HAVING count(*) > 1) d`); dup != 0 {
		p.t.Errorf("%d event ids appear more than once in the ledger", dup)
	}
	if gaps := p.count(`SELECT coalesce(max(seq) - count(*), 0)::int FROM ledger.entries`); gaps != 0 {
		p.t.Errorf("ledger sequence has %d gaps", gaps)
	}
	if dup := p.count(`SELECT count(*) FROM (SELECT notification_id FROM delivery.inbox GROUP BY notification_id HAVING count(*) > 1) d`); dup != 0 {
		p.t.Errorf("%d notifications delivered twice", dup)
	}
}

// mustReach are the recipients the sample notice must reach whatever else
// the policy adds: its local authority's MASH and the child's school.
var mustReach = []string{"mash/E06000035", "school/118234"}

func (p pipeline) assertReached(recipients []string) {
	p.t.Helper()
	for _, want := range mustReach {
		if !slices.Contains(recipients, want) {
			p.t.Fatalf("%s missing from the decided recipients %v", want, recipients)
		}
	}
}
