package refdata

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// The shapes of the codes in reference data. They catch a value put in the
// wrong column or mistyped; they do not prove the code was ever issued.
var (
	// An ONS (GSS) area code: a country letter and eight digits.
	localAuthorityCodePattern = regexp.MustCompile(`^[A-Z][0-9]{8}$`)
	// A URN from Get Information about Schools (six digits, seven for
	// newer registrations) or an Ofsted early-years URN ("EY" and six digits).
	urnPattern = regexp.MustCompile(`^([0-9]{6,7}|EY[0-9]{6})$`)
	// An NHS ODS code for a GP practice: a letter and five digits.
	odsCodePattern = regexp.MustCompile(`^[A-Z][0-9]{5}$`)
	// A calendar id is also a file name, so it is kept to characters that
	// are safe in any file system and cannot climb out of calendars/.
	calendarIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
)

// The parsers of the codes: each takes a value of its shape as it is.
var (
	parseLocalAuthorityCode = matching(localAuthorityCodePattern, "an ONS local authority code like E06000035")
	parseURN                = matching(urnPattern, "a URN: want 6 or 7 digits, or EY and 6 digits")
	parseODSCode            = matching(odsCodePattern, "a GP practice ODS code like G82001")
	parseCalendarID         = matching(calendarIDPattern, "a calendar id: use up to 64 lower-case letters, digits, '-' and '_'")
)

// matching parses a value that must match pattern; what names the shape
// in the refusal.
func matching(pattern *regexp.Regexp, what string) func(string) (string, error) {
	return func(s string) (string, error) {
		if !pattern.MatchString(s) {
			return "", fmt.Errorf("%q is not %s", s, what)
		}
		return s, nil
	}
}

// parseEmail accepts a bare address (no display name) whose domain has at
// least two labels: enough to catch a name, a phone number or a typo in the
// column, without pretending to know which mailboxes exist.
func parseEmail(s string) (string, error) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", fmt.Errorf("%q is not a plausible email address", s)
	}
	_, domain, _ := strings.Cut(s, "@")
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || slices.Contains(labels, "") {
		return "", fmt.Errorf("%q is not a plausible email address", s)
	}
	return s, nil
}

func parseTimeOfDay(s string) (calendar.TimeOfDay, error) {
	t, err := calendar.ParseTimeOfDay(s)
	if err != nil {
		return calendar.TimeOfDay{}, fmt.Errorf("%q is not a valid HH:MM time", s)
	}
	return t, nil
}

func parseDate(s string) (calendar.Date, error) {
	d, err := calendar.ParseDate(s)
	if err != nil {
		return calendar.Date{}, fmt.Errorf("%q is not a valid YYYY-MM-DD date", s)
	}
	return d, nil
}

// parseBool accepts true or false in any letter case, as spreadsheets write
// TRUE and FALSE; it refuses yes, no, 1 and 0 so that every file reads alike.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// parseServiceKind accepts the contract's service kinds and any kind a
// partnership's routing policy may declare (lowercase words joined by _);
// the router refuses a policy whose declared kind has no service here.
func parseServiceKind(s string) (events.RecipientKind, error) {
	kind := events.RecipientKind(s)
	if !slices.Contains(ServiceKinds(), kind) && (events.IsBuiltinKind(kind) || !events.PlainKindWord(s)) {
		return "", fmt.Errorf("%q is not a service kind; want one of %s, or a kind the routing policy declares (lowercase words joined by _)",
			s, joinValues(ServiceKinds()))
	}
	return kind, nil
}

func joinValues[S ~string](values []S) string {
	texts := make([]string, len(values))
	for i, v := range values {
		texts[i] = string(v)
	}
	return strings.Join(texts, ", ")
}
