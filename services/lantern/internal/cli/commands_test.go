package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cli"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// commandPaths lists every command of the tree, as the words that call it.
func commandPaths(c *cobra.Command, prefix []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() {
			continue
		}
		path := append(append([]string(nil), prefix...), sub.Name())
		out = append(out, path)
		out = append(out, commandPaths(sub, path)...)
	}
	return out
}

func TestEveryCommandAnswersHelp(t *testing.T) {
	paths := append([][]string{{}}, commandPaths(cli.NewRoot(), nil)...)
	if len(paths) < 12 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	for _, path := range paths {
		t.Run(strings.Join(append([]string{"lantern"}, path...), " "), func(t *testing.T) {
			code, out, errOut := run(t, append(path, "--help")...)
			if code != 0 || !strings.Contains(out, "Usage:") || errOut != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and a usage text", code, out, errOut)
			}
		})
	}
}

func TestCommandLineMistakesSayWhatToType(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"audit"}, "lantern audit: needs a command: digest, disclosures, replay, report, timeline, verify"},
		{[]string{"audit", "timelin"}, `unknown command "timelin"; did you mean timeline?`},
		{[]string{"audti"}, "did you mean audit?"},
		{[]string{"audit", "timeline"}, "needs <incident_id>: type lantern audit timeline <incident_id>"},
		{[]string{"audit", "timeline", "a", "b"}, "takes 1 argument(s), but was given 2"},
		{[]string{"audit", "report", "--format", "xml"}, `invalid argument "xml" for "--format" flag: must be one of html, csv, json`},
		{[]string{"audit", "report"}, "type lantern audit report --from 2026-11-01 --to 2026-11-30"},
		{[]string{"audit", "replay"}, "type lantern audit replay --target-database-url"},
		{[]string{"audit", "verify", "--chain-onyl"}, "unknown flag: --chain-onyl"},
		{[]string{"dlq", "redrive"}, "needs exactly one of --seq N or --all"},
		{[]string{"db", "grants", "--prefix", "Lantern"}, `--prefix: role prefix "Lantern": use lower-case letters`},
		{[]string{"policy"}, "lantern policy: needs a command: simulate"},
		{[]string{"retention"}, "lantern retention: needs a command: hold, plan, release, reseal, run"},
		{[]string{"keys"}, "lantern keys: needs a command: rewrap, status"},
		{[]string{"audit", "disclosures"}, "name the person with one of --nhs-number or --police-person-id"},
		{[]string{"policy", "simulate", "--from", "2026-11-01"}, "type lantern policy simulate --policy my-policy.yaml --from 2026-11-01 --to 2026-11-30"},
		{[]string{"policy", "simulate", "--policy", "p.yaml", "--from", "2026-11-31", "--to", "2026-11-30"}, "--from and --to are days as YYYY-MM-DD"},
		{[]string{"policy", "simulate", "--policy", "p.yaml", "--from", "2026-11-30", "--to", "2026-11-01"}, "--to 2026-11-01 is before --from 2026-11-30"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "--help' for usage") {
				t.Errorf("exit %d, stderr %q; want 2, %q and the help to run", code, errOut, tc.want)
			}
		})
	}
}

// TestDBGrantsPrintsTheShippedRoles: what an administrator is told to run
// is the file deploy/postgres/roles.sql ships, which pkg/dbroles keeps in
// step with its role table.
func TestDBGrantsPrintsTheShippedRoles(t *testing.T) {
	code, out, errOut := run(t, "db", "grants")
	shipped, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "deploy", "postgres", "roles.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(shipped) {
		t.Errorf("lantern db grants: exit %d, stderr %q; want 0 and deploy/postgres/roles.sql", code, errOut)
	}
}

func TestShellCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := run(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "lantern") {
			t.Errorf("completion %s: exit %d, stderr %q", shell, code, errOut)
		}
	}
	code, out, _ := run(t, "__complete", "audit", "report", "--format", "")
	if code != 0 || !strings.HasPrefix(out, "html\ncsv\njson\n") {
		t.Errorf("completing --format: exit %d, %q", code, out)
	}
	code, out, _ = run(t, "__complete", "audit", "")
	for _, sub := range []string{"timeline", "verify", "replay", "digest", "report"} {
		if code != 0 || !strings.Contains(out, sub) {
			t.Errorf("completing audit: exit %d, %q lacks %s", code, out, sub)
		}
	}
}

// projectWithSettings makes a project folder whose .lantern holds the
// connection settings make run would leave, and works from a folder below
// it, with nothing in the environment.
func projectWithSettings(t *testing.T, s localenv.Settings) string {
	root := t.TempDir()
	state := filepath.Join(root, localenv.StateDirName)
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := localenv.Write(state, s); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "docs")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	for _, env := range []string{"DATABASE_URL", "NATS_URL", "LANTERN_STATE_DIR", "LANTERN_CHECKPOINT_DIR", "LANTERN_LEDGER_KEY_FILE"} {
		t.Setenv(env, "")
	}
	return filepath.Join(state, localenv.FileName)
}

func TestCommandsUseTheServersMakeRunLeftInDotLantern(t *testing.T) {
	url, pool := pt.NewDatabase(t)
	pt.Record(t, pool, sampleIncident(t).Events()...)
	// A NATS server that is not Lantern's: it has none of its streams.
	other := natstest.RunServer(t)
	settings := projectWithSettings(t, localenv.Settings{DatabaseURL: url, NATSURL: other.URL()})

	if code, out, errOut := run(t, "audit", "digest"); code != 0 || !strings.Contains(out, "total") {
		t.Fatalf("digest from .lantern's database: exit %d, %s%s", code, out, errOut)
	}
	code, _, errOut := run(t, "audit", "replay", "--from", "stream", "--target-database-url", emptyDatabase(t))
	for _, want := range []string{"stream LANTERN_EVENTS not found on the NATS server at " + other.URL(), settings} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("replay from a server without the stream: exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
	}
	code, _, errOut = run(t, "dlq", "list")
	if code != 1 || !strings.Contains(errOut, "stream LANTERN_DLQ not found on the NATS server at "+other.URL()) {
		t.Errorf("dlq list: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("NATS_URL", "nats://127.0.0.1:1")
	code, _, errOut = run(t, "dlq", "list")
	if code != 1 || !strings.Contains(errOut, "connecting to NATS at nats://127.0.0.1:1 (from NATS_URL)") {
		t.Errorf("the environment overrides .lantern: exit %d, stderr %q", code, errOut)
	}
}

func TestRefdataImportOnTheShippedSamples(t *testing.T) {
	samples := filepath.Join("..", "refimport", "testdata")
	out := filepath.Join(t.TempDir(), "reference")
	code, stdout, errOut := run(t, "refdata", "import", "--gias", filepath.Join(samples, "gias-edubase.csv"),
		"--ods", filepath.Join(samples, "epraccur.csv"), "--bank-holidays", filepath.Join(samples, "bank-holidays.json"),
		"--contacts", filepath.Join(samples, "safeguarding-contacts.csv"), "--la", "887=E06000035", "--la", "886=E10000016",
		"--calendar-id", "medway-standard", "--base", filepath.Join("..", "..", "..", "..", "reference"), "--out", out)
	for _, want := range []string{"schools.csv: 4 written, 4 skipped", "gp_practices.csv: 2 written, 3 skipped", "it loads"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, stdout, errOut, want)
		}
	}
	if code, _, errOut := run(t, "refdata", "import", "--la", "887", "--gias", "x.csv", "--out", out); code != 2 ||
		!strings.Contains(errOut, "type --la 887=E06000035") {
		t.Errorf("a bad --la: exit %d, stderr %q", code, errOut)
	}
}
