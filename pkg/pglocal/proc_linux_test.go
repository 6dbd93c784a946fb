package pglocal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadStat(t *testing.T) {
	t.Parallel()
	type stat struct {
		PID, PPID int
		State     string
		OK        bool
	}
	cases := []struct {
		name    string
		content string
		want    stat
	}{
		{
			name:    "plain command name",
			content: "4242 (postgres) S 4200 4242 4242 0 -1 4194560",
			want:    stat{PID: 4242, PPID: 4200, State: "S", OK: true},
		},
		{
			name:    "name with spaces and parentheses",
			content: "77 (postgres: checkpointer (x)) Z 76 77 77 0",
			want:    stat{PID: 77, PPID: 76, State: "Z", OK: true},
		},
		{
			name:    "truncated",
			content: "77 (postgres)",
			want:    stat{},
		},
		{
			name:    "garbage",
			content: "not a stat line",
			want:    stat{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "stat")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			var got stat
			got.PID, got.PPID, got.State, got.OK = readStat(path)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("readStat(%q) (-want +got):\n%s", tc.content, diff)
			}
		})
	}
}
