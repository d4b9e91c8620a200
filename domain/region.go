package domain

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// RegionCode is a 6-digit administrative division code (GB/T 2260), e.g.
// 440106 (天河区); its first 2 digits are the province, the next 2 the city.
type RegionCode string

// provinceCodes are the province-level divisions of GB/T 2260.
var provinceCodes = []string{
	"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
	"35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
	"53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
}

// ParseRegionCode parses a region code: exactly 6 ASCII digits (surrounding
// spaces ignored) whose first 2 name a province-level division (11–82), and
// whose city part is 00 only in a province-level code (xx0000). It returns an
// invalid_argument *Error otherwise.
func ParseRegionCode(s string) (RegionCode, error) {
	code := strings.TrimSpace(s)
	if len(code) != 6 || !allDigits(code) {
		return "", invalidValue("region code %s must be exactly 6 digits, e.g. 440106", Quote(s))
	}
	if !slices.Contains(provinceCodes, code[:2]) {
		return "", invalidValue("region code %s: province %s does not exist", Quote(s), code[:2])
	}
	if code[2:4] == "00" && code[4:] != "00" {
		return "", invalidValue("region code %s: city part 00 is allowed only in a province code (xx0000)", Quote(s))
	}
	return RegionCode(code), nil
}

// City returns the city-level code containing r: its first 4 digits + "00".
// It returns "" when r is not 6 characters long.
func (r RegionCode) City() RegionCode { return r.truncate(4) }

// Province returns the province-level code containing r: its first 2 digits
// + "0000". It returns "" when r is not 6 characters long.
func (r RegionCode) Province() RegionCode { return r.truncate(2) }

// Level returns "province" for xx0000, "city" for xxxx00 and "district"
// otherwise.
func (r RegionCode) Level() string {
	switch {
	case strings.HasSuffix(string(r), "0000"):
		return "province"
	case strings.HasSuffix(string(r), "00"):
		return "city"
	}
	return "district"
}

// HasPrefix reports whether r starts with prefix, e.g. "4401" for every
// district of Guangzhou.
func (r RegionCode) HasPrefix(prefix string) bool {
	return strings.HasPrefix(string(r), prefix)
}

// truncate keeps the first n digits of r and pads it with zeros to 6.
func (r RegionCode) truncate(n int) RegionCode {
	if len(r) != 6 {
		return ""
	}
	return RegionCode(string(r[:n]) + strings.Repeat("0", 6-n))
}

// regionNamesText is region_names.txt: the names of the divisions of
// GB/T 2260 as the National Bureau of Statistics listed them in 2023.
//
//go:embed region_names.txt
var regionNamesText string

// regionNames maps the 6-digit codes of regionNamesText to their names.
var regionNames = sync.OnceValue(func() map[string]string {
	names := map[string]string{}
	for line := range strings.Lines(regionNamesText) {
		code, name, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "\t")
		if ok && !strings.HasPrefix(code, "#") {
			names[code] = name
		}
	}
	return names
})

// RegionName returns the name of a region code, or of the start of one
// that names a province (44 or 440000: 广东省), a city (4401 or 440100:
// 广州市; a municipality's 110100 is 北京市) or a district or county
// (440106: 天河区), as the National Bureau of Statistics listed them in
// 2023. It returns false for a code the list does not hold (one retired
// before then or made since, or no code at all), and for a start that
// names none of them: 4400, a filter's prefix, matches only the codes of
// the province's own organisations (440000), not the province's.
func RegionName(code string) (string, bool) {
	switch {
	case len(code) == 2:
		code += "0000"
	case len(code) == 4 && !strings.HasSuffix(code, "00"):
		code += "00"
	case len(code) != 6:
		return "", false
	}
	name, ok := regionNames()[code]
	return name, ok
}
