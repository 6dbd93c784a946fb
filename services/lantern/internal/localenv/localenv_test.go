package localenv_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
)

func TestFindReadsTheNearestStateFolderAbove(t *testing.T) {
	t.Setenv("LANTERN_STATE_DIR", "")
	root := t.TempDir()
	state := filepath.Join(root, localenv.StateDirName)
	deep := filepath.Join(root, "services", "lantern")
	for _, d := range []string{state, deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := localenv.Find(deep); ok || err != nil {
		t.Fatalf("before make run wrote anything: ok %v, err %v", ok, err)
	}
	want := localenv.Settings{DatabaseURL: "postgres://127.0.0.1:5999/lantern", NATSURL: "nats://127.0.0.1:4999"}
	if err := localenv.Write(state, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := localenv.Find(deep)
	if !ok || err != nil {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	if diff := cmp.Diff(want, got.Settings); diff != "" || got.Path != filepath.Join(state, localenv.FileName) {
		t.Errorf("from %s (-want +got):\n%s", got.Path, diff)
	}
	if info, err := os.Stat(got.Path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v (%v), want 0600: the database address may hold a password", info.Mode(), err)
	}
	if err := localenv.Remove(state); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := localenv.Find(deep); ok {
		t.Error("settings still found after Remove")
	}
}

func TestResolvePrefersTheFlagThenTheEnvironmentThenMakeRun(t *testing.T) {
	state := t.TempDir()
	t.Setenv("LANTERN_STATE_DIR", state)
	if err := localenv.Write(state, localenv.Settings{NATSURL: "nats://local"}); err != nil {
		t.Fatal(err)
	}
	local := func(s localenv.Settings) string { return s.NATSURL }
	t.Setenv("NATS_URL", "")
	cases := []struct {
		name    string
		flag    string
		flagSet bool
		env     string
		want    localenv.Setting
	}{
		{"only make run's", "", false, "", localenv.Setting{Value: "nats://local", Source: filepath.Join(state, localenv.FileName)}},
		{"the environment", "", false, "nats://env", localenv.Setting{Value: "nats://env", Source: "NATS_URL"}},
		{"the flag", "nats://flag", true, "nats://env", localenv.Setting{Value: "nats://flag", Source: "--nats-url"}},
		{"the flag, even empty", "", true, "nats://env", localenv.Setting{Value: "", Source: "--nats-url"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NATS_URL", tc.env)
			got, err := localenv.Resolve("nats-url", tc.flag, tc.flagSet, "NATS_URL", local)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
