package simulate_test

import (
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/reftest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// now is a Monday morning in term time, when the tests run their feeds.
var now = time.Date(2026, 11, 23, 7, 30, 0, 0, time.UTC)

func shippedReference(t *testing.T) *refdata.Set {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	set, err := refdata.Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "reference"))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// knownAreas answers the intake's question from a reference set, as the
// intake itself does.
type knownAreas struct{ set *refdata.Set }

func (k knownAreas) KnownLocalAuthority(code string) bool {
	_, ok := k.set.LocalAuthority(code)
	return ok
}

func newGenerator(t *testing.T, ref *refdata.Set, seed uint64, times simulate.Times) *simulate.Generator {
	t.Helper()
	g, err := simulate.New(simulate.Config{Seed: seed, Mix: simulate.DefaultMix(), Reference: ref, Force: "SIM",
		RunTag: "test", Times: times})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// feeds are the three ways of placing incidents in time.
func feeds(ref *refdata.Set) map[string]func() simulate.Times {
	season := simulate.Season{Holidays: ref.Holidays()}
	return map[string]func() simulate.Times{
		"live": func() simulate.Times { return simulate.Live{Clock: clock.NewFake(now)} },
		"history": func() simulate.Times {
			return &simulate.History{Start: now.AddDate(-1, 0, 0), PerDay: 25, Season: season}
		},
		"burst": func() simulate.Times {
			return &simulate.Burst{End: now, Window: simulate.WeekendWindow, Count: 10000, Season: season}
		},
	}
}

func TestEveryNoticePassesTheIntakeRules(t *testing.T) {
	ref := shippedReference(t)
	for name, times := range feeds(ref) {
		t.Run(name, func(t *testing.T) {
			g := newGenerator(t, ref, 7, times())
			references := map[string]bool{}
			for i := range 1500 {
				n := g.Next()
				in := decodeAndValidate(t, ref, n)
				if in == nil {
					t.Fatalf("notice %d refused", i)
				}
				if references[in.PoliceReference] {
					t.Fatalf("police reference %s used twice", in.PoliceReference)
				}
				references[in.PoliceReference] = true
			}
		})
	}
}

// decodeAndValidate puts a notice through the intake's strict decoder and
// rules, and returns it as decoded, or nil after reporting why it failed.
func decodeAndValidate(t *testing.T, ref *refdata.Set, n simulate.Notice) *ppn.Incident {
	t.Helper()
	body, err := n.Body()
	if err != nil {
		t.Fatal(err)
	}
	in, err := ppn.Decode(body)
	if err == nil {
		err = in.Validate(knownAreas{ref}, now)
	}
	if err != nil {
		t.Errorf("notice %s: %v\n%s", n.Incident.PoliceReference, err, body)
		return nil
	}
	if diff := cmp.Diff(&n.Incident, in); diff != "" {
		t.Errorf("notice changed on the way through the decoder (-generated +decoded):\n%s", diff)
	}
	return in
}

func TestSameSeedGivesTheSameFeed(t *testing.T) {
	ref := shippedReference(t)
	history := feeds(ref)["history"]
	first, second, other := newGenerator(t, ref, 42, history()), newGenerator(t, ref, 42, history()), newGenerator(t, ref, 43, history())
	var a, b, c []simulate.Notice
	for range 500 {
		a, b, c = append(a, first.Next()), append(b, second.Next()), append(c, other.Next())
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two feeds with one seed differ (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Error("feeds with different seeds are identical")
	}
}

// shares counts features over a feed.
type shares struct {
	notices, withChildren, children, pregnant, probation, repeat int
	dash                                                         map[string]int
}

func measure(t *testing.T, g *simulate.Generator, n int) shares {
	t.Helper()
	s := shares{notices: n, dash: map[string]int{}}
	for range n {
		notice := g.Next()
		in := notice.Incident
		if len(in.Children) > 0 {
			s.withChildren++
			s.children += len(in.Children)
		}
		s.dash[in.DASH.Level]++
		for _, a := range in.Adults {
			if a.Pregnant {
				s.pregnant++
			}
			if a.Role == ppn.RolePerpetrator && a.OnProbation {
				s.probation++
			}
		}
		if notice.Repeat {
			s.repeat++
		}
	}
	return s
}

func TestMixMatchesTheConfiguredShares(t *testing.T) {
	ref := shippedReference(t)
	mix := simulate.DefaultMix()
	s := measure(t, newGenerator(t, ref, 2026, feeds(ref)["history"]()), 10000)
	frac := func(k int) float64 { return float64(k) / float64(s.notices) }
	cases := []struct {
		name      string
		want, got float64
		tolerance float64
	}{
		{"share with children", mix.ChildShare, frac(s.withChildren), 0.02},
		{"children per incident with any", mix.MeanChildren(), float64(s.children) / float64(s.withChildren), 0.06},
		{"DASH standard", mix.DASH.Standard, frac(s.dash[ppn.DASHStandard]), 0.02},
		{"DASH medium", mix.DASH.Medium, frac(s.dash[ppn.DASHMedium]), 0.02},
		{"DASH high", mix.DASH.High, frac(s.dash[ppn.DASHHigh]), 0.015},
		{"DASH not completed", mix.DASH.NotCompleted, frac(s.dash[ppn.DASHNotCompleted]), 0.01},
		{"pregnant victims", mix.PregnantShare, frac(s.pregnant), 0.01},
		{"perpetrators on probation", mix.ProbationShare, frac(s.probation), 0.015},
		{"repeat families", mix.RepeatShare, frac(s.repeat), 0.02},
	}
	for _, tc := range cases {
		if math.Abs(tc.want-tc.got) > tc.tolerance {
			t.Errorf("%s = %.4f, want %.4f ± %.3f", tc.name, tc.got, tc.want, tc.tolerance)
		}
	}
}

func TestConfiguredSharesAreFollowed(t *testing.T) {
	ref := shippedReference(t)
	mix := simulate.DefaultMix()
	mix.ChildShare, mix.RepeatShare, mix.PregnantShare = 0.6, 0, 0.2
	mix.DASH = simulate.DASHShares{High: 1}
	g, err := simulate.New(simulate.Config{Seed: 5, Mix: mix, Reference: ref, Force: "SIM", RunTag: "t",
		Times: feeds(ref)["history"]()})
	if err != nil {
		t.Fatal(err)
	}
	s := measure(t, g, 5000)
	got := []float64{float64(s.withChildren) / 5000, float64(s.repeat), float64(s.pregnant) / 5000, float64(s.dash[ppn.DASHHigh])}
	want := []float64{0.6, 0, 0.2, 5000}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) <= 0.03 })); diff != "" {
		t.Errorf("shares (-want +got):\n%s", diff)
	}
}

