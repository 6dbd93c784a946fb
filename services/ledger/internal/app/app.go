// Package app wires the ledger service: it consumes every event on sg.>,
// appends each exactly once while keeping the audit projections current,
// signs checkpoints of the chain into a folder outside the database, and
// serves timelines and the timeliness report.
package app

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/metrics"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	policy "github.com/lantern-safeguarding/lantern/pkg/retention"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/api"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/config"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention"
)

// finalCheckpointTimeout bounds the checkpoint written at shutdown.
const finalCheckpointTimeout = 10 * time.Second

// Service is the ledger as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "ledger", Build: build}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	sealer, err := env.Sealer(ctx)
	if err != nil {
		return err
	}
	l := ledger.New(env.DB, sealer, clock.System, env.Log)
	if err := env.Migrate(ctx, l.Migrate); err != nil {
		return err
	}
	cp, err := newCheckpointer(cfg, l, env.Log)
	if err != nil {
		return err
	}
	env.AfterRun(func() { finalCheckpoint(cp, env.Log) })
	registerMetrics(env.Metrics, env.DB, cp, clock.System)
	if _, err := env.Listen("ledger api", cfg.HTTPAddr, newAPI(cfg, l, env.Log).Handler()); err != nil {
		return err
	}
	env.Consume(l.ConsumerSpec(cfg.Consumer), l.Handle)
	env.Go("checkpointer", cp.Run)
	return scheduleRetention(cfg, env, sealer)
}

// scheduleRetention shreds due incidents every RetentionInterval, under
// the policy of LANTERN_RETENTION_FILE.
func scheduleRetention(cfg *config.Config, env *serverenv.Env, sealer *sealed.Sealer) error {
	if cfg.RetentionInterval == 0 {
		env.Log.Warn("LANTERN_RETENTION_INTERVAL is 0: no scheduled shredding; run \"lantern retention run\" instead")
		return nil
	}
	p, err := policy.FromEnv()
	if err != nil {
		return err
	}
	loop := &retention.Loop{Log: env.Log.Named("retention"), Metrics: metrics.NewRetention(env.Metrics),
		Scheduler: &retention.Scheduler{Pool: env.DB, Sealer: sealer, Policy: p, Clock: clock.System}}
	env.Log.Info("retention scheduled", zap.String("policy", p.Version), zap.Duration("every", cfg.RetentionInterval))
	env.Go("retention", func(ctx context.Context) error { return loop.Run(ctx, cfg.RetentionInterval) })
	return nil
}

// newCheckpointer loads (or makes) the signing key and continues from the
// newest checkpoint in the folder, and has the ledger tell it of appends.
func newCheckpointer(cfg *config.Config, l *ledger.Ledger, log *zap.Logger) (*auditlog.Checkpointer, error) {
	key, err := auditlog.LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	cp, err := auditlog.NewCheckpointer(l.Pool(), auditlog.CheckpointerConfig{Dir: cfg.CheckpointDir, Key: key,
		Every: cfg.CheckpointEvery, Interval: cfg.CheckpointInterval, Clock: clock.System}, log)
	if err != nil {
		return nil, err
	}
	l.OnAppend(cp.Appended)
	log.Info("checkpointing the ledger", zap.String("dir", cfg.CheckpointDir),
		zap.String("public_key", auditlog.PublicKeyPath(cfg.KeyFile)))
	return cp, nil
}

// finalCheckpoint covers whatever was appended since the last checkpoint,
// once the consumer has stopped appending.
func finalCheckpoint(cp *auditlog.Checkpointer, log *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), finalCheckpointTimeout)
	defer cancel()
	c, err := cp.Checkpoint(ctx)
	switch {
	case err != nil:
		log.Error("final ledger checkpoint failed", zap.Error(err))
	case c != nil:
		log.Info("ledger checkpoint written at shutdown", zap.Int64("seq", c.Seq))
	}
}

func newAPI(cfg *config.Config, l *ledger.Ledger, log *zap.Logger) *api.API {
	auditors := api.Auditors{}
	if cfg.OIDCIssuer != "" {
		auditors.Issuer = oidcauth.New(oidcauth.Options{Issuer: cfg.OIDCIssuer,
			Audience: cfg.Audience(), Claims: oidcauth.ClaimNames{Role: cfg.RoleClaim}, Clock: clock.System})
	} else {
		log.Warn("LANTERN_OIDC_ISSUER is not set: the audit API refuses everyone")
	}
	return &api.API{Ledger: l, Police: api.PoliceTokens{Tokens: cfg.Police.Tokens()}, Auditors: auditors,
		Recorder: auditlog.DBRecorder{DB: l.Pool()}, Clock: clock.System, Log: log}
}
