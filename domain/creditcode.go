package domain

import (
	"strings"
	"unicode/utf8"
)

// CreditCode is an 18-character unified social credit code (统一社会信用代码,
// GB 32100-2015), e.g. 91350100M000100Y43.
type CreditCode string

// creditAlphabet lists the characters of a credit code in value order:
// digits and capital letters without I, O, S, V and Z.
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// ParseCreditCode trims surrounding spaces, upper-cases and validates a
// unified social credit code: 18 characters of the code alphabet, digits in
// positions 3–8 (the registration authority's region code) and a matching
// check character. It returns an invalid_argument *Error otherwise.
func ParseCreditCode(s string) (CreditCode, error) {
	code := strings.ToUpper(strings.TrimSpace(s))
	if code == "" {
		return "", invalidValue("credit code is empty; want 18 characters, e.g. 91350100M000100Y43")
	}
	if n := utf8.RuneCountInString(code); n != 18 || len(code) != 18 {
		return "", invalidValue("credit code %s has %d characters; want 18", Quote(s), n)
	}
	if err := checkCreditChars(s, code); err != nil {
		return "", err
	}
	if !allDigits(code[2:8]) {
		return "", invalidValue("credit code %s: characters 3–8 must be digits (the region code)", Quote(s))
	}
	if want := creditCheck(code[:17]); code[17] != want {
		return "", invalidValue("credit code %s: check character is %c, not %c", Quote(s), want, code[17])
	}
	return CreditCode(code), nil
}

// CreditCheckChar returns the check character of the first 17 characters of
// a credit code: c18 = 31 − (Σ value·weight mod 31), with 31 written as '0',
// where the weight of position i (1–17) is 3^(i−1) mod 31.
// It returns an invalid_argument *Error unless first17 is 17 characters of
// the code alphabet (upper case).
func CreditCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, invalidValue("credit check character needs exactly 17 characters, got %s", Quote(first17))
	}
	if err := checkCreditChars(first17, first17); err != nil {
		return 0, err
	}
	return creditCheck(first17), nil
}

// RegionCode returns characters 3–8 of c, the administrative division code
// of the registration authority, or "" when c is too short. Bodies registered
// with the central government carry 100000, which is not a valid RegionCode.
func (c CreditCode) RegionCode() RegionCode {
	if len(c) < 8 {
		return ""
	}
	return RegionCode(c[2:8])
}

// checkCreditChars reports the first character of code outside the code
// alphabet; input is the text as the caller gave it.
func checkCreditChars(input, code string) error {
	for i, r := range []rune(code) {
		if !strings.ContainsRune(creditAlphabet, r) {
			return invalidValue("credit code %s: character %d (%q) is not allowed; use digits and capital letters except I, O, S, V, Z", Quote(input), i+1, r)
		}
	}
	return nil
}

// creditCheck computes the check character of 17 validated characters.
func creditCheck(first17 string) byte {
	sum, weight := 0, 1
	for i := 0; i < len(first17); i++ {
		sum += strings.IndexByte(creditAlphabet, first17[i]) * weight
		weight = weight * 3 % 31
	}
	return creditAlphabet[(31-sum%31)%31]
}
