package domain_test

import (
	"math"
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
