package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/auditlogtest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// verifyFixture is a recorded incident with a checkpoint, and the
// environment that points `lantern audit verify` at both.
func verifyFixture(t *testing.T) string {
	url, pool := pt.NewDatabase(t)
	pt.Record(t, pool, sampleIncident(t).Events()...)
	keyFile := filepath.Join(t.TempDir(), "ledger.key")
	key, err := auditlog.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "checkpoints")
	cp, err := auditlog.NewCheckpointer(pool, auditlog.CheckpointerConfig{Dir: dir, Key: key, Every: 100,
		Interval: time.Hour, Clock: clock.NewFake(t0.Add(100 * time.Hour))}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("LANTERN_CHECKPOINT_DIR", dir)
	t.Setenv("LANTERN_LEDGER_KEY_FILE", keyFile)
	return url
}

func TestAuditVerify(t *testing.T) {
	cases := []struct {
		name     string
		tamper   string
		args     []string
		wantCode int
		want     string
	}{
		{"intact", "", nil, 0, "OK: 13 entries"},
		{"one event changed", `UPDATE ledger.entries SET event = convert_to(replace(convert_from(event, 'UTF8'), 'R8', 'R9'), 'UTF8') WHERE seq = 3`,
			nil, 1, "FAILED: the first bad entry is 3"},
		{"tail truncated", `DELETE FROM ledger.entries WHERE seq > 10; UPDATE ledger.head SET (seq, hash) = (SELECT seq, hash FROM ledger.entries WHERE seq = 10)`,
			nil, 1, "FAILED: the first bad entry is 11: missing"},
		{"tail truncated, checked without checkpoints", `DELETE FROM ledger.entries WHERE seq > 10; UPDATE ledger.head SET (seq, hash) = (SELECT seq, hash FROM ledger.entries WHERE seq = 10)`,
			[]string{"--chain-only"}, 0, "OK: 10 entries"},
		{"no checkpoints", "", []string{"--checkpoints", "/nonexistent"}, 1, "no checkpoint to check it against"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := verifyFixture(t)
			if tc.tamper != "" {
				auditlogtest.Tamper(t, url, func(ctx context.Context, conn *pgx.Conn) error {
					_, err := conn.Exec(ctx, tc.tamper)
					return err
				})
			}
			code, out, errOut := run(t, append([]string{"audit", "verify"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nstderr:\n%s\nwant it to contain %q", code, tc.wantCode, out, errOut, tc.want)
			}
		})
	}
}
