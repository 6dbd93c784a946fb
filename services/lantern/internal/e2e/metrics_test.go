package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// TestMetricsAfterAKnownWorkload runs two simulated days of incidents,
// long past, so that deadlines have passed and escalation fires, through
// every service; then scrapes each service's /metrics with Prometheus's own
// parser and holds every family to what the database says happened.
func TestMetricsAfterAKnownWorkload(t *testing.T) {
	services := append(append([]string(nil), cluster.Pipeline...), "escalation", "workspace")
	c := cluster.New(t, cluster.Options{Services: services,
		Env: []string{"LANTERN_SLA_TICK=200ms", "LANTERN_CHECKPOINT_INTERVAL=1s"}})
	start, _ := simulatedMonth(time.Now())
	simulate(t, c, start, 2*monthPerDay)
	settle(t, c)
	p := pipeline{Cluster: c, t: t}
	head, err := auditlog.ReadHead(context.Background(), c.Pool)
	if err != nil {
		t.Fatal(err)
	}
	// The checkpointer signs within its interval of the last append.
	c.WaitFor(30*time.Second, func() error {
		if got := value(scrape(t, c, "ledger"), "lantern_ledger_checkpoint_seq", nil); got != float64(head.Seq) {
			return fmt.Errorf("checkpoint at %v, head at %d", got, head.Seq)
		}
		return nil
	})
	all := map[string]map[string]*dto.MetricFamily{}
	for _, name := range topology.Names() {
		all[name] = scrape(t, c, name)
	}
	checkHTTP(t, p, all)
	checkConsumers(t, all)
	checkOutboxes(t, p, all)
	checkDomain(t, p, all, head.Seq)
	checkNoPersonalData(t, p, all)
	checkDashboard(t, all)
}

// checkDashboard finds every metric the Grafana dashboard and the alerts query among
// those the services expose, so that a renamed metric breaks this test
// rather than a panel.
func checkDashboard(t *testing.T, all map[string]map[string]*dto.MetricFamily) {
	var raw []byte
	for _, f := range []string{"grafana/lantern-dashboard.json", "prometheus/alerts.yaml"} {
		b, err := os.ReadFile(filepath.Join(cluster.Root(), "deploy", f))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	for _, name := range regexp.MustCompile(`lantern_[a-z_]+`).FindAllString(string(raw), -1) {
		name = strings.TrimSuffix(name, "_bucket")
		found := false
		for _, families := range all {
			found = found || families[name] != nil
		}
		if !found {
			t.Errorf("the dashboard or an alert queries %s, which no service exposes", name)
		}
	}
}

// scrape reads the named service's /metrics with Prometheus's text parser.
func scrape(t *testing.T, c *cluster.Cluster, name string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + c.Layout.Admin[name] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s /metrics answered %d", name, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s /metrics: %v", name, err)
	}
	return families
}

