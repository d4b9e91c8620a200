package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteCutsAtRuneBoundaries(t *testing.T) {
	long := strings.Repeat("专利", 40)
	q := Quote(long)
	if want := `"` + strings.Repeat("专利", 30) + `"…`; q != want {
		t.Fatalf("Quote(%q) = %q, want %q", long, q, want)
	}
	if q := Quote(strings.Repeat("x", 60)); q != `"`+strings.Repeat("x", 60)+`"` {
		t.Fatalf("Quote of 60 characters = %q, want them all", q)
	}
}

// TestQuoteIsBounded quotes a megabyte of input: the result is short, and
// a cut of invalid UTF-8 keeps its bytes escaped.
func TestQuoteIsBounded(t *testing.T) {
	if q := Quote(strings.Repeat("\u2028", 1<<20)); len(q) > 400 || !utf8.ValidString(q) || !strings.HasSuffix(q, "…") {
		t.Fatalf("Quote of a megabyte is %d bytes: %.80q", len(q), q)
	}
	if q := Quote(strings.Repeat("\xff", 100)); q != `"`+strings.Repeat(`\xff`, 60)+`"…` {
		t.Fatalf("Quote of invalid bytes = %q", q)
	}
}