func TestRepeatFamiliesAreTheSamePeople(t *testing.T) {
	ref := shippedReference(t)
	g := newGenerator(t, ref, 11, feeds(ref)["history"]())
	seen := map[string]ppn.Child{}
	matched := 0
	for range 4000 {
		n := g.Next()
		for _, c := range n.Incident.Children {
			if c.NHSNumber == "" {
				continue
			}
			earlier, ok := seen[c.NHSNumber]
			if ok && !n.Repeat {
				t.Fatalf("NHS number %s reused outside a repeat family", c.NHSNumber)
			}
			if ok {
				matched++
				if earlier.Name != c.Name || earlier.DateOfBirth != c.DateOfBirth {
					t.Fatalf("repeat child changed: %+v then %+v", earlier, c)
				}
			}
			seen[c.NHSNumber] = c
		}
	}
	if matched == 0 {
		t.Error("no child appeared in a second incident")
	}
}

func TestWeekendsAndHolidaysArePeaks(t *testing.T) {
	ref := shippedReference(t)
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, calendar.London)
	g := newGenerator(t, ref, 3, &simulate.History{Start: start, PerDay: 60, Season: simulate.Season{Holidays: ref.Holidays()}})
	perDay := map[calendar.Date]int{}
	for range 20000 {
		perDay[calendar.DateOf(g.Next().Incident.OccurredAt.In(calendar.London))]++
	}
	var weekend, weekday, weekendDays, weekdayDays float64
	for day, n := range perDay {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend, weekendDays = weekend+float64(n), weekendDays+1
		} else {
			weekday, weekdayDays = weekday+float64(n), weekdayDays+1
		}
	}
	if ratio := (weekend / weekendDays) / (weekday / weekdayDays); ratio < 1.3 {
		t.Errorf("weekend days average %.2f times a weekday, want a peak of at least 1.3", ratio)
	}
	christmas := perDay[calendar.Date{Year: 2025, Month: time.December, Day: 25}]
	if mean := weekday / weekdayDays; float64(christmas) < 1.1*mean {
		t.Errorf("Christmas Day had %d incidents against a weekday mean of %.1f", christmas, mean)
	}
}

