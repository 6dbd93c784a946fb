package refdata

import (
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// bankHolidaysDivision is the division of the GOV.UK file whose holidays
// Lantern uses; Scotland and Northern Ireland have their own.
const bankHolidaysDivision = "england-and-wales"

// bankHolidaysFile is the JSON shape of the GOV.UK bank holidays file: one
// entry per division. Fields Lantern does not use are accepted, so the file
// can be taken as published.
type bankHolidaysFile map[string]bankHolidaysDivisionFile

type bankHolidaysDivisionFile struct {
	Division string             `json:"division"`
	Events   []bankHolidayEvent `json:"events"`
}

type bankHolidayEvent struct {
	Title   string `json:"title"`
	Date    string `json:"date"`
	Notes   string `json:"notes"`
	Bunting bool   `json:"bunting"`
}

func (l *loader) loadBankHolidays() {
	var raw bankHolidaysFile
	doc, ok := l.decodeJSON(fileBankHolidays, &raw)
	if !ok {
		return
	}
	division, ok := raw[bankHolidaysDivision]
	if !ok {
		l.add(doc.problemAt("/"+bankHolidaysDivision, "division is missing"))
		return
	}
	base := jsontext.Pointer("/" + bankHolidaysDivision)
	if len(division.Events) == 0 {
		l.add(doc.problemAt(base+"/events", "at least one bank holiday is required"))
		return
	}
	for i, event := range division.Events {
		pointer := base + jsontext.Pointer("/events/"+strconv.Itoa(i))
		day, ok := l.jsonDate(doc, pointer+"/date", pointer, event.Date)
		switch {
		case !ok:
		case l.set.holidays[day]:
			l.add(doc.problemAt(pointer+"/date", "%s is listed more than once", day))
		default:
			l.set.holidays[day] = true
		}
	}
}
