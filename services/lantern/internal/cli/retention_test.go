package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"

	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// TestRetentionPlanRunHoldRelease drives `lantern retention` over one
// recorded incident under a policy of one-day periods, so that it is due
// by the real clock: plan lists it, a hold keeps it through a run, and
// after the release one run shreds it and the next shreds nothing.
func TestRetentionPlanRunHoldRelease(t *testing.T) {
	url, pool := pt.NewDatabase(t)
	ctx := t.Context()
	if err := sealed.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := retention.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pt.Record(t, pool, sampleIncident(t).Events()...)
	policyFile := filepath.Join(t.TempDir(), "retention.yaml")
	if err := os.WriteFile(policyFile, []byte(`version: test-1
default: {message_bodies_after_acknowledgement: 1d, unacknowledged_after_report: 1d, audit_metadata: 730d}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("LANTERN_RETENTION_FILE", policyFile)
	id := pt.IncidentID(42)
	steps := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"retention", "plan"}, 0, id + "\tE06000035\tdue 2026-11-21T19:00:00Z\tto shred"},
		{[]string{"retention", "plan", "--format", "json"}, 0, `"incident_id": "` + id + `"`},
		{[]string{"retention", "hold", id, "--role", "mash_worker", "--reason", "x"}, 1, "only a MASH manager or an auditor"},
		{[]string{"retention", "hold", id}, 2, "--reason is required"},
		{[]string{"retention", "hold", id, "--reason", "subject access request"}, 0, "held by"},
		{[]string{"retention", "run", "--dry-run"}, 0, "1 due, 1 on hold, would shred 0"},
		{[]string{"retention", "run"}, 0, "1 due, 1 on hold, shredded 0"},
		{[]string{"retention", "release", id}, 0, "released by"},
		{[]string{"retention", "run", "--dry-run"}, 0, "1 due, 0 on hold, would shred 1"},
		{[]string{"retention", "run"}, 0, "1 due, 0 on hold, shredded 1"},
		{[]string{"retention", "run"}, 0, "0 due, 0 on hold, shredded 0"},
		{[]string{"audit", "verify", "--chain-only"}, 0, "OK: 14 entries"},
	}
	for _, s := range steps {
		code, out, errOut := run(t, s.args...)
		if code != s.wantCode || !strings.Contains(out+errOut, s.want) {
			t.Fatalf("lantern %s = %d\n%s%s\nwant %d with %q", strings.Join(s.args, " "), code, out, errOut, s.wantCode, s.want)
		}
	}
	var consultations int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger.consultations WHERE action LIKE 'retention %'`).Scan(&consultations); err != nil || consultations < 8 {
		t.Errorf("retention commands recorded = %d, %v; want every one", consultations, err)
	}
}

// TestAuditDisclosures lists, by NHS number, the notices that named a
// child of a recorded (and sealed) incident, in each format, and records
// the search without the number.
func TestAuditDisclosures(t *testing.T) {
	url, pool := pt.NewDatabase(t)
	ctx := t.Context()
	kek := "file:" + filepath.Join(t.TempDir(), "kek")
	t.Setenv("LANTERN_KEK", kek)
	ring, err := sealed.KeyringFromEnv(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := sealed.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := sealed.New(pool, ring, clock.System)
	in := pt.NewIncident(t, pt.IncidentID(7)).Reported(t0, "high", false, pt.Child{ID: "C-1", NHSNumber: "9434765919"}).
		Requested(pt.Request{NotificationID: pt.NotificationID(7, 1), RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary School", ChildIDs: []string{"C-1"}, At: t0.Add(time.Second), Due: t0.Add(time.Hour)})
	var published []pt.Published
	for _, p := range in.Events() {
		data, err := s.SealFields(ctx, pt.IncidentID(7), p.Event.Data())
		if err != nil {
			t.Fatal(err)
		}
		e := p.Event.Clone()
		if err := e.SetData("application/json", data); err != nil {
			t.Fatal(err)
		}
		published = append(published, pt.Published{Event: e, Subject: p.Subject})
	}
	pt.Record(t, pool, published...)
	t.Setenv("DATABASE_URL", url)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "disclosures", "--nhs-number", "9434765919"}, "1 notices named the person"},
		{[]string{"audit", "disclosures", "--nhs-number", "9434765919", "--format", "json"}, `"rule_id": "R8"`},
		{[]string{"audit", "disclosures", "--nhs-number", "9434765919", "--format", "html"}, "Example Primary School (school 118234)"},
		{[]string{"audit", "disclosures", "--nhs-number", "7382946150"}, "0 notices named the person"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("lantern %s = %d\n%s%s\nwant %q", strings.Join(tc.args, " "), code, out, errOut, tc.want)
		}
	}
	var searches int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger.consultations WHERE action = 'disclosures' AND subject = 'nhs_number'`).Scan(&searches); err != nil || searches != 4 {
		t.Errorf("searches recorded = %d, %v; want 4, naming the kind of identifier only", searches, err)
	}
}
