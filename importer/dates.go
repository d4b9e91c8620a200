package importer

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/patentledger/ledger/domain"
)

var (
	// dateSeparators turns the separators of 2024/3/5, 2024.3.5 and
	// 2024年3月5日 into dashes.
	dateSeparators = strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-")
	// chineseDate is a date written in Chinese, with spaces between its
	// parts as some lists type them (2020 年 3 月 5 日) and 号 for 日 as
	// people say it; a time of day may follow.
	chineseDate = regexp.MustCompile(`^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?`)
	// timeOfDay is a time of day after a date: hours, minutes, maybe
	// seconds with a fraction, maybe AM or PM; what follows is its zone.
	timeOfDay = regexp.MustCompile(`^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:\s*([AaPp][Mm]))?`)
	// zoneOffset is a zone written as an offset from UTC: Z, +08, +0800,
	// +08:00, maybe after UTC or GMT (UTC+8), or UTC or GMT alone. After a
	// numeric offset may come the zone's abbreviation (+0000 UTC, as Go
	// writes times), which zoneOf checks; after any of them, RFC 9557
	// suffixes ([Asia/Shanghai][u-ca=iso8601]), which the offset overrides.
	zoneOffset = regexp.MustCompile(`^(?:[Zz]|(?i:UTC|GMT)|(?i:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?(?:\s+([A-Za-z]{2,5}))?)(?:\[[^\]]{1,64}\])*$`)
	// chineseWeekday is a day of the week in Chinese after a date, as the
	// date formats of Chinese spreadsheets write it (2023/1/5 星期四).
	chineseWeekday = regexp.MustCompile(`^[(]?(?:星期|周|礼拜)([一二三四五六日天])[)]?$`)
	// trailingWeekday is a date cell ending in such a day of the week, with
	// or without a space before it (2023/1/5星期四).
	trailingWeekday = regexp.MustCompile(`^(.*?)\s*([(]?(?:星期|周|礼拜)[一二三四五六日天][)]?)$`)
)

// weekdays are the days of the week as chineseWeekday names them.
var weekdays = map[string]time.Weekday{"日": time.Sunday, "天": time.Sunday, "一": time.Monday, "二": time.Tuesday,
	"三": time.Wednesday, "四": time.Thursday, "五": time.Friday, "六": time.Saturday}

// errNotSerial says a cell is no Excel serial date number.
var errNotSerial = errors.New("not an Excel serial date")

// parseDate parses the date forms of rowBuilder.date: a date, then maybe
// a time of day (dropped) with maybe its zone (the timestamp's date in
// Asia/Shanghai), or the day of the week in Chinese, which must be the
// date's. s is the cell's text as codeText gives it (full-width forms
// folded); a problem quotes cell, the cell as it came.
func parseDate(s, cell string, serials, date1904 bool) (domain.Date, error) {
	if serials {
		d, err := serialDate(s, cell, date1904)
		if !errors.Is(err, errNotSerial) {
			return d, err
		}
	}
	day, rest := splitDate(s)
	d, err := calendarDate(day)
	if err != nil {
		return domain.Date{}, fmt.Errorf("%s is not a date; write YYYY-MM-DD (e.g. 2024-03-05)", domain.Quote(cell))
	}
	if rest == "" {
		return d, nil
	}
	if m := chineseWeekday.FindStringSubmatch(rest); m != nil {
		if wd := d.Time().Weekday(); wd != weekdays[m[1]] {
			return domain.Date{}, fmt.Errorf("%s: %s was a %s; check the date", domain.Quote(cell), d, wd)
		}
		return d, nil
	}
	return timestampDay(d, rest, cell)
}

// splitDate splits a date cell into its date and what follows it (a time
// of day, a zone, a day of the week), after a T or spaces (a day of the
// week may follow the date directly).
func splitDate(s string) (day, rest string) {
	if m := trailingWeekday.FindStringSubmatch(s); m != nil && !strings.ContainsAny(m[1], " Tt") {
		return m[1], m[2]
	}
	if m := chineseDate.FindStringSubmatchIndex(s); m != nil {
		return s[:m[1]], strings.TrimSpace(s[m[1]:])
	}
	if i := strings.IndexAny(s, " Tt"); i > 0 {
		if rest := strings.TrimSpace(s[i+1:]); rest != "" || s[i] == ' ' {
			return s[:i], rest
		}
		return s[:i], s[i:] // a T with no time after it: no time of day
	}
	return s, ""
}

// calendarDate parses the date part of a cell: 2024-03-05, 2024-3-5,
// 2024/3/5, 2024.3.5, 2024年3月5日, 20240305.
func calendarDate(s string) (domain.Date, error) {
	if len(s) == 8 && allDigits(s) {
		s = s[:4] + "-" + s[4:6] + "-" + s[6:]
	}
	if m := chineseDate.FindStringSubmatch(s); m != nil {
		s = m[1] + "-" + m[2] + "-" + m[3]
	}
	norm := dateSeparators.Replace(s)
	parts := strings.Split(norm, "-")
	if len(parts) == 3 && len(parts[0]) == 4 && allDigits(parts[0]) && isShortNumber(parts[1]) && isShortNumber(parts[2]) {
		norm = parts[0] + "-" + twoDigits(parts[1]) + "-" + twoDigits(parts[2])
	}
	return domain.ParseDate(norm)
}

