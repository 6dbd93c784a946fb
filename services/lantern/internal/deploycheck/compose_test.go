package deploycheck_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// composeEnv is what an operator exports before `docker compose up`.
var composeEnv = types.Mapping{
	"LANTERN_MATCH_KEY": "a-match-key-of-some-length", "LANTERN_INTAKE_TOKENS": "*=00",
	"POSTGRES_PASSWORD": "secret",
}

func loadCompose(t *testing.T, env types.Mapping) (*types.Project, error) {
	t.Helper()
	dir := filepath.Join(cluster.Root(), "deploy")
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{WorkingDir: dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml")}}, Environment: env},
		func(o *loader.Options) { o.SetProjectName("lantern", true) })
}

// TestComposeFileLoads loads deploy/compose.yaml with the Compose
// specification's reference loader, which validates it against the
// specification's schema, and checks the single host it describes.
func TestComposeFileLoads(t *testing.T) {
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append(topology.Names(), "postgres", "nats-1", "nats-2", "nats-3", "nats-auth", "nats-provision", "jaeger", "mailpit") {
		if _, err := p.GetService(want); err != nil {
			t.Errorf("compose.yaml has no %s: %v", want, err)
		}
	}
	provision, _ := p.GetService("nats-provision")
	if cmd := strings.Join(provision.Command, " "); !strings.Contains(cmd, "--replicas 3") {
		t.Errorf("the provisioning step declares %q, not three replicas", cmd)
	}
	for _, name := range topology.Names() {
		s, _ := p.GetService(name)
		if _, ok := s.DependsOn["nats-provision"]; !ok {
			t.Errorf("%s starts before the streams are provisioned", name)
		}
		if v := s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]; v == nil || !strings.Contains(*v, "jaeger") {
			t.Errorf("%s does not send traces to Jaeger", name)
		}
	}
	var published []string
	for _, s := range p.Services {
		if len(s.Ports) > 0 {
			published = append(published, s.Name)
		}
	}
	slices.Sort(published)
	if want := []string{"gateway", "jaeger", "mailpit"}; !slices.Equal(published, want) {
		t.Errorf("services published on the host: %v, want only %v", published, want)
	}
}

// TestComposeRefusesMissingSecrets proves the loader is strict: without
// the match key the file does not load.
func TestComposeRefusesMissingSecrets(t *testing.T) {
	env := types.Mapping{}
	for k, v := range composeEnv {
		if k != "LANTERN_MATCH_KEY" {
			env[k] = v
		}
	}
	if _, err := loadCompose(t, env); err == nil || !strings.Contains(err.Error(), "LANTERN_MATCH_KEY") {
		t.Errorf("loading without LANTERN_MATCH_KEY: %v, want an error naming it", err)
	}
}
