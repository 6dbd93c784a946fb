package sealed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
)

// MatchHash is the keyed hash a person's value (kind "name",
// "date_of_birth" or "nhs_number") is indexed by, so that equal values
// match while the index itself reveals none. An empty value stays empty,
// so that "no NHS number" never matches another.
func MatchHash(key []byte, kind, value string) string {
	if value == "" {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(kind + "\x00" + value))
	return hex.EncodeToString(mac.Sum(nil))
}

var matchHashForm = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsMatchHash reports whether v has MatchHash's form (or is empty): an
// index value written before hashing was switched on (an NHS number, a
// date, a name) never has it.
func IsMatchHash(v string) bool { return v == "" || matchHashForm.MatchString(v) }
