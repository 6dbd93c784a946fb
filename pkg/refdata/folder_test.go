package refdata_test

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// validFolder is the smallest folder that loads: one of everything. Tests
// change one file at a time, so every line number in their expectations can
// be read straight off these texts.
func validFolder() map[string]string {
	return map[string]string{
		"local_authorities.csv": "" +
			"code,name,mash_email,mash_hours,early_years_opt_in\n" +
			"E06000035,Medway Council,mash@medway.lantern.test,Mon-Fri 09:00-17:00,false\n",
		"schools.csv": "" +
			"urn,name,local_authority_code,phase,dsl_email,day_start,calendar_id\n" +
			"118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,08:40,medway-standard\n",
		"gp_practices.csv": "" +
			"ods_code,name,safeguarding_email\n" +
			"G82001,Chatham Maritime Medical Practice,safeguarding.g82001@nhs.lantern.test\n",
		"services.csv": "" +
			"local_authority_code,kind,name,email\n" +
			"E06000035,midwifery,Medway Maternity Safeguarding Team,maternity@medway.lantern.test\n",
		"calendars/medway-standard.json": `{
  "timezone": "Europe/London",
  "terms": [
    {"start": "2026-09-01", "end": "2026-10-23"},
    {"start": "2026-11-02", "end": "2026-12-18"}
  ],
  "closed": ["2026-09-01"]
}
`,
		"bank-holidays.json": `{
  "england-and-wales": {
    "division": "england-and-wales",
    "events": [
      {"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true},
      {"title": "Boxing Day", "date": "2026-12-28", "notes": "Substitute day", "bunting": true}
    ]
  }
}
`,
	}
}

// withFiles returns the valid folder with some files replaced or added.
func withFiles(changes map[string]string) map[string]string {
	files := validFolder()
	maps.Copy(files, changes)
	return files
}

// without returns the valid folder with some files left out.
func without(names ...string) map[string]string {
	files := validFolder()
	for _, name := range names {
		delete(files, name)
	}
	return files
}

// writeFolder writes files into a new temporary folder and returns its path.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, dir, name, content)
	}
	return dir
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("creating folder for %s: %v", name, err)
	}
	// Writing beside the file and renaming it over the old one means a
	// Store checking at the same moment sees the old or the new content,
	// never half of it.
	temporary := path + ".partial"
	if err := os.WriteFile(temporary, []byte(content), 0o644); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
	if err := os.Rename(temporary, path); err != nil {
		t.Fatalf("replacing %s: %v", name, err)
	}
}

// copyFolder copies a reference data folder, so tests can change the copy.
func copyFolder(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	err := filepath.WalkDir(from, func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		writeFile(t, to, filepath.ToSlash(rel), string(data))
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", from, err)
	}
	return to
}
