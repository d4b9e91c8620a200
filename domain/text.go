package domain

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxQuotedRunes bounds how much of a client's value Quote echoes.
const maxQuotedRunes = 60

// Quote quotes a value a client supplied (a body field, a path or query
// parameter, a cell of an imported file) for an error message: at most its
// first 60 characters, Go-quoted so that control characters show as
// escapes, followed by "…" when it was longer. A problem answer thus stays
// short whatever the size of the value it names.
func Quote(s string) string {
	head, cut := cutRunes(s, maxQuotedRunes)
	if cut {
		return strconv.Quote(head) + "…"
	}
	return strconv.Quote(s)
}

// Shorten returns a name a client made up (an unknown body field, an
// unknown or repeated query parameter) as a problem names it: whole when it
// has at most 60 characters, else its first 60 followed by "…".
func Shorten(name string) string {
	if head, cut := cutRunes(name, maxQuotedRunes); cut {
		return head + "…"
	}
	return name
}

// cutRunes returns the first max characters of s (an invalid byte counts
// as one) and whether s had more.
func cutRunes(s string, max int) (head string, cut bool) {
	n := 0
	for i := range s {
		if n == max {
			return s[:i], true
		}
		n++
	}
	return s, false
}

// checkText validates free text: valid UTF-8, no control characters (C0,
// DEL or C1; line breaks and tabs are text), within
// maxRunes, and present when required.
func checkText(s string, required bool, maxRunes int) error {
	if !utf8.ValidString(s) {
		return invalidValue("is not valid UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		if required {
			return invalidValue("is required")
		}
		return nil
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return invalidValue("is %d characters long; at most %d allowed", n, maxRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return invalidValue("contains a control character")
		}
	}
	return nil
}
