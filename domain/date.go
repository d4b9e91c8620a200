package domain

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"time"
)

// Shanghai is Asia/Shanghai as a fixed UTC+8 zone (China has had no DST since
// 1991), so results never depend on the machine's tz database.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

const (
	secondsPerDay = 24 * 60 * 60
	minDateYear   = 1900
	maxDateYear   = 2199
)

// Date is a calendar date: a business date in Asia/Shanghai. The zero Date
// means "no date" and sorts before every other date. Dates compare with ==
// and may be used as map keys.
type Date struct {
	days int64 // days since 1970-01-01
	ok   bool  // false only for the zero Date
}

// NewDate returns the date year-month-day, normalising out-of-range months
// and days the way time.Date does (2024-02-30 becomes 2024-03-01).
func NewDate(year int, month time.Month, day int) Date {
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	return Date{days: t.Unix() / secondsPerDay, ok: true}
}

// ParseDate parses a strict "YYYY-MM-DD" date with a year in 1900–2199. It
// returns an invalid_argument *Error for anything else, including dates that
// do not exist (2024-02-30), missing zero padding and trailing text.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, invalidValue("date is empty; want YYYY-MM-DD")
	}
	y, m, d, ok := splitISODate(s)
	if !ok {
		return Date{}, invalidValue("date %s is not in YYYY-MM-DD form", Quote(s))
	}
	if y < minDateYear || y > maxDateYear {
		return Date{}, invalidValue("date %s: year %d is outside %d–%d", Quote(s), y, minDateYear, maxDateYear)
	}
	if m < 1 || m > 12 {
		return Date{}, invalidValue("date %s: month %d does not exist", Quote(s), m)
	}
	month := time.Month(m)
	if n := daysIn(y, month); d < 1 || d > n {
		return Date{}, invalidValue("date %s does not exist: %s %d has %d days", Quote(s), month, y, n)
	}
	return NewDate(y, month, d), nil
}

// DateOf returns the business date of t in Asia/Shanghai; the zero time
// gives the zero Date.
func DateOf(t time.Time) Date {
	if t.IsZero() {
		return Date{}
	}
	return NewDate(t.In(Shanghai).Date())
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return !d.ok }

// String returns d as "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if !d.ok {
		return ""
	}
	y, m, day := d.civil()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), day)
}

// Year returns the year of d, or 0 for the zero Date.
func (d Date) Year() int {
	y, _, _ := d.civil()
	return y
}

// Month returns the month of d, or 0 for the zero Date.
func (d Date) Month() time.Month {
	_, m, _ := d.civil()
	return m
}

// Day returns the day of the month of d, or 0 for the zero Date.
func (d Date) Day() int {
	_, _, day := d.civil()
	return day
}

// Time returns midnight at the start of d in Asia/Shanghai, or the zero
// time.Time for the zero Date.
func (d Date) Time() time.Time {
	if !d.ok {
		return time.Time{}
	}
	y, m, day := d.civil()
	return time.Date(y, m, day, 0, 0, 0, 0, Shanghai)
}

// AddDays returns d plus n days (n may be negative). The zero Date stays
// zero.
func (d Date) AddDays(n int) Date {
	if !d.ok {
		return d
	}
	return Date{days: d.days + int64(n), ok: true}
}

// AddMonths returns d plus n months on the same day of the month, clamped
// to the end of a shorter month: 2024-01-31 plus 1 month is 2024-02-29. The
// zero Date stays zero.
func (d Date) AddMonths(n int) Date {
	if !d.ok {
		return d
	}
	y, m, day := d.civil()
	total := y*12 + int(m) - 1 + n
	ny, nm := total/12, total%12
	if nm < 0 {
		ny, nm = ny-1, nm+12
	}
	month := time.Month(nm + 1)
	return NewDate(ny, month, min(day, daysIn(ny, month)))
}

// AddYears returns d plus n years, clamped like AddMonths: 2024-02-29 plus
// 1 year is 2025-02-28. The zero Date stays zero.
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// Before reports whether d is strictly earlier than o.
func (d Date) Before(o Date) bool { return d.compare(o) < 0 }

// After reports whether d is strictly later than o.
func (d Date) After(o Date) bool { return d.compare(o) > 0 }

// DaysSince returns d − o in days; it is 0 when either date is zero.
func (d Date) DaysSince(o Date) int {
	if !d.ok || !o.ok {
		return 0
	}
	return int(d.days - o.days)
}

// ISOWeek returns the ISO 8601 year and week number of d, or (0, 0) for the
// zero Date.
func (d Date) ISOWeek() (year, week int) {
	if !d.ok {
		return 0, 0
	}
	return d.Time().ISOWeek()
}

// Quarter returns the calendar quarter of d, 1–4, or 0 for the zero Date.
func (d Date) Quarter() int {
	if !d.ok {
		return 0
	}
	return (int(d.Month())-1)/3 + 1
}

// MarshalText encodes d as "YYYY-MM-DD", and the zero Date as "".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes "YYYY-MM-DD" as ParseDate does; "" gives the zero
// Date. It returns an invalid_argument *Error for anything else.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON encodes d as the JSON string "YYYY-MM-DD", and the zero Date as
// null.
func (d Date) MarshalJSON() ([]byte, error) {
	if !d.ok {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON decodes null (or "") as the zero Date and a JSON string as
// ParseDate does. It returns an invalid_argument *Error for anything else.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	s, err := unmarshalJSONString(b)
	if err != nil {
		return invalidValue("date must be a JSON string in YYYY-MM-DD form or null, got %s", Quote(string(b)))
	}
	return d.UnmarshalText([]byte(s))
}

// civil returns the year, month and day of d, or zeros for the zero Date.
func (d Date) civil() (int, time.Month, int) {
	if !d.ok {
		return 0, 0, 0
	}
	return time.Unix(d.days*secondsPerDay, 0).UTC().Date()
}

// compare orders dates, the zero Date first.
func (d Date) compare(o Date) int {
	if d.ok != o.ok {
		if d.ok {
			return 1
		}
		return -1
	}
	return cmp.Compare(d.days, o.days)
}

// splitISODate splits "YYYY-MM-DD" into numbers without judging their range.
func splitISODate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, okY := atoiDigits(s[0:4])
	m, okM := atoiDigits(s[5:7])
	d, okD := atoiDigits(s[8:10])
	return y, m, d, okY && okM && okD
}

// atoiDigits converts a short string of ASCII digits to an int.
func atoiDigits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// daysIn returns the number of days in the given month.
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// invalidValue returns an invalid_argument *Error whose single FieldError has
// an empty Field: the caller names the field with FieldErrors.Add.
func invalidValue(format string, args ...any) *Error {
	fe := fieldError("", format, args...)
	return &Error{Code: CodeInvalidArgument, Message: fe.Message, Fields: []FieldError{fe}}
}

// MarshalBinary encodes d compactly for gob (snapshots): nothing for the
// zero Date, else the day number as a varint.
func (d Date) MarshalBinary() ([]byte, error) {
	if !d.ok {
		return nil, nil
	}
	return binary.AppendVarint(nil, d.days), nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (d *Date) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	days, n := binary.Varint(b)
	if n != len(b) {
		return invalidValue("malformed binary date")
	}
	*d = Date{days: days, ok: true}
	return nil
}
