// Package refimport turns the public registers a safeguarding partnership
// already holds into Lantern's reference data files (contract section 3):
// the GIAS establishment download into schools.csv, the NHS ODS GP
// practice file (epraccur) into gp_practices.csv, and the GOV.UK bank
// holidays JSON into bank-holidays.json. Registers hold no safeguarding
// addresses, so those come from the partnership's own contacts file;
// every row left out is counted with the reason.
package refimport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// Options say where the registers are and how to fill what they lack.
type Options struct {
	// GIAS, ODS and BankHolidays are the downloaded files; each may be
	// empty, and that file then comes from Base.
	GIAS, ODS, BankHolidays string
	// Contacts is the partnership's safeguarding contacts file:
	// kind,code,email,day_start,calendar_id (kind school or gp).
	Contacts string
	// LACodes maps GIAS's three-digit LA codes to the ONS codes of
	// local_authorities.csv; schools of other authorities are left out.
	LACodes map[string]string
	// DayStart and CalendarID are a school's when its contacts row has none.
	DayStart, CalendarID string
	// Base is a reference folder whose other files (local authorities,
	// services, calendars) are copied into Out.
	Base string
	// Out is the folder written; it must not exist or be empty.
	Out string
}

// Summary is what an import wrote and what it left out, and why.
type Summary struct {
	Files []FileSummary
}

// FileSummary is one written file.
type FileSummary struct {
	Name    string
	Written int
	// Skipped counts rows left out, by reason; Examples names a few of
	// each by their public code (URN, ODS code), never a person.
	Skipped  map[string]int
	Examples map[string][]string
}

func newFileSummary(name string) *FileSummary {
	return &FileSummary{Name: name, Skipped: map[string]int{}, Examples: map[string][]string{}}
}

func (f *FileSummary) skip(reason, code string) {
	f.Skipped[reason]++
	if len(f.Examples[reason]) < 5 {
		f.Examples[reason] = append(f.Examples[reason], code)
	}
}

// Write prints the summary for a person.
func (s Summary) Write(w io.Writer) {
	for _, f := range s.Files {
		fmt.Fprintf(w, "%s: %d written", f.Name, f.Written)
		total := 0
		for _, n := range f.Skipped {
			total += n
		}
		if total == 0 {
			fmt.Fprintln(w, ", none skipped")
			continue
		}
		fmt.Fprintf(w, ", %d skipped:\n", total)
		reasons := make([]string, 0, len(f.Skipped))
		for r := range f.Skipped {
			reasons = append(reasons, r)
		}
		slices.Sort(reasons)
		for _, r := range reasons {
			fmt.Fprintf(w, "  %d %s", f.Skipped[r], r)
			if ex := f.Examples[r]; len(ex) > 0 {
				more := ""
				if f.Skipped[r] > len(ex) {
					more = ", …"
				}
				fmt.Fprintf(w, " (%s%s)", strings.Join(ex, ", "), more)
			}
			fmt.Fprintln(w)
		}
	}
}

// Import reads the registers, writes the reference folder Out and checks
// it loads as Lantern would load it.
func Import(o Options) (Summary, error) {
	if err := prepareOut(o.Out); err != nil {
		return Summary{}, err
	}
	contacts, err := readContacts(o.Contacts)
	if err != nil {
		return Summary{}, err
	}
	var s Summary
	steps := []func() (*FileSummary, error){
		func() (*FileSummary, error) {
			return copyBase(o.Base, o.Out, o.GIAS != "", o.ODS != "", o.BankHolidays != "")
		},
		func() (*FileSummary, error) { return importGIAS(o, contacts) },
		func() (*FileSummary, error) { return importODS(o, contacts) },
		func() (*FileSummary, error) { return importBankHolidays(o) },
	}
	for _, step := range steps {
		f, err := step()
		if err != nil {
			return s, err
		}
		if f != nil {
			s.Files = append(s.Files, *f)
		}
	}
	if _, err := refdata.Load(o.Out); err != nil {
		return s, fmt.Errorf("the imported folder %s does not load: %w", o.Out, err)
	}
	return s, nil
}

func prepareOut(dir string) error {
	if dir == "" {
		return errors.New("no output folder")
	}
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: import writes a whole reference folder, so give it a new one", dir)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.MkdirAll(filepath.Join(dir, "calendars"), 0o755)
}