// value sums the family's samples whose labels include want; a family
// without samples sums to 0 (mustHave checks that one is there).
func value(families map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	f := families[family]
	var sum float64
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func mustHave(t *testing.T, service string, families map[string]*dto.MetricFamily, names ...string) {
	t.Helper()
	for _, n := range names {
		if families[n] == nil {
			t.Errorf("%s exposes no %s", service, n)
		}
	}
}

func checkHTTP(t *testing.T, p pipeline, all map[string]map[string]*dto.MetricFamily) {
	incidents := float64(p.count(`SELECT count(*) FROM intake.incidents`))
	for _, name := range []string{"intake", "gateway"} {
		mustHave(t, name, all[name], "lantern_http_requests_total", "lantern_http_request_duration_seconds")
	}
	accepted := value(all["intake"], "lantern_http_requests_total", map[string]string{"route": "POST /v1/incidents", "code": "202"})
	if accepted != incidents {
		t.Errorf("intake counted %v notices accepted; %v incidents are stored", accepted, incidents)
	}
	if timed := value(all["intake"], "lantern_http_request_duration_seconds", map[string]string{"route": "POST /v1/incidents"}); timed < accepted {
		t.Errorf("intake timed %v requests to POST /v1/incidents, fewer than the %v accepted", timed, accepted)
	}
	if through := value(all["gateway"], "lantern_http_requests_total", map[string]string{"code": "202"}); through != incidents {
		t.Errorf("the gateway counted %v answers 202; %v incidents are stored", through, incidents)
	}
}

// consumers are the durables of each consuming service.
var consumers = map[string]string{"router": "router", "delivery": "delivery", "ledger": "ledger",
	"escalation": "escalation", "workspace": "workspace"}

func checkConsumers(t *testing.T, all map[string]map[string]*dto.MetricFamily) {
	for service := range consumers {
		f := all[service]
		mustHave(t, service, f, "lantern_consumer_pending_messages", "lantern_consumer_ack_pending_messages",
			"lantern_consumer_events_total", "lantern_consumer_handle_duration_seconds", "lantern_consumer_redelivered_pending_messages")
		durable := durableOf(f)
		if durable == "" {
			t.Errorf("%s names no durable", service)
			continue
		}
		for _, fam := range []string{"lantern_consumer_pending_messages", "lantern_consumer_ack_pending_messages"} {
			if v := value(f, fam, map[string]string{"durable": durable}); v != 0 {
				t.Errorf("%s %s{durable=%q} = %v after the pipeline settled, want 0", service, fam, durable, v)
			}
		}
		if ok := value(f, "lantern_consumer_events_total", map[string]string{"outcome": "ok"}); ok <= 0 {
			t.Errorf("%s handled %v events", service, ok)
		}
	}
	// Every event on the stream reaches the ledger, which takes all of sg.>.
	if v := value(all["ledger"], "lantern_consumer_events_total", nil); v <= 0 {
		t.Errorf("the ledger counted %v events", v)
	}
}

func durableOf(f map[string]*dto.MetricFamily) string {
	fam := f["lantern_consumer_pending_messages"]
	if fam == nil || len(fam.GetMetric()) == 0 {
		return ""
	}
	for _, l := range fam.GetMetric()[0].GetLabel() {
		if l.GetName() == "durable" {
			return l.GetValue()
		}
	}
	return ""
}

func checkOutboxes(t *testing.T, p pipeline, all map[string]map[string]*dto.MetricFamily) {
	for _, service := range []string{"intake", "router", "delivery", "escalation", "workspace"} {
		f := all[service]
		mustHave(t, service, f, "lantern_outbox_pending_events", "lantern_outbox_oldest_pending_age_seconds", "lantern_relay_duplicates_total")
		if v := value(f, "lantern_outbox_pending_events", nil); v != 0 {
			t.Errorf("%s outbox holds %v events after settling", service, v)
		}
		if v := value(f, "lantern_outbox_oldest_pending_age_seconds", nil); v != 0 {
			t.Errorf("%s oldest pending age = %v, want 0", service, v)
		}
		rows := float64(p.count(`SELECT count(*) FROM ` + service + `.outbox WHERE published_at IS NOT NULL`))
		if published := value(f, "lantern_relay_published_total", nil); published != rows {
			t.Errorf("%s relay counted %v published; its outbox marks %v", service, published, rows)
		}
	}
}

func checkDomain(t *testing.T, p pipeline, all map[string]map[string]*dto.MetricFamily, head int64) {
	d := all["delivery"]
	mustHave(t, "delivery", d, "lantern_deliveries_total", "lantern_delivery_failures_total")
	for _, kind := range p.strings(`SELECT DISTINCT recipient_kind FROM delivery.inbox`) {
		want := float64(p.count(`SELECT count(*) FROM delivery.inbox WHERE recipient_kind = $1`, kind))
		if got := value(d, "lantern_deliveries_total", map[string]string{"recipient_kind": kind, "channel": "inbox"}); got != want {
			t.Errorf("deliveries_total{recipient_kind=%q} = %v; the inboxes hold %v", kind, got, want)
		}
	}
	e := all["escalation"]
	mustHave(t, "escalation", e, "lantern_deadlines_open", "lantern_deadlines_escalated_total")
	for _, level := range []string{"at_risk", "breached"} {
		recorded := float64(p.count(`SELECT count(*) FROM ledger.entries WHERE event_type = $1`, "org.lantern.sla."+level+".v1"))
		got := value(e, "lantern_deadlines_escalated_total", map[string]string{"level": level})
		if got != recorded {
			t.Errorf("escalated_total{level=%q} = %v; the ledger recorded %v", level, got, recorded)
		}
		t.Logf("%s: escalation counted %v, the ledger recorded %v", level, got, recorded)
		if level == "breached" && recorded == 0 {
			t.Error("a workload long past raised no breach: the check above proves nothing")
		}
	}
	open := float64(p.count(`SELECT count(*) FROM escalation.steps WHERE done_at IS NULL`))
	if got := value(e, "lantern_deadlines_open", nil); got != open {
		t.Errorf("deadlines_open = %v; %v steps are not done", got, open)
	}
	if got := value(e, "lantern_deadlines_open", map[string]string{"local_authority": "E06000035"}); got <= 0 {
		t.Errorf("no open deadline counted for Medway (E06000035)")
	}
	l := all["ledger"]
	mustHave(t, "ledger", l, "lantern_ledger_head_seq", "lantern_ledger_checkpoint_seq", "lantern_ledger_checkpoint_age_seconds", "lantern_ledger_entries_total")
	if got := value(l, "lantern_ledger_head_seq", nil); got != float64(head) {
		t.Errorf("ledger_head_seq = %v, want %d", got, head)
	}
	if got := value(l, "lantern_ledger_entries_total", nil); got != float64(head) {
		t.Errorf("ledger_entries_total = %v, want %d", got, head)
	}
	if age := value(l, "lantern_ledger_checkpoint_age_seconds", nil); age < 0 || age > 60 {
		t.Errorf("ledger_checkpoint_age_seconds = %v", age)
	}
}

// labelValue is what a label may hold: codes, names of routes, types and
// kinds. An e-mail address, a space-separated name or a UUID is refused.
var (
	labelValue = regexp.MustCompile(`^[A-Za-z0-9_.:/{}+-]*( /[A-Za-z0-9_./{}-]*)?$`)
	uuid       = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// fromCode are labels whose values are written in the code (listener names
// and mux patterns), which may hold spaces.
var fromCode = map[string]bool{"listener": true, "route": true}

func checkNoPersonalData(t *testing.T, p pipeline, all map[string]map[string]*dto.MetricFamily) {
	names := map[string]bool{}
	for _, n := range p.strings(`SELECT DISTINCT recipient_name FROM delivery.inbox`) {
		names[n] = true
	}
	for service, families := range all {
		for _, f := range families {
			if !strings.HasPrefix(f.GetName(), "lantern_") {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					v := l.GetValue()
					if strings.Contains(v, "@") || uuid.MatchString(v) || names[v] || (!labelValue.MatchString(v) && !fromCode[l.GetName()]) {
						t.Errorf("%s %s{%s=%q}: a label must not carry personal data or ids", service, f.GetName(), l.GetName(), v)
					}
				}
			}
		}
	}
}
