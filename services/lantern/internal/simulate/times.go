package simulate

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// Times decides when each simulated incident happened and when it was
// reported to the police. Successive calls move forward in time, so that a
// family's repeat incident always follows its earlier ones.
type Times interface {
	Next(r *rand.Rand) (occurred, reported time.Time)
}

// hourWeights is the relative rate of incidents in each hour of the day,
// London time: lowest before dawn, highest in the evening. [P]
var hourWeights = [24]float64{
	1.10, 0.90, 0.70, 0.50, 0.40, 0.35, 0.40, 0.50, 0.60, 0.70, 0.75, 0.80,
	0.85, 0.85, 0.90, 0.95, 1.00, 1.15, 1.30, 1.45, 1.50, 1.50, 1.45, 1.30,
}

// dayWeights is the relative rate on each day of the week, Sunday first:
// the weekend peak that makes Monday morning a backlog. [P]
var dayWeights = [7]float64{1.30, 0.90, 0.85, 0.85, 0.90, 1.05, 1.40}

// Seasonal factors: bank holidays and the Christmas fortnight run high,
// August low (domain.md section 6: MARAC referrals peak around Christmas
// and dip in August). [P] for the sizes.
const (
	bankHolidayFactor = 1.25
	christmasFactor   = 1.30
	augustFactor      = 0.90
)

// Season weighs moments by how likely an incident is then.
type Season struct {
	Holidays calendar.Holidays
}

// Weight is the relative incident rate at t; its average over an ordinary
// week is 1.
func (s Season) Weight(t time.Time) float64 {
	local := t.In(calendar.London)
	w := hourWeights[local.Hour()] * dayWeights[local.Weekday()] / ordinaryMean()
	return w * s.factor(local)
}

func (s Season) factor(local time.Time) float64 {
	day := calendar.DateOf(local)
	switch {
	case isChristmasFortnight(day):
		return christmasFactor
	case s.Holidays[day]:
		return bankHolidayFactor
	case day.Month == time.August:
		return augustFactor
	}
	return 1
}

// maxWeight bounds Weight, for sampling by rejection.
func (Season) maxWeight() float64 {
	return slices.Max(hourWeights[:]) * slices.Max(dayWeights[:]) / ordinaryMean() *
		max(bankHolidayFactor, christmasFactor, augustFactor, 1)
}

func isChristmasFortnight(d calendar.Date) bool {
	return (d.Month == time.December && d.Day >= 24) || (d.Month == time.January && d.Day == 1)
}

// ordinaryMean is the average of hour and day weights over a week, so that
// Weight averages 1 outside holidays.
func ordinaryMean() float64 {
	var h, d float64
	for _, w := range hourWeights {
		h += w
	}
	for _, w := range dayWeights {
		d += w
	}
	return h / 24 * d / 7
}

// Live places each incident shortly before the clock's present, as a police
// feed running now would: attended, written up and sent within hours.
type Live struct {
	Clock clock.Clock
}

// liveLagMean and liveLagMax shape how long before its notice an incident
// happened. [P]
const (
	liveLagMin  = 5 * time.Minute
	liveLagMean = 55 * time.Minute
	liveLagMax  = 24 * time.Hour
)

// Next returns an incident that happened a little before now.
func (l Live) Next(r *rand.Rand) (time.Time, time.Time) {
	now := l.Clock.Now().UTC().Truncate(time.Second)
	lag := min(liveLagMin+time.Duration(r.ExpFloat64()*float64(liveLagMean)), liveLagMax)
	occurred := now.Add(-lag).Truncate(time.Second)
	return occurred, reportedAfter(r, occurred, now)
}

// reportedAfter returns when an incident at occurred was reported: within
// 20 minutes, and never after latest.
func reportedAfter(r *rand.Rand, occurred, latest time.Time) time.Time {
	delay := time.Duration(r.Float64() * float64(20*time.Minute))
	return minTime(occurred.Add(delay), latest).Truncate(time.Second)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// History walks forward from Start through simulated time, with PerDay
// incidents on an ordinary day and more at weekends, in the evening and
// over holidays. A year of history is a year's count of incidents.
type History struct {
	Start  time.Time
	PerDay float64
	Season Season
	now    time.Time
}

// Next returns the next incident of the history.
func (h *History) Next(r *rand.Rand) (time.Time, time.Time) {
	if h.now.IsZero() {
		h.now = h.Start
	}
	wmax := h.Season.maxWeight()
	peak := h.PerDay / 86400 * wmax // incidents per second at the busiest moment
	for {
		h.now = h.now.Add(time.Duration(r.ExpFloat64() / peak * float64(time.Second)))
		if r.Float64()*wmax < h.Season.Weight(h.now) {
			break
		}
	}
	occurred := h.now.UTC().Truncate(time.Second)
	return occurred, reportedAfter(r, occurred, occurred.Add(time.Hour))
}

// Burst is a backlog: Count incidents spread over the Window before End,
// weighted like History, all sent at once. The default window is a
// weekend, Friday evening to Monday morning.
type Burst struct {
	End    time.Time
	Window time.Duration
	Count  int
	Season Season
	times  []time.Time
}

// WeekendWindow is Friday 18:00 to Monday 08:00.
const WeekendWindow = 62 * time.Hour

// Next returns the burst's incidents in time order.
func (b *Burst) Next(r *rand.Rand) (time.Time, time.Time) {
	if b.times == nil {
		b.times = b.sample(r)
	}
	occurred := b.End
	if len(b.times) > 0 {
		occurred, b.times = b.times[0], b.times[1:]
	}
	return occurred, reportedAfter(r, occurred, b.End)
}

func (b *Burst) sample(r *rand.Rand) []time.Time {
	start := b.End.Add(-b.Window)
	wmax := b.Season.maxWeight()
	times := make([]time.Time, 0, b.Count)
	for len(times) < b.Count {
		t := start.Add(time.Duration(r.Float64() * float64(b.Window)))
		if r.Float64()*wmax < b.Season.Weight(t) {
			times = append(times, t.UTC().Truncate(time.Second))
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	return times
}