func TestBurstFallsInItsWindowInOrder(t *testing.T) {
	ref := shippedReference(t)
	g := newGenerator(t, ref, 9, &simulate.Burst{End: now, Window: simulate.WeekendWindow, Count: 1000,
		Season: simulate.Season{Holidays: ref.Holidays()}})
	var last time.Time
	for i := range 1000 {
		in := g.Next().Incident
		if in.OccurredAt.Before(now.Add(-simulate.WeekendWindow)) || in.ReportedAt.After(now) {
			t.Fatalf("notice %d happened at %s, reported %s: outside the weekend before %s", i, in.OccurredAt, in.ReportedAt, now)
		}
		if in.OccurredAt.Before(last) {
			t.Fatalf("notice %d is out of time order", i)
		}
		last = in.OccurredAt
	}
}

func TestAnyReferenceFolderWillDo(t *testing.T) {
	ref := otherReference(t)
	g := newGenerator(t, ref, 1, simulate.Live{Clock: clock.NewFake(now)})
	urns := map[string]bool{}
	for range 2000 {
		in := decodeAndValidate(t, ref, g.Next())
		if in == nil {
			t.FailNow()
		}
		for _, c := range in.Children {
			if c.Education != nil && c.Education.URN != "" {
				urns[c.Education.URN] = true
			}
			if c.GPODSCode != "" && c.GPODSCode != "B86001" {
				t.Fatalf("GP practice %s is not in the folder", c.GPODSCode)
			}
		}
	}
	want := map[string]bool{"107500": true, "108000": true, "EY123456": true, "130500": true}
	if diff := cmp.Diff(want, urns); diff != "" {
		t.Errorf("settings drawn (-folder +drawn):\n%s", diff)
	}
}

// otherReference writes a reference folder unlike the shipped one: another
// area, a nursery, and a college.
func otherReference(t *testing.T) *refdata.Set {
	t.Helper()
	files := map[string]string{
		"local_authorities.csv": "code,name,mash_email,mash_hours,early_years_opt_in\n" +
			"E08000035,Leeds City Council,mash@leeds.lantern.test,Mon-Sun 00:00-24:00,true\n",
		"schools.csv": "urn,name,local_authority_code,phase,dsl_email,day_start,calendar_id\n" +
			"107500,Example Primary,E08000035,primary,dsl@p.leeds.lantern.test,08:45,leeds\n" +
			"108000,Example High,E08000035,secondary,dsl@h.leeds.lantern.test,08:30,leeds\n" +
			"EY123456,Example Nursery,E08000035,nursery,dsl@n.leeds.lantern.test,08:00,leeds\n" +
			"130500,Example College,E08000035,further_education,dsl@c.leeds.lantern.test,09:00,leeds\n",
		"gp_practices.csv":     "ods_code,name,safeguarding_email\nB86001,Example Practice,sg@b86001.lantern.test\n",
		"services.csv":         "local_authority_code,kind,name,email\n",
		"calendars/leeds.json": `{"timezone": "Europe/London", "terms": [{"start": "2026-09-01", "end": "2026-12-18"}], "closed": []}`,
		"bank-holidays.json": `{"england-and-wales": {"division": "england-and-wales",
			"events": [{"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true}]}}`,
	}
	return reftest.Load(t, files)
}

func TestSyntheticPeopleAreMarkedAsSuch(t *testing.T) {
	ref := shippedReference(t)
	g := newGenerator(t, ref, 77, feeds(ref)["live"]())
	for range 1000 {
		in := g.Next().Incident
		for _, c := range in.Children {
			if c.NHSNumber != "" && !strings.HasPrefix(c.NHSNumber, "999") {
				t.Fatalf("NHS number %s is outside the 999 test range", c.NHSNumber)
			}
		}
		if !strings.HasPrefix(in.Circumstances, "Synthetic notice") || !strings.HasPrefix(in.Officer.Contact, "01632 960") {
			t.Fatalf("notice %s does not read as synthetic", in.PoliceReference)
		}
	}
}

func TestConfigIsChecked(t *testing.T) {
	ref := shippedReference(t)
	bad := simulate.DefaultMix()
	bad.ChildShare = 1.5
	cases := []struct {
		name string
		cfg  simulate.Config
		want string
	}{
		{"share over one", simulate.Config{Mix: bad, Reference: ref, Force: "SIM", RunTag: "a", Times: simulate.Live{}}, "child share"},
		{"lower-case force", simulate.Config{Mix: simulate.DefaultMix(), Reference: ref, Force: "sim", RunTag: "a", Times: simulate.Live{}}, "force"},
		{"run tag with a space", simulate.Config{Mix: simulate.DefaultMix(), Reference: ref, Force: "SIM", RunTag: "a b", Times: simulate.Live{}}, "run tag"},
		{"no reference", simulate.Config{Mix: simulate.DefaultMix(), Force: "SIM", RunTag: "a", Times: simulate.Live{}}, "reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simulate.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}
