package signin

import "strings"

// maxReturn bounds a return address; Lantern's own paths are far shorter.
const maxReturn = 1024

// SafeReturn keeps a return address on this site. It accepts only a path
// (and query) made of an allow-list of characters, because browsers are
// lenient in ways a deny-list misses: they drop TAB, CR and LF from URLs
// and read a backslash as a slash, so "/\t/evil.example" or "/\\evil.example"
// would leave the site. Percent-escapes are accepted only for characters
// that could not change where the address points, so an escaped slash,
// backslash, control character or percent sign is refused too. Anything
// else becomes "/".
func SafeReturn(s string) string {
	if len(s) > maxReturn || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !escapeAllowed(s[i+1], s[i+2]) {
				return "/"
			}
			i += 2
		case !returnChar(c):
			return "/"
		}
	}
	return s
}

// returnChar reports whether c may appear as itself in a return address:
// letters, digits and the path and query punctuation Lantern's own
// addresses use.
func returnChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-._~/?=&+,:@", c) >= 0
}

// escapeAllowed reports whether the escape %hl stands for a character
// that is safe to decode anywhere: printable or a space, and neither a slash, a
// backslash nor a percent sign.
func escapeAllowed(h, l byte) bool {
	hi, ok1 := unhex(h)
	lo, ok2 := unhex(l)
	if !ok1 || !ok2 {
		return false
	}
	c := hi<<4 | lo
	return c >= 0x20 && c < 0x7f && c != '/' && c != '\\' && c != '%'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
