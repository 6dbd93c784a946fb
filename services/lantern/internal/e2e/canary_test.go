package e2e_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// canaries replace the sample notice's personal data with strings found
// nowhere else, so that any copy of them, anywhere, is found.
var canaries = map[string]string{
	"Jane Doe":                     "Zephyrine Quillfeather",
	"John Roe":                     "Barnabus Thistlewick",
	"Amy Doe":                      "Ottoline Brackenbury",
	"9434765919":                   "7382946150",
	"said she hid upstairs":        "whispered about marmalade lighthouses",
	"free text, for the MASH only": "narrative of the copper kettle canary",
	"family home":                  "flat above the pelican bakery",
}

func canaryPPN(t *testing.T) []byte {
	body := cluster.SamplePPN(t)
	for from, to := range canaries {
		if !bytes.Contains(body, []byte(from)) {
			t.Fatalf("the sample notice no longer holds %q", from)
		}
		body = bytes.ReplaceAll(body, []byte(from), []byte(to))
	}
	return body
}

// TestCanary_PersonalDataIsNeverOnDiskInPlaintext posts a notice whose
// personal data are unique strings and, once the pipeline has settled,
// searches every file of the broker's store, a pg_dump of the whole
// database, the ledger's checkpoints and every service's log for each of
// them, as text and as the hex a bytea column is dumped in: there must be
// none. The entitled readers still read them: the police through intake,
// the MASH through the workspace, the observer on the stream.
func TestCanary_PersonalDataIsNeverOnDiskInPlaintext(t *testing.T) {
	// Every service, the workspace and escalation included: each keeps
	// something, and each logs.
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Services: topology.Names()}), t: t}
	id := p.accept(canaryPPN(t))
	recipients := p.decided(id)
	p.settled(id, len(wantFlow(len(recipients))))

	p.checkEntitledReadersReadTheCanaries(id)
	// The ledger writes its final checkpoint as it stops.
	p.Stop("ledger")
	var needles [][]byte
	for _, c := range canaries {
		needles = append(needles, []byte(c), []byte(hex.EncodeToString([]byte(c))))
	}
	places := map[string][]byte{"pg_dump of the database": p.dump()}
	store, checkpoints := filesUnder(t, p.NATSStore()), filesUnder(t, p.checkpointDir())
	if len(store) == 0 || len(checkpoints) == 0 {
		t.Fatalf("%d broker store files and %d checkpoints: nothing to search", len(store), len(checkpoints))
	}
	for name, b := range store {
		places["broker store "+name] = b
	}
	for name, b := range checkpoints {
		places["checkpoint "+name] = b
	}
	for _, svc := range topology.Names() {
		places[svc+" log"] = []byte(p.Log(svc))
	}
	for place, b := range places {
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s holds %q in plaintext", place, n)
			}
		}
	}
}

func (p pipeline) checkEntitledReadersReadTheCanaries(id string) {
	p.t.Helper()
	got := p.get("/v1/incidents/" + id)
	if got.Status != http.StatusOK || !strings.Contains(mustJSON(p.t, got.Body), canaries["Amy Doe"]) {
		p.t.Errorf("the police's GET of the incident = %d, without the child's name", got.Status)
	}
	read := false
	for _, u := range sampleUsers(p.t, p.Cluster) {
		if u.Role != "mash_worker" {
			continue
		}
		var incident map[string]any
		if status := apiStatus(p.t, p.Cluster, signIn(p.t, p.Cluster, u), "/mash/incidents/"+id, &incident); status == http.StatusOK {
			read = strings.Contains(mustJSON(p.t, incident), canaries["Amy Doe"]) &&
				strings.Contains(mustJSON(p.t, incident), canaries["said she hid upstairs"])
			break
		}
	}
	if !read {
		p.t.Error("no MASH worker read the incident's child and voice in the workspace")
	}
	js, err := jetstream.New(p.ConnectNATS(natsauth.Observer))
	if err != nil {
		p.t.Fatal(err)
	}
	s, err := js.Stream(p.t.Context(), bus.EventsStream)
	if err != nil {
		p.t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(p.t.Context(), "sg.incident.reported")
	if err != nil || !bytes.Contains(msg.Data, []byte(canaries["Jane Doe"])) {
		p.t.Errorf("the observer's read of incident.reported: %v, without the victim's name", err)
	}
}

// dump is pg_dump of the whole database, as the superuser.
func (p pipeline) dump() []byte {
	p.t.Helper()
	out, err := exec.Command(pgDump(p.t), "--no-owner", "--dbname="+p.DatabaseURL).Output()
	if err != nil {
		p.t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(out, []byte("CREATE TABLE ledger.entries")) || !bytes.Contains(out, []byte(id(p))) {
		p.t.Fatal("the dump lacks the ledger or the incident: it would prove nothing")
	}
	return out
}

func id(p pipeline) string {
	return p.strings(`SELECT incident_id::text FROM intake.incidents`)[0]
}

// pgDump finds pg_dump beside the server binaries the test PostgreSQL runs.
func pgDump(t *testing.T) string {
	if path, err := exec.LookPath("pg_dump"); err == nil {
		return path
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(matches) == 0 {
		t.Fatal("pg_dump not found on PATH or in /usr/lib/postgresql")
	}
	return matches[len(matches)-1]
}

func (p pipeline) checkpointDir() string {
	for _, kv := range p.Env() {
		if dir, ok := strings.CutPrefix(kv, "LANTERN_CHECKPOINT_DIR="); ok {
			return dir
		}
	}
	p.t.Fatal("the cluster sets no checkpoint directory")
	return ""
}

func filesUnder(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil {
			out[strings.TrimPrefix(path, dir)] = b
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apiStatus GETs a workspace API path as the token's user and returns the
// status, decoding a 200's body into out.
func apiStatus(t *testing.T, c *cluster.Cluster, token, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.BaseURL+"/v1/workspace"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
