package timeliness_test

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/golden"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := timeliness.WriteHTML(&b, report(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, banned := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script`), regexp.MustCompile(`(?i)<link`), regexp.MustCompile(`(?i)<img`),
		regexp.MustCompile(`(?i)(src|href)\s*=\s*"?(https?:)?//`), regexp.MustCompile(`(?i)@import|url\(`),
	} {
		if loc := banned.FindStringIndex(page); loc != nil {
			t.Errorf("page loads something from outside: %q", page[loc[0]:min(loc[1]+40, len(page))])
		}
	}
	for _, want := range []string{"Child Centred Practice and Direct Support for Children",
		"Support and Protection for Adults", "Multi-Agency and Partnership Collaboration",
		"Effective Intervention, Risk Management and Criminal Justice", "Leadership, Strategic Planning",
		"<svg", "60.0%", "endpoint refused"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	golden.Check(t, "report.html.golden", b.Bytes())
}

func TestCSVHasFiguresBreachesAndChannels(t *testing.T) {
	var b bytes.Buffer
	if err := timeliness.WriteCSV(&b, report(t)); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("reading CSV back: %v", err)
	}
	kinds := map[string]int{}
	for _, r := range records[1:] {
		kinds[r[0]]++
		if len(r) != len(records[0]) {
			t.Errorf("record has %d fields, header %d", len(r), len(records[0]))
		}
	}
	if diff := cmp.Diff(map[string]int{"figures": 5, "breach": 5, "channel": 3}, kinds); diff != "" {
		t.Errorf("records by kind (-want +got):\n%s", diff)
	}
	golden.Check(t, "report.csv.golden", b.Bytes())
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	rep := timeliness.Report{Themes: []timeliness.ThemeSection{{Theme: timeliness.Theme{Number: 4, Name: "x"},
		Breaches: []timeliness.Breach{{RecipientName: "=HYPERLINK(\"http://evil\")", Reason: "-1 day", RuleID: "R15"}}}}}
	var b bytes.Buffer
	if err := timeliness.WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := records[1]
	if got[22] != `'=HYPERLINK("http://evil")` || got[26] != "'-1 day" {
		t.Errorf("recipient %q, reason %q; want both neutralised with a leading apostrophe", got[22], got[26])
	}
}
