package refdata

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// byteOrderMark is what spreadsheet programs often put at the start of a
// UTF-8 file. It is dropped, so the first column's name still matches.
var byteOrderMark = []byte("\uFEFF")

// csvRow is one data record of a CSV file with the line each field is on.
type csvRow struct {
	fields []string
	lines  []int
}

// readTable reads a CSV file whose header must be exactly columns and
// returns its data rows. complete is false when some rows could not be read
// (the file is missing, its header is wrong or it is not valid CSV), so that
// other files are not reported as pointing at keys that only seem missing.
func (l *loader) readTable(file string, columns []string) (rows []csvRow, complete bool) {
	data, ok := l.snap.files[file]
	if !ok {
		l.fileProblem(file, "file is missing")
		return nil, false
	}
	reader := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, byteOrderMark)))
	reader.FieldsPerRecord = -1
	// Spreadsheets and people write "a, b"; the space after a comma is
	// never part of a value, and a quoted value may follow it.
	reader.TrimLeadingSpace = true
	header, err := reader.Read()
	if errors.Is(err, io.EOF) {
		l.fileProblem(file, "file is empty; want the header row "+strings.Join(columns, ","))
		return nil, false
	}
	if err != nil {
		l.csvSyntaxProblem(file, err)
		return nil, false
	}
	if !l.checkHeader(file, trimAll(header), columns) {
		return nil, false
	}
	return l.readRows(file, reader, len(columns))
}

// readRows reads every record after the header. A record with the wrong
// number of fields is reported and skipped; a syntax error stops the file,
// because the reader cannot tell where the next record starts.
func (l *loader) readRows(file string, reader *csv.Reader, width int) (rows []csvRow, complete bool) {
	complete = true
	for {
		record, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return rows, complete
		}
		if err != nil {
			l.csvSyntaxProblem(file, err)
			return rows, false
		}
		line, _ := reader.FieldPos(0)
		if len(record) != width {
			l.add(Problem{File: file, Line: line,
				Message: fmt.Sprintf("has %d fields, want %d", len(record), width)})
			complete = false
			continue
		}
		row := csvRow{fields: trimAll(record), lines: make([]int, width)}
		for i := range record {
			row.lines[i], _ = reader.FieldPos(i)
		}
		rows = append(rows, row)
	}
}

func (l *loader) csvSyntaxProblem(file string, err error) {
	var parseErr *csv.ParseError
	if errors.As(err, &parseErr) {
		l.add(Problem{File: file, Line: parseErr.Line, Message: "is not valid CSV: " + parseErr.Err.Error()})
		return
	}
	l.fileProblem(file, "is not valid CSV: "+err.Error())
}

// checkHeader reports each missing, unexpected or repeated column by name,
// or, when the names are right, that they are out of order.
func (l *loader) checkHeader(file string, header, columns []string) bool {
	before := len(l.problems)
	want := "; want " + strings.Join(columns, ",")
	seen := map[string]bool{}
	for i, name := range header {
		switch {
		case name == "":
			l.add(Problem{File: file, Line: 1, Message: fmt.Sprintf("column %d has no name%s", i+1, want)})
		case seen[name]:
			l.add(Problem{File: file, Line: 1, Field: name, Message: "column appears more than once"})
		case !slices.Contains(columns, name):
			l.add(Problem{File: file, Line: 1, Field: name, Message: "unexpected column" + want})
		}
		seen[name] = true
	}
	for _, name := range columns {
		if !seen[name] {
			l.add(Problem{File: file, Line: 1, Field: name, Message: "column is missing" + want})
		}
	}
	if len(l.problems) == before && !slices.Equal(header, columns) {
		l.add(Problem{File: file, Line: 1, Message: fmt.Sprintf("columns are out of order: got %s, want %s",
			strings.Join(header, ","), strings.Join(columns, ","))})
	}
	return len(l.problems) == before
}

// trimAll drops the spaces around each value, which spreadsheet exports
// sometimes leave and which never belong to a code, time or address.
func trimAll(values []string) []string {
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.TrimSpace(v)
	}
	return trimmed
}

// rowCheck reads the fields of one CSV row, reporting each bad value as a
// problem on its file, line and column and returning the zero value for it,
// so that a row's every problem is found in one pass.
type rowCheck struct {
	l       *loader
	file    string
	columns []string
	row     csvRow
}

func (l *loader) rowCheck(file string, columns []string, row csvRow) rowCheck {
	return rowCheck{l: l, file: file, columns: columns, row: row}
}

// line returns the line the row starts on.
func (c rowCheck) line() int { return c.row.lines[0] }

func (c rowCheck) problemf(col int, format string, args ...any) {
	c.l.add(Problem{File: c.file, Line: c.row.lines[col], Field: c.columns[col], Message: fmt.Sprintf(format, args...)})
}

// required returns the column's value, reporting it when empty.
func (c rowCheck) required(col int) string {
	v := c.row.fields[col]
	if v == "" {
		c.problemf(col, "a value is required")
	}
	return v
}

// parsed returns the column's value converted by parse, reporting an empty
// value or parse's error.
func parsed[T any](c rowCheck, col int, parse func(string) (T, error)) T {
	var zero T
	v := c.required(col)
	if v == "" {
		return zero
	}
	out, err := parse(v)
	if err != nil {
		c.problemf(col, "%s", err.Error())
		return zero
	}
	return out
}
