package deploycheck_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

func chartDir() string { return filepath.Join(cluster.Root(), "deploy", "helm", "lantern") }

// externalValues is how CI renders the chart: the NATS and CloudNativePG
// dependencies off (their repositories cannot be reached here), an
// external broker and database, and every optional part on.
var externalValues = map[string]any{
	"nats":         map[string]any{"enabled": false, "url": "tls://nats.example:4222", "caSecret": "lantern-nats-ca"},
	"cnpg":         map[string]any{"enabled": false},
	"otlpEndpoint": "http://otel-collector:4318",
	"oidc":         map[string]any{"issuer": "https://idp.example"},
	"ingress":      map[string]any{"enabled": true, "tlsSecret": "lantern-tls"},
}

// render is `helm template` with Helm's engine as a library.
func render(t *testing.T, values map[string]any) map[string]string {
	t.Helper()
	chrt, err := loader.Load(chartDir())
	if err != nil {
		t.Fatal(err)
	}
	vals, err := util.ToRenderValues(chrt, values, common.ReleaseOptions{Name: "test", Namespace: "lantern", IsInstall: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(chrt, vals)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChartRendersValidManifests renders the chart and decodes every
// manifest strictly into its Kubernetes API type: a misspelt or misplaced
// field fails here, not at kubectl apply.
func TestChartRendersValidManifests(t *testing.T) {
	var deployments []appsv1.Deployment
	kinds := map[string]int{}
	for name, doc := range render(t, externalValues) {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, part := range strings.Split(doc, "\n---") {
			if strings.TrimSpace(stripComments(part)) == "" {
				continue
			}
			kind, obj := decodeStrict(t, fmt.Sprintf("%s#%d", name, i), []byte(part))
			kinds[kind]++
			if d, ok := obj.(*appsv1.Deployment); ok {
				deployments = append(deployments, *d)
			}
		}
	}
	services := len(topology.Services)
	for kind, want := range map[string]int{"Deployment": services, "Service": services, "PodDisruptionBudget": services,
		"Job": 1, "PersistentVolumeClaim": 1, "Ingress": 1} {
		if kinds[kind] != want {
			t.Errorf("%d %s manifests, want %d", kinds[kind], kind, want)
		}
	}
	for _, d := range deployments {
		checkDeployment(t, d)
	}
}

func stripComments(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// decodeStrict decodes one manifest into the API type its kind names,
// refusing unknown fields and duplicate keys.
func decodeStrict(t *testing.T, where string, doc []byte) (string, any) {
	t.Helper()
	var head struct{ APIVersion, Kind string }
	if err := yaml.Unmarshal(doc, &head); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	types := map[string]any{
		"apps/v1/Deployment": &appsv1.Deployment{}, "v1/Service": &corev1.Service{},
		"policy/v1/PodDisruptionBudget": &policyv1.PodDisruptionBudget{}, "batch/v1/Job": &batchv1.Job{},
		"v1/PersistentVolumeClaim": &corev1.PersistentVolumeClaim{}, "networking.k8s.io/v1/Ingress": &networkingv1.Ingress{},
	}
	obj, ok := types[head.APIVersion+"/"+head.Kind]
	if !ok {
		t.Fatalf("%s: %s %s is not a kind this check knows", where, head.APIVersion, head.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Errorf("%s (%s): %v", where, head.Kind, err)
	}
	return head.Kind, obj
}

// secretVariables must come from Secrets, never be written in the chart.
var secretVariables = []string{"LANTERN_MATCH_KEY", "LANTERN_INTAKE_TOKENS", "DATABASE_URL", "DATABASE_OWNER_URL", "LANTERN_OIDC_CLIENT_SECRET"}

func checkDeployment(t *testing.T, d appsv1.Deployment) {
	t.Helper()
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("%s runs fewer than two replicas", d.Name)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s/%s: no readiness probe on /readyz", d.Name, c.Name)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s/%s: no liveness probe on /healthz", d.Name, c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s/%s: no resource requests", d.Name, c.Name)
		}
		for _, e := range c.Env {
			if slices.Contains(secretVariables, e.Name) && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s/%s: %s is not read from a Secret", d.Name, c.Name, e.Name)
			}
		}
	}
}

// TestChartDeclaresItsDependencies holds the broker and the operator to
// their own projects' charts, declared and never copied in.
func TestChartDeclaresItsDependencies(t *testing.T) {
	chrt, err := loader.Load(chartDir())
	if err != nil {
		t.Fatal(err)
	}
	repos := map[string]string{}
	for _, d := range chrt.Metadata.Dependencies {
		repos[d.Name] = d.Repository
	}
	if repos["nats"] != "https://nats-io.github.io/k8s/helm/charts/" {
		t.Errorf("the official NATS chart is not a dependency: %v", repos)
	}
	if repos["cloudnative-pg"] != "https://cloudnative-pg.github.io/charts" {
		t.Errorf("the CloudNativePG chart is not a dependency: %v", repos)
	}
	if _, err := os.Stat(filepath.Join(chartDir(), "charts")); err == nil {
		t.Error("deploy/helm/lantern/charts exists: dependencies are fetched, never committed")
	}
	if len(chrt.Dependencies()) != 0 {
		t.Errorf("the chart carries %d dependency charts", len(chrt.Dependencies()))
	}
	// The default values render too: nothing in the chart depends on the
	// overrides above to be valid.
	if out := render(t, nil); !bytes.Contains([]byte(out["lantern/templates/deployments.yaml"]), []byte("kind: Deployment")) {
		t.Error("the default values render no Deployment")
	}
}
