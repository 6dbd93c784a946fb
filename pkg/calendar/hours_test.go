package calendar_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// week builds the Days of OpeningHours from the weekdays named.
func openDays(days ...time.Weekday) [7]bool {
	var w [7]bool
	for _, d := range days {
		w[d] = true
	}
	return w
}

func TestParseOpeningHours(t *testing.T) {
	t.Parallel()
	weekdays := openDays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
	everyDay := openDays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday,
		time.Saturday, time.Sunday)
	cases := []struct {
		in   string
		want calendar.OpeningHours
	}{
		{
			in: "Mon-Fri 09:00-17:00",
			want: calendar.OpeningHours{Days: weekdays, Open: calendar.TimeOfDay{Hour: 9},
				Close: calendar.TimeOfDay{Hour: 17}, Text: "Mon-Fri 09:00-17:00"},
		},
		{
			in: "  mon-fri 08:45-17:15 ",
			want: calendar.OpeningHours{Days: weekdays, Open: calendar.TimeOfDay{Hour: 8, Minute: 45},
				Close: calendar.TimeOfDay{Hour: 17, Minute: 15}, Text: "mon-fri 08:45-17:15"},
		},
		{
			in: "Mon-Sun 00:00-24:00",
			want: calendar.OpeningHours{Days: everyDay, Open: calendar.TimeOfDay{},
				Close: calendar.TimeOfDay{Hour: 24}, Text: "Mon-Sun 00:00-24:00"},
		},
		{
			in: "Mon,Wed,Fri 09:00-13:00",
			want: calendar.OpeningHours{Days: openDays(time.Monday, time.Wednesday, time.Friday),
				Open: calendar.TimeOfDay{Hour: 9}, Close: calendar.TimeOfDay{Hour: 13},
				Text: "Mon,Wed,Fri 09:00-13:00"},
		},
		{
			in: "Mon-Wed,Sat-Sun 10:00-16:30",
			want: calendar.OpeningHours{
				Days: openDays(time.Monday, time.Tuesday, time.Wednesday, time.Saturday, time.Sunday),
				Open: calendar.TimeOfDay{Hour: 10}, Close: calendar.TimeOfDay{Hour: 16, Minute: 30},
				Text: "Mon-Wed,Sat-Sun 10:00-16:30"},
		},
		{
			in: "Sun 07:00-19:00",
			want: calendar.OpeningHours{Days: openDays(time.Sunday), Open: calendar.TimeOfDay{Hour: 7},
				Close: calendar.TimeOfDay{Hour: 19}, Text: "Sun 07:00-19:00"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := calendar.ParseOpeningHours(tc.in)
			if err != nil {
				t.Fatalf("ParseOpeningHours(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseOpeningHours(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseOpeningHoursRefusesBadText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		wantErr string
	}{
		{"", `opening hours "": want days then times, like "Mon-Fri 09:00-17:00"`},
		{"Mon-Fri", `opening hours "Mon-Fri": want days then times, like "Mon-Fri 09:00-17:00"`},
		{"Mon - Fri 09:00-17:00", `opening hours "Mon - Fri 09:00-17:00": want days then times, like "Mon-Fri 09:00-17:00"`},
		{"Mun-Fri 09:00-17:00", `opening hours "Mun-Fri 09:00-17:00": day "Mun" is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun`},
		{"Monday-Friday 09:00-17:00", `opening hours "Monday-Friday 09:00-17:00": day "Monday" is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun`},
		{"Fri-Mon 09:00-17:00", `opening hours "Fri-Mon 09:00-17:00": day range "Fri-Mon" runs backwards; ranges run from Mon to Sun`},
		{"Mon-Fri,Wed 09:00-17:00", `opening hours "Mon-Fri,Wed 09:00-17:00": Wednesday is named more than once`},
		{"Mon,,Tue 09:00-17:00", `opening hours "Mon,,Tue 09:00-17:00": day "" is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun`},
		{"Mon-Fri 9-5", `opening hours "Mon-Fri 9-5": opening time "9" is not a valid HH:MM time`},
		{"Mon-Fri 09:00", `opening hours "Mon-Fri 09:00": times "09:00" are not HH:MM-HH:MM`},
		{"Mon-Fri 09:00-17.00", `opening hours "Mon-Fri 09:00-17.00": closing time "17.00" is not a valid HH:MM time`},
		{"Mon-Fri 24:00-24:00", `opening hours "Mon-Fri 24:00-24:00": opening time "24:00" is not a valid HH:MM time`},
		{"Mon-Fri 17:00-09:00", `opening hours "Mon-Fri 17:00-09:00": closing time 09:00 is not after opening time 17:00`},
		{"Mon-Fri 09:00-09:00", `opening hours "Mon-Fri 09:00-09:00": closing time 09:00 is not after opening time 09:00`},
		{"Mon-Fri 09:00-24:01", `opening hours "Mon-Fri 09:00-24:01": closing time "24:01" is not a valid HH:MM time`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			_, err := calendar.ParseOpeningHours(tc.in)
			if err == nil {
				t.Fatalf("ParseOpeningHours(%q) succeeded, want error %q", tc.in, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantErr, err.Error()); diff != "" {
				t.Errorf("ParseOpeningHours(%q) error (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestOpeningHoursEndOfDay shows that a closing time of 24:00 means midnight
// at the start of the next day, so a service open all day closes no earlier.
func TestOpeningHoursEndOfDay(t *testing.T) {
	t.Parallel()
	hours, err := calendar.ParseOpeningHours("Mon-Sun 00:00-24:00")
	if err != nil {
		t.Fatalf("ParseOpeningHours: %v", err)
	}
	day := calendar.Date{Year: 2026, Month: time.October, Day: 24}
	got := hours.Close.On(day, calendar.London)
	want := time.Date(2026, time.October, 25, 0, 0, 0, 0, calendar.London)
	if !got.Equal(want) {
		t.Errorf("Close.On(%s) = %s, want %s", day, got, want)
	}
}
