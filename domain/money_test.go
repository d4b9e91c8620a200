package domain_test

import (
	"math"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestFenFormatting(t *testing.T) {
	for _, tc := range []struct {
		f           domain.Fen
		text, yuans string
	}{
		{0, "¥0.00", "0.00"},
		{1, "¥0.01", "0.01"},
		{99, "¥0.99", "0.99"},
		{100, "¥1.00", "1.00"},
		{-150, "-¥1.50", "-1.50"},
		{-5, "-¥0.05", "-0.05"},
		{99_999, "¥999.99", "999.99"},
		{100_000, "¥1,000.00", "1000.00"},
		{5_000_000, "¥50,000.00", "50000.00"},
		{123_456_789, "¥1,234,567.89", "1234567.89"},
		{2_000_000_000, "¥20,000,000.00", "20000000.00"},
		{domain.MaxFen, "¥1,000,000,000,000.00", "1000000000000.00"},
		{math.MaxInt64, "¥92,233,720,368,547,758.07", "92233720368547758.07"},
		{math.MinInt64, "-¥92,233,720,368,547,758.08", "-92233720368547758.08"},
	} {
		if got := tc.f.String(); got != tc.text {
			t.Errorf("Fen(%d).String() = %q, want %q", int64(tc.f), got, tc.text)
		}
		if got := tc.f.YuanString(); got != tc.yuans {
			t.Errorf("Fen(%d).YuanString() = %q, want %q", int64(tc.f), got, tc.yuans)
		}
	}
}

func TestCheckFen(t *testing.T) {
	for _, ok := range []domain.Fen{0, 1, domain.MaxFen} {
		if err := domain.CheckFen(ok); err != nil {
			t.Errorf("CheckFen(%d) = %v", int64(ok), err)
		}
	}
	for _, bad := range []domain.Fen{-1, math.MinInt64, domain.MaxFen + 1, math.MaxInt64} {
		assertValueError(t, domain.CheckFen(bad))
	}
}

func TestParseYuan(t *testing.T) {
	for _, tc := range []struct {
		text string
		want domain.Fen
	}{
		{"0", 0},
		{"50000", 5_000_000},
		{" 50000 ", 5_000_000},
		{"50000.5", 5_000_050},
		{"50000.05", 5_000_005},
		{"0.01", 1},
		{"007", 700},
		{"50,000", 5_000_000},
		{"1,234,567.89", 123_456_789},
		{"¥50,000.00", 5_000_000},
		{"￥５０，０００．５０", 5_000_050},
		{"５００００元", 5_000_000},
		{"1000000000000", domain.MaxFen},
		{"1,000,000,000,000.00", domain.MaxFen},
	} {
		got, err := domain.ParseYuan(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", tc.text, int64(got), err, int64(tc.want))
		}
	}
	for text, want := range map[string]string{
		"":                     "is not an amount in yuan",
		"abc":                  "is not an amount in yuan",
		"5e3":                  "is not an amount in yuan",
		"+5":                   "is not an amount in yuan",
		".5":                   "is not an amount in yuan",
		"50.":                  "is not an amount in yuan",
		"1.2.3":                "is not an amount in yuan",
		"1,5":                  "is not an amount in yuan",
		"5000,000":             "is not an amount in yuan",
		",500":                 "is not an amount in yuan",
		"1 000":                "is not an amount in yuan",
		"50000.505":            "more than two decimals",
		"-5":                   "must not be negative",
		"-¥5":                  "must not be negative",
		"1000000000000.01":     "above the ceiling of ¥1,000,000,000,000.00",
		"99999999999999999999": "above the ceiling",
	} {
		got, err := domain.ParseYuan(text)
		assertValueError(t, err)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseYuan(%q) = %d, %v; want an error saying %q", text, int64(got), err, want)
		}
	}
}

// FuzzParseYuan checks that every amount read is within 0..MaxFen and
// reads back from both ways the ledger writes yuan, and that whatever the
// ledger writes of an amount in range reads back as that amount.
func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"50000", "50,000.50", "￥５０，０００．５０", "-1", "1.234", "1,5", "1000000000000.01"} {
		f.Add(s, int64(0))
	}
	f.Add("", int64(domain.MaxFen))
	f.Fuzz(func(t *testing.T, text string, amount int64) {
		if got, err := domain.ParseYuan(text); err == nil {
			if got < 0 || got > domain.MaxFen {
				t.Fatalf("ParseYuan(%q) = %d, out of range", text, int64(got))
			}
			for _, written := range []string{got.String(), got.YuanString()} {
				if again, err := domain.ParseYuan(written); err != nil || again != got {
					t.Fatalf("ParseYuan(%q) = %d, but %q reads as %d, %v", text, int64(got), written, int64(again), err)
				}
			}
		}
		fen := domain.Fen(amount)
		if fen < 0 || fen > domain.MaxFen {
			return
		}
		for _, written := range []string{fen.String(), fen.YuanString()} {
			if got, err := domain.ParseYuan(written); err != nil || got != fen {
				t.Fatalf("ParseYuan(%q) = %d, %v; want %d", written, int64(got), err, amount)
			}
		}
	})
}
