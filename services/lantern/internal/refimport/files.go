package refimport

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Files of the contract's reference folder that import writes.
const (
	schoolsFile      = "schools.csv"
	gpPracticesFile  = "gp_practices.csv"
	bankHolidaysFile = "bank-holidays.json"
)

// copyBase copies Base's files into out, leaving out those the import
// writes itself.
func copyBase(base, out string, schools, practices, holidays bool) (*FileSummary, error) {
	if base == "" {
		return nil, nil
	}
	skip := map[string]bool{schoolsFile: schools, gpPracticesFile: practices, bankHolidaysFile: holidays}
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(base, path)
		if err != nil || skip[filepath.ToSlash(rel)] || !(strings.HasSuffix(rel, ".csv") || strings.HasSuffix(rel, ".json")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(out, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, rel), data, 0o644)
	})
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", base, err)
	}
	return nil, nil
}

// readRegister reads a CSV register, in UTF-8 or, as GIAS publishes it,
// Windows-1252.
func readRegister(path string, header bool) ([]string, [][]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		if raw, err = charmap.Windows1252.NewDecoder().Bytes(raw); err != nil {
			return nil, nil, fmt.Errorf("%s is neither UTF-8 nor Windows-1252: %w", path, err)
		}
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !header || len(rows) == 0 {
		return nil, rows, nil
	}
	return rows[0], rows[1:], nil
}

// columns finds the named columns in header, refusing a file without them.
func columns(path string, header []string, names ...string) (map[string]int, error) {
	at := map[string]int{}
	for i, h := range header {
		at[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, n := range names {
		if _, ok := at[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s has no column %s: is it the right download?", path, strings.Join(missing, ", "))
	}
	return at, nil
}

func cell(row []string, i int) string {
	if i < len(row) {
		return strings.TrimSpace(row[i])
	}
	return ""
}

func writeCSV(path string, header []string, rows [][]string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		return err
	}
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// contact is a partnership's safeguarding contact for one school or
// practice.
type contact struct {
	email, dayStart, calendarID string
}

// contactKey is kind ("school" or "gp") and code (URN or ODS code).
type contactKey struct{ kind, code string }

// readContacts reads kind,code,email,day_start,calendar_id.
func readContacts(path string) (map[contactKey]contact, error) {
	out := map[contactKey]contact{}
	if path == "" {
		return out, nil
	}
	header, rows, err := readRegister(path, true)
	if err != nil {
		return nil, err
	}
	at, err := columns(path, header, "kind", "code", "email")
	if err != nil {
		return nil, err
	}
	day, hasDay := at["day_start"]
	cal, hasCal := at["calendar_id"]
	for _, row := range rows {
		c := contact{email: cell(row, at["email"])}
		if hasDay {
			c.dayStart = cell(row, day)
		}
		if hasCal {
			c.calendarID = cell(row, cal)
		}
		out[contactKey{strings.ToLower(cell(row, at["kind"])), strings.ToUpper(cell(row, at["code"]))}] = c
	}
	return out, nil
}
