package contacts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// columns is the header the contacts file must have, in this order.
var columns = []string{"recipient_kind", "recipient_id", "manager_name", "manager_email"}

// Column positions in columns.
const (
	colKind = iota
	colID
	colName
	colEmail
)

// LoadError lists every problem found in the contacts file. Each problem
// names the file, line and field, never the value, because values are
// people's and teams' addresses.
type LoadError struct {
	Problems []string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%s has %d problems:\n  %s", FileName, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Load reads the contacts file from the reference data folder dir. A
// missing file gives an empty book, because the file is optional; a file
// with any problem gives a *LoadError listing them all.
func Load(dir string) (*Book, error) {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return &Book{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", FileName, err)
	}
	return Parse(data)
}

// Parse reads the content of a contacts file.
func Parse(data []byte) (*Book, error) {
	p := &parser{book: &Book{version: digest(data), managers: map[key]Contact{}},
		firstLine: map[key]int{}}
	p.read(bytes.TrimPrefix(data, []byte("\ufeff")))
	if len(p.problems) > 0 {
		return nil, &LoadError{Problems: p.problems}
	}
	return p.book, nil
}

// parser collects every problem in one pass, so that whoever edits the
// file can fix them all at once.
type parser struct {
	book      *Book
	firstLine map[key]int
	problems  []string
}

func (p *parser) problemf(line int, field, format string, args ...any) {
	where := fmt.Sprintf("%s line %d", FileName, line)
	if field != "" {
		where += ", field " + field
	}
	p.problems = append(p.problems, where+": "+fmt.Sprintf(format, args...))
}

func (p *parser) read(data []byte) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		p.problemf(1, "", "%s", describeHeaderError(err))
		return
	}
	if !slices.Equal(trimAll(header), columns) {
		p.problemf(1, "", "the header must be exactly %s", strings.Join(columns, ","))
		return
	}
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			p.problemf(line, "", "not valid CSV: %s", csvReason(err))
			return
		}
		p.row(line, trimAll(record))
	}
}

func describeHeaderError(err error) string {
	if errors.Is(err, io.EOF) {
		return "the file is empty; it needs at least the header " + strings.Join(columns, ",")
	}
	return "not valid CSV: " + csvReason(err)
}

// csvReason keeps the parser's reason but drops its position, which the
// caller reports in Lantern's own form.
func csvReason(err error) string {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return perr.Err.Error()
	}
	return err.Error()
}

func (p *parser) row(line int, values []string) {
	if len(values) != len(columns) {
		p.problemf(line, "", "has %d values; every row needs %d", len(values), len(columns))
		return
	}
	ok := true
	for i, v := range values {
		if v == "" {
			p.problemf(line, columns[i], "is required")
			ok = false
		}
	}
	kind := events.RecipientKind(values[colKind])
	if values[colKind] != "" && !kind.Valid() && kind != PoliceKind {
		p.problemf(line, columns[colKind], "%q is not a recipient kind, nor %s for a force", values[colKind], PoliceKind)
		ok = false
	}
	if values[colEmail] != "" && !bareAddress(values[colEmail]) {
		p.problemf(line, columns[colEmail], "is not a bare email address with a domain of at least two labels")
		ok = false
	}
	if !ok {
		return
	}
	k := key{kind, values[colID]}
	if first, dup := p.firstLine[k]; dup {
		p.problemf(line, columns[colID], "this recipient is already listed on line %d", first)
		return
	}
	p.firstLine[k] = line
	p.book.managers[k] = Contact{Name: values[colName], Address: values[colEmail], Source: SourceContactsFile}
}

// bareAddress accepts an address like team@la.example and nothing with a
// display name, comments or a one-label domain.
func bareAddress(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	labels := strings.Split(domain, ".")
	return len(labels) >= 2 && !slices.Contains(labels, "")
}

func trimAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.TrimSpace(v)
	}
	return out
}
