package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuotedCutsAtRuneBoundaries(t *testing.T) {
	long := strings.Repeat("专利", 20)
	q := quoted(long)
	if !utf8.ValidString(q) || !strings.HasSuffix(q, "…") || !strings.HasPrefix(q, `"专利`) {
		t.Fatalf("quoted(%q) = %q", long, q)
	}
}
