package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// Given names are ordinary English ones; surnames are invented compounds
// ("Pixelford", "Lanternby") that no real family carries, so every
// simulated person is plainly synthetic while reading like a notice.
var (
	femaleNames = []string{"Amy", "Bethany", "Chloe", "Daisy", "Ella", "Freya", "Grace", "Hannah", "Isla",
		"Jasmine", "Katie", "Lily", "Megan", "Niamh", "Olivia", "Poppy", "Rosie", "Sophie", "Tia", "Zara"}
	maleNames = []string{"Aaron", "Ben", "Callum", "Dylan", "Ethan", "Finley", "George", "Harry", "Isaac",
		"Jack", "Kieran", "Liam", "Mason", "Noah", "Oscar", "Reece", "Sam", "Toby", "Tyler", "Zach"}
	surnameStems = []string{"Pixel", "Lantern", "Quill", "Ember", "Cinder", "Marble", "Thistle", "Velvet",
		"Copper", "Fable", "Lumen", "Willow", "Saffron", "Juniper", "Nimbus", "Pebble"}
	surnameEnds = []string{"ford", "by", "ridge", "worth", "combe", "ley", "stead", "wick"}
)

// surname invents a family name.
func surname(r *rand.Rand) string {
	return pick(r, surnameStems) + pick(r, surnameEnds)
}

// givenName returns a given name, female with probability femaleShare.
func givenName(r *rand.Rand, femaleShare float64) string {
	if r.Float64() < femaleShare {
		return pick(r, femaleNames)
	}
	return pick(r, maleNames)
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// birthDate returns a date of birth that makes a person exactly age years
// old on day: between one year and one day before their next birthday.
func birthDate(r *rand.Rand, day calendar.Date, age int) calendar.Date {
	latest := calendar.DateOf(day.In(time.UTC).AddDate(-age, 0, 0))
	return latest.AddDays(-r.IntN(365))
}

// ageOn returns a person's whole years on day, the way the intake's rules
// count them: a birthday on 29 February falls on 1 March in other years.
func ageOn(dob, day calendar.Date) int {
	age := day.Year - dob.Year
	if day.Month < dob.Month || (day.Month == dob.Month && day.Day < dob.Day) {
		age--
	}
	return age
}

// nhsNumbers hands out NHS numbers in the 999 range, which the NHS keeps
// for test data and never issues to patients. Each number is used once per
// feed: a stride coprime with the range visits every nine-digit stem before
// repeating, starting at a point the seed picks.
type nhsNumbers struct {
	next uint64
}

const (
	nhsRange  = 1_000_000 // the six digits after 999
	nhsStride = 480_209   // coprime with nhsRange
)

func newNHSNumbers(seed uint64) *nhsNumbers {
	return &nhsNumbers{next: seed % nhsRange}
}

// take returns the next valid number, skipping stems whose check digit
// would be 10 (no valid number exists for them).
func (n *nhsNumbers) take() string {
	for {
		n.next = (n.next + nhsStride) % nhsRange
		stem := fmt.Sprintf("999%06d", n.next)
		if check, ok := nhsCheckDigit(stem); ok {
			return stem + string(rune('0'+check))
		}
	}
}

// nhsCheckDigit is the modulus 11 check digit of a nine-digit stem, with
// weights 10 down to 2; ok is false when the check would be 10.
func nhsCheckDigit(stem string) (int, bool) {
	sum := 0
	for i := range 9 {
		sum += int(stem[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check, check != 10
}

// weighted returns an index drawn with the given relative weights.
func weighted(r *rand.Rand, weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// childAgeWeights are the relative frequencies of ages 0 to 17 among
// children in notices: younger children are more often at home, which is
// why inspections focus on ages 0 to 7. [P]
var childAgeWeights = []float64{8, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 4, 4, 4, 3}

// Phrases for the free-text fields: generic, and marked as synthetic.
var (
	circumstances = []string{
		"Synthetic notice: verbal argument between the adults escalated; officers attended after a neighbour called.",
		"Synthetic notice: victim reported being pushed during an argument; perpetrator left before officers arrived.",
		"Synthetic notice: damage to property inside the home; both adults spoken to separately.",
		"Synthetic notice: breach of a non-molestation order reported by the victim.",
		"Synthetic notice: argument over child contact arrangements became physical.",
	}
	voices = []string{
		"said they stayed in their bedroom",
		"said they heard shouting and were scared",
		"said they hid with a sibling",
		"did not want to talk to officers",
		"said this has happened before",
	}
	places = []string{"family home", "victim's home", "outside the family home", "relative's home", "shared flat"}
)