// timestampDay reads the time of day (and maybe zone) that follows date d
// in a cell: without a zone, the date is d (the time is dropped); with
// one, it is the timestamp's date in Asia/Shanghai (Beijing midnight is
// 16:00 UTC the day before). Anything else, or a time of day that does
// not exist (25:00, 16:61), is refused, quoting the cell.
func timestampDay(d domain.Date, rest, cell string) (domain.Date, error) {
	notATime := fmt.Errorf("%s: %q is not a time of day with maybe its zone; write YYYY-MM-DD (e.g. 2024-03-05), "+
		"or a time such as 2024-03-04T16:00:00Z or 2024-03-05 00:00:00+08:00", domain.Quote(cell), rest)
	m := timeOfDay.FindStringSubmatch(rest)
	if m == nil {
		return domain.Date{}, notATime
	}
	hour, _ := strconv.Atoi(m[1])
	minute, _ := strconv.Atoi(m[2])
	second, _ := strconv.Atoi(cmp.Or(m[3], "0"))
	switch half := strings.ToUpper(m[4]); {
	case half != "" && (hour < 1 || hour > 12):
		return domain.Date{}, notATime
	case half == "AM" && hour == 12:
		hour = 0
	case half == "PM" && hour < 12:
		hour += 12
	}
	if hour > 23 || minute > 59 || second > 59 {
		return domain.Date{}, notATime
	}
	zone := strings.TrimSpace(rest[len(m[0]):])
	if zone == "" {
		return d, nil
	}
	offset, ok := zoneOf(zone)
	if !ok {
		return domain.Date{}, notATime
	}
	y, mo, dd := d.Time().Date()
	at := time.Date(y, mo, dd, hour, minute, second, 0, time.FixedZone("", offset))
	return domain.DateOf(at), nil
}

// zoneOf returns the offset from UTC, in seconds, of a zone as zoneOffset
// reads it, and false for any other text, an offset beyond ±14:00, or an
// abbreviation after the offset that is a half of the day (4:00 +0000 PM:
// which hour was meant, nobody can tell) or a name of UTC after another
// offset.
func zoneOf(zone string) (int, bool) {
	m := zoneOffset.FindStringSubmatch(zone)
	if m == nil {
		return 0, false
	}
	if m[1] == "" {
		return 0, true // Z, UTC or GMT
	}
	hours, _ := strconv.Atoi(m[2])
	minutes, _ := strconv.Atoi(cmp.Or(m[3], "0"))
	switch abbr := strings.ToUpper(m[4]); {
	case hours > 14 || minutes > 59 || hours == 14 && minutes > 0,
		strings.HasPrefix(abbr, "AM") || strings.HasPrefix(abbr, "PM"),
		(abbr == "UTC" || abbr == "GMT" || abbr == "UT" || abbr == "Z") && hours+minutes > 0:
		return 0, false
	}
	offset := hours*3600 + minutes*60
	if m[1] == "-" {
		offset = -offset
	}
	return offset, true
}

// serialDate reads an Excel serial date number (45352, or 45352.5 with a
// time of day) as a workbook stores a date. A number that reads as a year
// (see yearLike), or that gives a date outside 1900–2199, is none
// (errNotSerial): a yyyymm such as 202403 would be in 2454. Serial 60 of
// the 1900 date system is refused: it is the 1900-02-29 that Excel shows,
// a day that never was.
func serialDate(s, cell string, date1904 bool) (domain.Date, error) {
	if !allDigits(s) && !isDecimal(s) || yearLike(s) {
		return domain.Date{}, errNotSerial
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f >= 2958466 {
		return domain.Date{}, errNotSerial
	}
	if !date1904 && math.Floor(f) == 60 {
		return domain.Date{}, fmt.Errorf("%s is Excel's 1900-02-29, a day that did not exist; write the date as YYYY-MM-DD", domain.Quote(cell))
	}
	t, err := excelDate(f, date1904)
	if err != nil || t.Year() < 1900 || t.Year() > 2199 {
		return domain.Date{}, errNotSerial
	}
	return domain.NewDate(t.Year(), t.Month(), t.Day()), nil
}

// yearLike reports whether a number is a year typed alone (2024) or a year
// and a month (2024.03), rather than an Excel serial date (which would be
// in 1905).
func yearLike(s string) bool {
	whole, _, _ := strings.Cut(s, ".")
	n, err := strconv.Atoi(whole)
	return err == nil && n >= 1900 && n <= 2199
}

// excelDate converts an Excel serial date number to a time.
func excelDate(serial float64, date1904 bool) (time.Time, error) {
	return excelDateToTime(math.Floor(serial), date1904)
}
