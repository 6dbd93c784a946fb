package devidp_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
)

// ownReference writes a reference folder of an acceptance test's own: one
// local authority, a nursery and a school, two services, one practice.
func ownReference(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	shipped := "../../../../reference"
	copyFile(t, filepath.Join(shipped, "bank-holidays.json"), filepath.Join(dir, "bank-holidays.json"))
	if err := os.MkdirAll(filepath.Join(dir, "calendars"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(shipped, "calendars", "medway-standard.json"), filepath.Join(dir, "calendars", "town.json"))
	files := map[string]string{
		"local_authorities.csv": "code,name,mash_email,mash_hours,early_years_opt_in\nE09000033,Westminster City Council,mash@w.lantern.test,Mon-Fri 09:00-17:00,true\n",
		"schools.csv": "urn,name,local_authority_code,phase,dsl_email,day_start,calendar_id\n" +
			"200002,Abbey Road Primary,E09000033,primary,dsl@a.lantern.test,08:30,town\n" +
			"200001,Little Acorns Nursery,E09000033,nursery,dsl@l.lantern.test,08:00,town\n",
		"services.csv":     "local_authority_code,kind,name,email\nE09000033,probation,Westminster Probation,p@w.lantern.test\nE09000033,home_education,Westminster EHE,e@w.lantern.test\n",
		"gp_practices.csv": "ods_code,name,safeguarding_email\nA81001,Marylebone Surgery,s@m.lantern.test\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type brief struct {
	Username, Role, Organisation string
	Featured                     bool
}

func TestUsersAreMadeFromAnyReferenceData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	f, err := devidp.GenerateUsersFile(ownReference(t), path)
	if err != nil {
		t.Fatalf("GenerateUsersFile() error = %v", err)
	}
	var got []brief
	for _, u := range f.Users {
		got = append(got, brief{u.Username, u.Role, u.Organisation, u.Featured})
		if len(u.Password) < 12 {
			t.Errorf("%s has a short password", u.Username)
		}
	}
	want := []brief{
		{"mash-worker.e09000033", "mash_worker", "mash:E09000033", true},
		{"mash-manager.e09000033", "mash_manager", "mash:E09000033", true},
		{"key-adult.200001", "school_key_adult", "early_years:200001", true},
		{"key-adult.200002", "school_key_adult", "school:200002", false},
		{"home-education.e09000033", "home_education_officer", "home_education:E09000033", true},
		{"probation.e09000033", "probation", "probation:E09000033", true},
		{"gp.a81001", "health", "gp:A81001", true},
		{"auditor", "auditor", "", true},
		{"administrator", "administrator", "", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	loaded, err := devidp.LoadUsers(path)
	if err != nil {
		t.Fatalf("LoadUsers() error = %v", err)
	}
	again, err := devidp.GenerateUsersFile(ownReference(t), path)
	if err != nil {
		t.Fatalf("GenerateUsersFile() again: %v", err)
	}
	if diff := cmp.Diff(loaded, again); diff != "" {
		t.Errorf("a second run changed the users (-first +second):\n%s", diff)
	}
}

func TestLoadUsersRefusesAUserWithNoRole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	body := `{"users":[{"username":"x","password":"p","name":"X","role":"school_key_adult","organisation":"mash:E06000035"}]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devidp.LoadUsers(path); err == nil {
		t.Error("LoadUsers() accepted a key adult of a MASH")
	}
}
