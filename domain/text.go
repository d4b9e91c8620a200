package domain

import (
	"fmt"
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

// cutRunes returns the first limit characters of s (an invalid byte counts
// as one) and whether s had more.
func cutRunes(s string, limit int) (head string, cut bool) {
	n := 0
	for i := range s {
		if n == limit {
			return s[:i], true
		}
		n++
	}
	return s, false
}

// checkText validates multi-line free text (an abstract, other terms, a
// reason, notes): valid UTF-8 without a character that is not text (a
// control character other than line feed, carriage return and tab, a
// bidirectional control, or a byte order mark), even in a blank value;
// present when required; within maxRunes.
func checkText(s string, required bool, maxRunes int) error {
	if !utf8.ValidString(s) {
		return invalidValue("is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case isBidiControl(r):
			return invalidValue("contains %s, a bidirectional control character, which is not allowed", fmt.Sprintf("%U", r))
		case r == '\ufeff':
			return invalidValue("contains U+FEFF, a byte order mark, which is not text")
		case unicode.IsControl(r) && !isMultiLineSpace(r):
			return invalidValue("contains a control character")
		}
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
	return nil
}

// checkLine validates one-line free text (a name, a title, a reference
// number), which listings, downloads and search results show on one line:
// what checkText asks, and no line break or tab, even in a blank value.
func checkLine(s string, required bool, maxRunes int) error {
	if err := checkText(s, required, maxRunes); err != nil {
		return err
	}
	for _, r := range s {
		switch {
		case r == '\t':
			return invalidValue("must be one line: it contains a tab")
		case isLineBreak(r):
			return invalidValue("must be one line: it contains a line break")
		}
	}
	return nil
}

// isMultiLineSpace reports whether r is one of the control characters
// multi-line text may hold: line feed, carriage return and tab.
func isMultiLineSpace(r rune) bool { return r == '\n' || r == '\r' || r == '\t' }

// isLineBreak reports whether r ends a line: line feed, carriage return,
// next line (U+0085), line separator (U+2028) or paragraph separator
// (U+2029).
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// isBidiControl reports whether r is an explicit bidirectional embedding,
// override or isolate (U+202A–U+202E, U+2066–U+2069), which reorders how
// the text around it is shown without being seen itself.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}
