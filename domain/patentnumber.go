package domain

import (
	"strings"
	"unicode"
)

// PatentKind is the kind of a Chinese patent.
type PatentKind string

// The patent kinds of the Patent Law.
const (
	KindInvention    PatentKind = "invention"
	KindUtilityModel PatentKind = "utility_model"
	KindDesign       PatentKind = "design"
)

// ParsePatentKind parses a patent kind ("invention", "utility_model" or
// "design", surrounding spaces and case ignored). It returns an
// invalid_argument *Error for anything else.
func ParsePatentKind(s string) (PatentKind, error) {
	switch k := PatentKind(strings.ToLower(strings.TrimSpace(s))); k {
	case KindInvention, KindUtilityModel, KindDesign:
		return k, nil
	}
	return "", invalidValue("unknown patent kind %s; want invention, utility_model or design", Quote(s))
}

// PatentNumber is a normalised CNIPA patent number: "ZL" + 12 digits + "." +
// check character (digit or X), e.g. ZL201710601862.3.
type PatentNumber string

const (
	minPatentYear = 1985
	maxPatentYear = 2099
	patentExample = "ZL201710601862.3"
)

// patentWeights are the weights of the 12 digits in the check character
// (CNIPA ZC 0006-2003).
var patentWeights = [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}

// ParsePatentNumber parses and normalises a patent or application number. It
// accepts an optional "CN" or "ZL" prefix in any case, spaces anywhere, the
// dot before the check character or none, and a lowercase x. The check
// character is required and must match the 12 digits. It returns an
// invalid_argument *Error for anything else, including a year before 1985 or
// after 2099 and a 5th digit that is no patent type.
func ParsePatentNumber(s string) (PatentNumber, error) {
	body := compactPatentNumber(s)
	if body == "" {
		return "", invalidValue("patent number is empty; want e.g. %s", patentExample)
	}
	if len(body) >= 13 && body[12] == '.' {
		body = body[:12] + body[13:]
	}
	if len(body) == 12 && allDigits(body) {
		return "", invalidValue("patent number %s has no check character; give all 13 characters, e.g. %s", Quote(s), patentExample)
	}
	if len(body) != 13 || !allDigits(body[:12]) {
		return "", invalidValue("patent number %s is malformed; want ZL + 12 digits + . + check character, e.g. %s", Quote(s), patentExample)
	}
	if err := checkPatentDigits(s, body[:12]); err != nil {
		return "", err
	}
	if c := body[12]; c != 'X' && (c < '0' || c > '9') {
		return "", invalidValue("patent number %s: check character must be a digit or X", Quote(s))
	}
	want, got := patentCheck(body[:12]), body[12]
	if got != want {
		return "", invalidValue("patent number %s: check character is %c, not %c", Quote(s), want, got)
	}
	return PatentNumber("ZL" + body[:12] + "." + string(want)), nil
}

// PatentCheckChar returns the check character of the 12 digits of an
// application number: Σ digit·weight (weights 2,3,4,5,6,7,8,9,2,3,4,5) mod 11,
// with 10 written as 'X'. It returns an invalid_argument *Error unless digits
// is exactly 12 ASCII digits.
func PatentCheckChar(digits string) (byte, error) {
	if len(digits) != 12 || !allDigits(digits) {
		return 0, invalidValue("patent check character needs exactly 12 digits, got %s", Quote(digits))
	}
	return patentCheck(digits), nil
}

// Kind returns the patent kind given by the 5th digit (1/8 invention, 2/9
// utility model, 3 design), or "" when n is not a valid number.
func (n PatentNumber) Kind() PatentKind {
	digits := n.Digits()
	if digits == "" {
		return ""
	}
	return kindOfDigit(digits[4])
}

// Digits returns the 12 digits of n without prefix and check character, or ""
// when n is not in normalised form.
func (n PatentNumber) Digits() string {
	if len(n) != len(patentExample) || !strings.HasPrefix(string(n), "ZL") {
		return ""
	}
	return string(n[2:14])
}

// String returns n in its normalised form.
func (n PatentNumber) String() string { return string(n) }

// compactPatentNumber drops spaces, upper-cases ASCII letters and strips one
// "CN" or "ZL" prefix.
func compactPatentNumber(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return asciiUpper(r)
	}, s)
	if strings.HasPrefix(s, "CN") || strings.HasPrefix(s, "ZL") {
		return s[2:]
	}
	return s
}

// checkPatentDigits checks the year and the kind digit of the 12 digits.
func checkPatentDigits(input, digits string) error {
	year, _ := atoiDigits(digits[:4])
	if year < minPatentYear || year > maxPatentYear {
		return invalidValue("patent number %s: year %d is outside %d–%d", Quote(input), year, minPatentYear, maxPatentYear)
	}
	if kindOfDigit(digits[4]) == "" {
		return invalidValue("patent number %s: 5th digit %c is no patent type (1/8 invention, 2/9 utility model, 3 design)", Quote(input), digits[4])
	}
	return nil
}

// kindOfDigit maps the 5th digit of a number to its kind, or "".
func kindOfDigit(c byte) PatentKind {
	switch c {
	case '1', '8':
		return KindInvention
	case '2', '9':
		return KindUtilityModel
	case '3':
		return KindDesign
	}
	return ""
}

// patentCheck computes the check character of 12 validated digits.
func patentCheck(digits string) byte {
	sum := 0
	for i, w := range patentWeights {
		sum += int(digits[i]-'0') * w
	}
	if r := sum % 11; r < 10 {
		return byte('0' + r)
	}
	return 'X'
}

// allDigits reports whether s consists of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// asciiUpper upper-cases an ASCII letter and leaves every other rune alone.
func asciiUpper(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r - 'a' + 'A'
	}
	return r
}
