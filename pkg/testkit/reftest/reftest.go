// Package reftest builds reference data folders for tests: a test names
// the few rows it needs as file contents, and gets them loaded the way a
// service loads the partnership's real folder.
package reftest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// Load writes files (slash-separated names relative to the folder, such as
// calendars/leeds.json) into a new temporary folder and loads it as
// reference data, failing the test if the data does not load.
func Load(t testing.TB, files map[string]string) *refdata.Set {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := refdata.Load(dir)
	if err != nil {
		t.Fatalf("loading the test reference data: %v", err)
	}
	return set
}
