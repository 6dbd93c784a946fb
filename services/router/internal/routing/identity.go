package routing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"unicode"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Hasher turns a person's identifying details into an opaque key, so that
// the router can tell that two incidents involve the same child or the
// same two adults without keeping anyone's name, date of birth or NHS
// number. With a secret the keys are HMAC-SHA-256 and cannot be reversed
// by trying likely names; without one they are plain SHA-256, which is
// only fit for development.
type Hasher struct {
	secret []byte
}

// NewHasher returns a hasher keyed with secret, which may be empty.
func NewHasher(secret string) Hasher { return Hasher{secret: []byte(secret)} }

// Keyed reports whether the hasher has a secret.
func (h Hasher) Keyed() bool { return len(h.secret) > 0 }

func (h Hasher) hash(kind string, parts ...string) string {
	text := kind + "\x1f" + strings.Join(parts, "\x1f")
	if h.Keyed() {
		mac := hmac.New(sha256.New, h.secret)
		mac.Write([]byte(text))
		return hex.EncodeToString(mac.Sum(nil))
	}
	sum := sha256.Sum256([]byte("lantern-router-identity\x00" + text))
	return hex.EncodeToString(sum[:])
}

// ChildKeys are the keys of one child of an incident. NHS is empty when
// the police gave no NHS number, Name when the name or date of birth is
// missing.
type ChildKeys struct {
	PersonID string
	NHS      string
	Name     string
}

// Identities are the keys of an incident's children and of each victim and
// perpetrator pair.
type Identities struct {
	Children []ChildKeys
	Pairs    []string
}

// EachKey hands key every identity key to store, with its kind: a child's
// NHS number, a child's name (nhsKnown says whether the child's NHS number
// was known too) and each pair of adults.
func (ids Identities) EachKey(key func(kind, hash string, nhsKnown bool)) {
	for _, c := range ids.Children {
		if c.NHS != "" {
			key("child_nhs", c.NHS, true)
		}
		if c.Name != "" {
			key("child_name", c.Name, c.NHS != "")
		}
	}
	for _, p := range ids.Pairs {
		key("pair", p, false)
	}
}

// Identify computes the keys of an incident. A child is matched on the NHS
// number when there is one and otherwise on name and date of birth; a pair
// of adults on both names and dates of birth, in either order, so that a
// counter-allegation with the roles swapped still matches.
func (h Hasher) Identify(in ppn.Incident) Identities {
	var ids Identities
	for _, c := range in.Children {
		k := ChildKeys{PersonID: c.PersonID}
		if nhs := digitsOnly(c.NHSNumber); nhs != "" {
			k.NHS = h.hash("child_nhs", nhs)
		}
		if person, ok := personKey(c.Name, c.DateOfBirth); ok {
			k.Name = h.hash("child_name", person)
		}
		ids.Children = append(ids.Children, k)
	}
	for _, v := range in.Adults {
		if v.Role != ppn.RoleVictim {
			continue
		}
		for _, p := range in.Adults {
			if p.Role != ppn.RolePerpetrator {
				continue
			}
			a, okA := personKey(v.Name, v.DateOfBirth)
			b, okB := personKey(p.Name, p.DateOfBirth)
			if !okA || !okB {
				continue
			}
			pair := []string{a, b}
			slices.Sort(pair)
			ids.Pairs = append(ids.Pairs, h.hash("pair", pair...))
		}
	}
	slices.Sort(ids.Pairs)
	ids.Pairs = slices.Compact(ids.Pairs)
	return ids
}

// personKey normalises a name and date of birth: letters and digits only,
// lower case, single spaces; and the date as YYYY-MM-DD.
func personKey(name, dateOfBirth string) (string, bool) {
	dob, err := calendar.ParseDate(dateOfBirth)
	norm := normaliseName(name)
	if err != nil || norm == "" {
		return "", false
	}
	return norm + "|" + dob.String(), true
}

func normaliseName(name string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToLower(word))
	}
	return b.String()
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
