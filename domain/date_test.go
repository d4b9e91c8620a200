package domain_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// assertValueError fails unless err is an invalid_argument *domain.Error with
// a message and one FieldError whose Field is left for the caller to name.
func assertValueError(t testing.TB, err error) {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *domain.Error", err, err)
	}
	if e.Code != domain.CodeInvalidArgument || e.Message == "" {
		t.Fatalf("error = %+v, want code invalid_argument with a message", e)
	}
	if len(e.Fields) != 1 || e.Fields[0].Field != "" || e.Fields[0].Message != e.Message {
		t.Fatalf("error fields = %+v, want one unnamed field with the message", e.Fields)
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2024-03-05", "2024-03-05"},
		{"2024-02-29", "2024-02-29"},
		{"2000-02-29", "2000-02-29"},
		{"1900-01-01", "1900-01-01"},
		{"2199-12-31", "2199-12-31"},
	} {
		d, err := domain.ParseDate(tc.in)
		if err != nil || d.String() != tc.want {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", tc.in, d, err, tc.want)
		}
	}
}

func TestParseDateRejects(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "empty"},
		{"2024-02-30", "February 2024 has 29 days"},
		{"2023-02-29", "February 2023 has 28 days"},
		{"2024-04-31", "April 2024 has 30 days"},
		{"2024-01-00", "January 2024 has 31 days"},
		{"2024-13-01", "month 13"},
		{"2024-00-10", "month 0"},
		{"2024-2-3", "YYYY-MM-DD"},
		{"2024-03-05x", "YYYY-MM-DD"},
		{"2024-03-05T00:00:00Z", "YYYY-MM-DD"},
		{" 2024-03-05", "YYYY-MM-DD"},
		{"2024/03/05", "YYYY-MM-DD"},
		{"+024-03-05", "YYYY-MM-DD"},
		{"2024-0a-05", "YYYY-MM-DD"},
		{"1899-12-31", "year 1899"},
		{"2200-01-01", "year 2200"},
		{"２０２４-03-05", "YYYY-MM-DD"},
		{strings.Repeat("2024-03-05", 100), `"` + strings.Repeat("2024-03-05", 6) + `"… is not`},
	} {
		_, err := domain.ParseDate(tc.in)
		assertValueError(t, err)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseDate(%q) error %q does not mention %q", tc.in, err, tc.msg)
		}
	}
}

func TestDateZero(t *testing.T) {
	var z domain.Date
	if !z.IsZero() || z.String() != "" || !z.Time().IsZero() || z.Quarter() != 0 {
		t.Fatalf("zero Date = %q, time %v, quarter %d", z, z.Time(), z.Quarter())
	}
	if y, w := z.ISOWeek(); y != 0 || w != 0 {
		t.Errorf("zero ISOWeek = %d-W%d", y, w)
	}
	if !z.AddDays(3).IsZero() || !z.AddMonths(1).IsZero() || !z.AddYears(1).IsZero() {
		t.Error("adding to the zero Date gave a date")
	}
	d := domain.NewDate(1970, time.January, 1)
	if d.IsZero() || d == z {
		t.Error("1970-01-01 is the zero Date")
	}
	if !z.Before(d) || z.After(d) || !d.After(z) || d.DaysSince(z) != 0 {
		t.Error("the zero Date must sort before every date")
	}
	if z.Year() != 0 || z.Month() != 0 || z.Day() != 0 {
		t.Errorf("zero Date parts = %d %d %d", z.Year(), z.Month(), z.Day())
	}
	if !domain.DateOf(time.Time{}).IsZero() {
		t.Error("DateOf(zero time) is not the zero Date")
	}
}

func TestNewDateNormalises(t *testing.T) {
	for _, tc := range []struct {
		y    int
		m    time.Month
		d    int
		want string
	}{
		{2024, time.February, 30, "2024-03-01"},
		{2024, time.January, 0, "2023-12-31"},
		{2024, 13, 1, "2025-01-01"},
		{2023, time.December, 32, "2024-01-01"},
		{1969, time.December, 31, "1969-12-31"},
	} {
		if got := domain.NewDate(tc.y, tc.m, tc.d).String(); got != tc.want {
			t.Errorf("NewDate(%d, %d, %d) = %s, want %s", tc.y, tc.m, tc.d, got, tc.want)
		}
	}
}

