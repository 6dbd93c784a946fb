package refimport_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/refimport"
)

// sampleOptions import the shipped register samples: a GIAS download in
// Windows-1252 as GIAS publishes it, an epraccur file with no header, and
// the GOV.UK bank holidays with all three divisions.
func sampleOptions(t *testing.T) refimport.Options {
	return refimport.Options{
		GIAS: "testdata/gias-edubase.csv", ODS: "testdata/epraccur.csv", BankHolidays: "testdata/bank-holidays.json",
		Contacts: "testdata/safeguarding-contacts.csv", LACodes: map[string]string{"887": "E06000035", "886": "E10000016"},
		CalendarID: "medway-standard", Base: filepath.Join("..", "..", "..", "..", "reference"),
		Out: filepath.Join(t.TempDir(), "reference"),
	}
}

func TestImportWritesAFolderLanternLoadsAndSaysWhatItLeftOut(t *testing.T) {
	o := sampleOptions(t)
	sum, err := refimport.Import(o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum.Write(&out)
	want := `schools.csv: 4 written, 4 skipped:
  2 closed or not yet open (100001, 150000)
  1 in a local authority not mapped with --la (102000)
  1 without a DSL address in the contacts file (131000)
gp_practices.csv: 2 written, 3 skipped:
  1 not a GP practice (prescribing setting other than 4) (Y01234)
  1 not active (closed, dormant or proposed) (G82230)
  1 without a safeguarding address in the contacts file (G82999)
bank-holidays.json: 8 written, 5 skipped:
  2 in northern-ireland, which Lantern's working days do not use
  3 in scotland, which Lantern's working days do not use
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	set, err := refdata.Load(o.Out)
	if err != nil {
		t.Fatalf("the imported folder does not load: %v", err)
	}
	if w := set.Warnings(); len(w) != 0 {
		t.Errorf("loading warned: %v", w)
	}
	schools := map[string]refdata.Phase{"118234": refdata.PhasePrimary, "136512": refdata.PhaseSecondary,
		"145870": refdata.PhaseMiddle, "118901": refdata.PhaseNotApplicable}
	for urn, phase := range schools {
		s, ok := set.School(urn)
		if !ok || s.Phase != phase {
			t.Errorf("school %s: %+v, %v; want phase %s", urn, s, ok, phase)
		}
	}
	if s, _ := set.School("145870"); s.Name != "St Thérèse's Catholic Primary School" || s.Calendar.ID != "medway-standard" {
		t.Errorf("school 145870 is %q on calendar %q: the Windows-1252 name or the default calendar was lost", s.Name, s.Calendar.ID)
	}
	if s, _ := set.School("118901"); s.LocalAuthorityCode != "E10000016" || s.Calendar.ID != "kent-standard" {
		t.Errorf("school 118901: local authority %s, calendar %s", s.LocalAuthorityCode, s.Calendar.ID)
	}
	if p, ok := set.GPPractice("G82001"); !ok || p.Name != "Chatham Maritime Medical Practice" {
		t.Errorf("practice G82001: %+v, %v", p, ok)
	}
	if _, ok := set.GPPractice("G82230"); ok {
		t.Error("a closed practice was imported")
	}
}

func TestImportRefusesAFolderInUseAndARegisterWithoutItsColumns(t *testing.T) {
	o := sampleOptions(t)
	if _, err := refimport.Import(o); err != nil {
		t.Fatal(err)
	}
	if _, err := refimport.Import(o); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("importing into the same folder again: %v, want a refusal", err)
	}
	o = sampleOptions(t)
	o.GIAS = "testdata/epraccur.csv"
	if _, err := refimport.Import(o); err == nil || !strings.Contains(err.Error(), "has no column URN") {
		t.Errorf("epraccur given as GIAS: %v, want the missing columns named", err)
	}
}
