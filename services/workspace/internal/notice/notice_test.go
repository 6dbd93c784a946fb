package notice_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
)

func TestNameKeyMatchesTheSameNameWrittenDifferently(t *testing.T) {
	cases := []struct{ a, b string }{
		{"Jane Doe", "  JANE   doe "},
		{"Mary-Jane O'Neil", "mary jane o neil"},
		{"Zoë Smith", "ZOË SMITH"},
	}
	for _, tc := range cases {
		if ka, kb := notice.NameKey(tc.a), notice.NameKey(tc.b); ka != kb {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q; want equal", tc.a, ka, tc.b, kb)
		}
	}
	if notice.NameKey("Jane Doe") == notice.NameKey("Jane Dow") {
		t.Error("different names share a key")
	}
}

func TestDefaultRAG(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		dash  string
		want  string
	}{
		{"the router's proposal wins", []string{"marac_criteria_met", "default_rag_amber"}, "high", "amber"},
		{"high DASH without a proposal", nil, "high", "red"},
		{"medium DASH without a proposal", nil, "medium", "amber"},
		{"no DASH", nil, "not_completed", "green"},
		{"a malformed proposal is ignored", []string{"default_rag_blue"}, "standard", "green"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := notice.DefaultRAG(tc.flags, tc.dash); got != tc.want {
				t.Errorf("DefaultRAG() = %q, want %q", got, tc.want)
			}
		})
	}
}
