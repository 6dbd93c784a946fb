package config_test

import (
	"context"
	"strings"
	"testing"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/config"
)

func TestDefaultsAgreeWithTheAuditTools(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://localhost/lantern")
	t.Setenv("LANTERN_INTAKE_TOKENS", "*="+policeauth.Hash("t"))
	var c config.Config
	if err := pkgconfig.Load(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	if c.CheckpointDir != auditlog.DefaultCheckpointDir || c.KeyFile != auditlog.DefaultKeyFile {
		t.Errorf("defaults %q, %q; `lantern audit verify` looks in %q, %q",
			c.CheckpointDir, c.KeyFile, auditlog.DefaultCheckpointDir, auditlog.DefaultKeyFile)
	}
}

func TestValidateReportsEveryCheckpointProblem(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://localhost/lantern")
	t.Setenv("LANTERN_INTAKE_TOKENS", "*="+policeauth.Hash("t"))
	t.Setenv("LANTERN_CHECKPOINT_EVERY", "0")
	t.Setenv("LANTERN_CHECKPOINT_INTERVAL", "10ms")
	var c config.Config
	err := pkgconfig.Load(context.Background(), &c)
	for _, want := range []string{"LANTERN_CHECKPOINT_EVERY", "LANTERN_CHECKPOINT_INTERVAL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load() = %v; want it to name %s", err, want)
		}
	}
}