func TestDateOfUsesShanghai(t *testing.T) {
	for _, tc := range []struct{ utc, want string }{
		{"2024-03-04T15:59:59Z", "2024-03-04"},
		{"2024-03-04T16:00:00Z", "2024-03-05"},
		{"2024-12-31T16:30:00Z", "2025-01-01"},
	} {
		ts, err := time.Parse(time.RFC3339, tc.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := domain.DateOf(ts).String(); got != tc.want {
			t.Errorf("DateOf(%s) = %s, want %s", tc.utc, got, tc.want)
		}
		if got := domain.DateOf(ts.In(time.FixedZone("PST", -8*3600))).String(); got != tc.want {
			t.Errorf("DateOf(%s in PST) = %s, want %s", tc.utc, got, tc.want)
		}
	}
}

func TestDateParts(t *testing.T) {
	d := mustDate(t, "2024-03-05")
	if d.Year() != 2024 || d.Month() != time.March || d.Day() != 5 || d.Quarter() != 1 {
		t.Errorf("parts of %s = %d %v %d Q%d", d, d.Year(), d.Month(), d.Day(), d.Quarter())
	}
	want := time.Date(2024, time.March, 5, 0, 0, 0, 0, domain.Shanghai)
	if got := d.Time(); !got.Equal(want) || got.Location() != domain.Shanghai {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	if got := d.Time().UTC().Format(time.RFC3339); got != "2024-03-04T16:00:00Z" {
		t.Errorf("Time() in UTC = %s", got)
	}
	for _, tc := range []struct {
		date string
		q    int
	}{{"2024-01-01", 1}, {"2024-03-31", 1}, {"2024-04-01", 2}, {"2024-09-30", 3}, {"2024-10-01", 4}, {"2024-12-31", 4}} {
		if got := mustDate(t, tc.date).Quarter(); got != tc.q {
			t.Errorf("Quarter(%s) = %d, want %d", tc.date, got, tc.q)
		}
	}
}

func TestDateISOWeek(t *testing.T) {
	for _, tc := range []struct {
		date       string
		year, week int
	}{
		{"2024-03-05", 2024, 10},
		{"2024-12-30", 2025, 1},
		{"2021-01-03", 2020, 53},
		{"2026-01-01", 2026, 1},
	} {
		y, w := mustDate(t, tc.date).ISOWeek()
		if y != tc.year || w != tc.week {
			t.Errorf("ISOWeek(%s) = %d-W%02d, want %d-W%02d", tc.date, y, w, tc.year, tc.week)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  domain.Date
		want string
	}{
		{"AddDays +1 leap", mustDate(t, "2024-02-28").AddDays(1), "2024-02-29"},
		{"AddDays -1 year boundary", mustDate(t, "2024-01-01").AddDays(-1), "2023-12-31"},
		{"AddDays 366", mustDate(t, "2024-01-01").AddDays(366), "2025-01-01"},
		{"AddMonths clamps to leap Feb", mustDate(t, "2024-01-31").AddMonths(1), "2024-02-29"},
		{"AddMonths clamps to Feb", mustDate(t, "2023-01-31").AddMonths(1), "2023-02-28"},
		{"AddMonths clamps to Apr", mustDate(t, "2024-03-31").AddMonths(1), "2024-04-30"},
		{"AddMonths across year", mustDate(t, "2024-11-15").AddMonths(3), "2025-02-15"},
		{"AddMonths negative", mustDate(t, "2024-03-31").AddMonths(-1), "2024-02-29"},
		{"AddMonths -13", mustDate(t, "2024-01-15").AddMonths(-13), "2022-12-15"},
		{"AddMonths 0", mustDate(t, "2024-01-31").AddMonths(0), "2024-01-31"},
		{"AddYears clamps leap day", mustDate(t, "2024-02-29").AddYears(1), "2025-02-28"},
		{"AddYears leap to leap", mustDate(t, "2024-02-29").AddYears(4), "2028-02-29"},
		{"AddYears 20 (invention term)", mustDate(t, "2020-06-15").AddYears(20).AddDays(-1), "2040-06-14"},
		{"AddYears negative", mustDate(t, "2024-02-29").AddYears(-1), "2023-02-28"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	if d := domain.NewDate(1, time.January, 15).AddMonths(-13); d.Year() != -1 || d.Month() != time.December || d.Day() != 15 {
		t.Errorf("0001-01-15 - 13 months = %d-%d-%d, want -1-12-15", d.Year(), d.Month(), d.Day())
	}
	a, b := mustDate(t, "2024-03-01"), mustDate(t, "2024-02-01")
	if a.DaysSince(b) != 29 || b.DaysSince(a) != -29 || !b.Before(a) || !a.After(b) || a.Before(a) || a.After(a) {
		t.Errorf("comparisons of %s and %s are wrong", a, b)
	}
}

func TestDateComparableMapKey(t *testing.T) {
	m := map[domain.Date]int{}
	m[mustDate(t, "2024-03-05")]++
	m[domain.NewDate(2024, time.March, 5)]++
	m[domain.DateOf(time.Date(2024, 3, 4, 20, 0, 0, 0, time.UTC))]++
	if len(m) != 1 || m[mustDate(t, "2024-03-05")] != 3 {
		t.Errorf("map = %v, want one key with count 3", m)
	}
}

func TestDateText(t *testing.T) {
	d := mustDate(t, "2024-03-05")
	b, err := d.MarshalText()
	if err != nil || string(b) != "2024-03-05" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	if b, _ := (domain.Date{}).MarshalText(); string(b) != "" {
		t.Errorf("zero MarshalText = %q", b)
	}
	var got domain.Date
	if err := got.UnmarshalText([]byte("2024-03-05")); err != nil || got != d {
		t.Errorf("UnmarshalText = %s, %v", got, err)
	}
	if err := got.UnmarshalText(nil); err != nil || !got.IsZero() {
		t.Errorf("UnmarshalText(\"\") = %s, %v; want zero", got, err)
	}
	assertValueError(t, got.UnmarshalText([]byte("2024-02-30")))
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		On  domain.Date  `json:"on"`
		Opt *domain.Date `json:"opt,omitempty"`
	}
	b, err := json.Marshal(doc{On: mustDate(t, "2024-03-05")})
	if err != nil || string(b) != `{"on":"2024-03-05"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	if b, _ := json.Marshal(doc{}); string(b) != `{"on":null}` {
		t.Errorf("zero Marshal = %s", b)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"on":"2024-03-05"}`, "2024-03-05"},
		{`{"on":null}`, ""},
		{`{"on":""}`, ""},
		{`{}`, ""},
	} {
		var v doc
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil || v.On.String() != tc.want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", tc.in, v.On, err, tc.want)
		}
	}
	for _, in := range []string{`{"on":"2024-02-30"}`, `{"on":20240305}`, `{"on":"2024-3-5"}`, `{"on":true}`} {
		var v doc
		err := json.Unmarshal([]byte(in), &v)
		if domain.ErrorCode(err) != domain.CodeInvalidArgument {
			t.Errorf("Unmarshal(%s) error = %v, want invalid_argument", in, err)
		}
	}
}

// TestDateRoundTripProperty checks that every day from 1900 to 2199 prints
// and parses back to itself, and that AddDays agrees with DaysSince.
func TestDateRoundTripProperty(t *testing.T) {
	start := mustDate(t, "1900-01-01")
	end := mustDate(t, "2199-12-31")
	prev := start.AddDays(-1)
	for d := start; !d.After(end); d = d.AddDays(1) {
		got, err := domain.ParseDate(d.String())
		if err != nil || got != d {
			t.Fatalf("ParseDate(%s) = %s, %v", d, got, err)
		}
		if d.DaysSince(prev) != 1 || !prev.Before(d) {
			t.Fatalf("%s does not follow %s", d, prev)
		}
		if d != domain.NewDate(d.Year(), d.Month(), d.Day()) || d != domain.DateOf(d.Time()) {
			t.Fatalf("%s does not survive NewDate/DateOf", d)
		}
		prev = d
	}
	if n := end.DaysSince(start); n != 109572 {
		t.Errorf("days from 1900 to 2199 = %d", n)
	}
}

// TestAddMonthsProperty checks AddMonths against a naive month walk.
func TestAddMonthsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		d := mustDate(t, "1950-01-01").AddDays(r.IntN(60000))
		n := r.IntN(600) - 300
		got := d.AddMonths(n)
		first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
		if got.Year() != first.Year() || got.Month() != first.Month() {
			t.Fatalf("%s + %d months = %s, want month %s", d, n, got, first.Format("2006-01"))
		}
		if got.Day() != d.Day() && (got.Day() > d.Day() || got.AddDays(1).Month() == got.Month()) {
			t.Fatalf("%s + %d months = %s: day not kept or not clamped to month end", d, n, got)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-03-05", "2024-02-29", "2024-02-30", "1900-01-01", "2199-12-31", "", "2024-2-3", "9999-99-99", "0000-00-00", "2024-03-05\n", "２０２４-03-05"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domain.ParseDate(s)
		if err != nil {
			assertValueError(t, err)
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) = %q, not the input", s, d)
		}
		var back domain.Date
		b, _ := d.MarshalJSON()
		if err := back.UnmarshalJSON(b); err != nil || back != d {
			t.Fatalf("JSON round trip of %s = %s, %v", d, back, err)
		}
	})
}

func mustDate(t testing.TB, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
