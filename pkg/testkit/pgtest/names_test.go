package pgtest

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDatabaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		adminURL string
		database string
		want     string
	}{
		{
			name:     "keeps user, host and query",
			adminURL: "postgres://postgres@127.0.0.1:41234/postgres?sslmode=disable",
			database: "test_abc",
			want:     "postgres://postgres@127.0.0.1:41234/test_abc?sslmode=disable",
		},
		{
			name:     "keeps the password",
			adminURL: "postgresql://lantern:secret@db:5432/lantern",
			database: "tpl_x_1",
			want:     "postgresql://lantern:secret@db:5432/tpl_x_1",
		},
		{
			name:     "adds a missing path",
			adminURL: "postgres://postgres@localhost:5433",
			database: "test_1",
			want:     "postgres://postgres@localhost:5433/test_1",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, databaseURL(tc.adminURL, tc.database)); diff != "" {
				t.Errorf("databaseURL(%q, %q) (-want +got):\n%s", tc.adminURL, tc.database, diff)
			}
		})
	}
}

func TestUniqueNameIsASafeIdentifier(t *testing.T) {
	t.Parallel()
	safe := regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	cases := []struct {
		name string
		key  string
	}{
		{name: "plain", key: "router"},
		{name: "punctuation and capitals", key: "Ledger-Store/v2 (audit)"},
		{name: "very long", key: "a-template-key-that-is-far-longer-than-any-identifier-may-be"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first := uniqueName("tpl_" + identifierPart(tc.key))
			second := uniqueName("tpl_" + identifierPart(tc.key))
			if !safe.MatchString(first) {
				t.Errorf("uniqueName for %q = %q, not a safe unquoted identifier", tc.key, first)
			}
			if first == second {
				t.Errorf("two names for %q are both %q", tc.key, first)
			}
		})
	}
}
