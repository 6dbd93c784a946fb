package refdata

import (
	"path"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// calendarTimezone is the only zone a school calendar may be written in:
// every deadline is computed in Europe/London.
const calendarTimezone = "Europe/London"

// calendarFile is the JSON shape of calendars/<calendar_id>.json. Dates stay
// strings here so that each bad one is reported with its own line.
type calendarFile struct {
	Timezone string     `json:"timezone"`
	Terms    []termFile `json:"terms"`
	Closed   []string   `json:"closed"`
}

type termFile struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// loadCalendars reads every calendar file. A calendar that has problems is
// still recorded as present, so schools that use it are not also reported
// as pointing at a missing file.
func (l *loader) loadCalendars() {
	if l.snap.calendarsMissing {
		l.fileProblem(dirCalendars+"/", "folder is missing")
		return
	}
	for _, file := range l.snap.calendarFiles() {
		id, err := parseCalendarID(strings.TrimSuffix(path.Base(file), ".json"))
		if err != nil {
			l.fileProblem(file, "file name: "+err.Error())
			continue
		}
		l.calendars[id] = l.loadCalendar(file, id)
	}
}

func (l *loader) loadCalendar(file, id string) calendar.SchoolCalendar {
	var raw calendarFile
	// Unknown fields are refused: a misspelt "closed" would otherwise drop
	// every INSET day without a word and put deadlines on days the school
	// is shut.
	doc, ok := l.decodeJSON(file, &raw, json.RejectUnknownMembers(true))
	if !ok {
		return calendar.SchoolCalendar{ID: id}
	}
	l.checkTimezone(doc, raw.Timezone)
	terms := l.calendarTerms(doc, raw.Terms)
	return calendar.SchoolCalendar{ID: id, Terms: terms, Closed: l.closedDays(doc, raw.Closed, terms)}
}

func (l *loader) checkTimezone(doc jsonDoc, timezone string) {
	switch timezone {
	case calendarTimezone:
	case "":
		l.add(doc.problemAt("/timezone", "a value is required; want %q", calendarTimezone))
	default:
		l.add(doc.problemAt("/timezone", "%q is not allowed; want %q", timezone, calendarTimezone))
	}
}

// calendarTerms checks each term's dates and that the terms run in order
// without overlapping, and returns the terms whose dates are valid.
func (l *loader) calendarTerms(doc jsonDoc, raw []termFile) []calendar.Term {
	if len(raw) == 0 {
		l.add(doc.problemAt("/terms", "at least one term is required"))
		return nil
	}
	var terms []calendar.Term
	for i, t := range raw {
		pointer := jsontext.Pointer("/terms/" + strconv.Itoa(i))
		term, ok := l.calendarTerm(doc, pointer, t)
		if !ok {
			continue
		}
		if n := len(terms); n > 0 && !terms[n-1].End.Before(term.Start) {
			l.add(doc.problemAt(pointer+"/start", "term starts on %s, before the previous term ends on %s; terms must be in order and must not overlap",
				term.Start, terms[n-1].End))
		}
		terms = append(terms, term)
	}
	return terms
}

func (l *loader) calendarTerm(doc jsonDoc, pointer jsontext.Pointer, raw termFile) (calendar.Term, bool) {
	start, startOK := l.jsonDate(doc, pointer+"/start", pointer, raw.Start)
	end, endOK := l.jsonDate(doc, pointer+"/end", pointer, raw.End)
	if !startOK || !endOK {
		return calendar.Term{}, false
	}
	if end.Before(start) {
		l.add(doc.problemAt(pointer+"/end", "term ends on %s, before it starts on %s", end, start))
		return calendar.Term{}, false
	}
	return calendar.Term{Start: start, End: end}, true
}

// closedDays checks that each closure day is a valid date, listed once and
// inside one of the terms: a closure outside term would mean the dates are
// wrong, since the school is shut then anyway.
func (l *loader) closedDays(doc jsonDoc, raw []string, terms []calendar.Term) map[calendar.Date]bool {
	closed := map[calendar.Date]bool{}
	for i, s := range raw {
		pointer := jsontext.Pointer("/closed/" + strconv.Itoa(i))
		day, ok := l.jsonDate(doc, pointer, pointer, s)
		switch {
		case !ok:
		case closed[day]:
			l.add(doc.problemAt(pointer, "%s is listed more than once", day))
		case !inAnyTerm(day, terms):
			l.add(doc.problemAt(pointer, "%s is not inside any term", day))
		default:
			closed[day] = true
		}
	}
	return closed
}

func inAnyTerm(day calendar.Date, terms []calendar.Term) bool {
	for _, t := range terms {
		if !day.Before(t.Start) && !t.End.Before(day) {
			return true
		}
	}
	return false
}

// jsonDate parses a date found at pointer. An absent date is reported at
// its parent, the object it is missing from, whose line is known.
func (l *loader) jsonDate(doc jsonDoc, pointer, parent jsontext.Pointer, s string) (calendar.Date, bool) {
	if s == "" {
		p := doc.problemAt(pointer, "a value is required")
		if _, present := doc.valueLines[pointer]; !present {
			p.Line = doc.valueLines[parent]
		}
		l.add(p)
		return calendar.Date{}, false
	}
	d, err := parseDate(s)
	if err != nil {
		l.add(doc.problemAt(pointer, "%s", err.Error()))
		return calendar.Date{}, false
	}
	return d, true
}
