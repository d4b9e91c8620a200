package domain

import (
	"strings"
	"testing"
	"unicode"
)

// TestSimplifiedFormsTable checks the folding table: Han characters only,
// each folded once and for all (folding a folded character changes
// nothing), and the pairs a reader of either script expects.
func TestSimplifiedFormsTable(t *testing.T) {
	pairs := 0
	for _, line := range strings.Split(t2sTable, "\n") {
		from, to, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		pairs++
		f, s := []rune(from)[0], []rune(to)[0]
		if !unicode.Is(unicode.Han, f) || !unicode.Is(unicode.Han, s) {
			t.Errorf("%q → %q: not Han characters", from, to)
		}
		if got := SimplifiedForm(f); got != s {
			t.Errorf("SimplifiedForm(%q) = %q, want %q", from, got, to)
		}
		if again := SimplifiedForm(s); again != s {
			t.Errorf("%q folds to %q, which folds again to %q", from, to, again)
		}
	}
	if pairs < 4000 {
		t.Errorf("the table holds %d pairs, want the ~4,100 of OpenCC's TSCharacters", pairs)
	}
	for _, c := range []struct{ in, want string }{
		{"電池", "电池"}, {"臺灣", "台湾"}, {"薴", "苎"}, {"顯著", "显著"}, {"𠁞", "𠀾"}, {"LED晶片，壹", "LED晶片，壹"},
	} {
		if got := strings.Map(SimplifiedForm, c.in); got != c.want {
			t.Errorf("SimplifiedForm over %q = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseRuneFoldRefusesAMalformedTable(t *testing.T) {
	for _, table := range []string{"電\t電\n", "電电\n", "電池\t电池\n", "電\t\n"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("parseRuneFold(%q) did not panic", table)
				}
			}()
			parseRuneFold(table)
		}()
	}
	if f := parseRuneFold("# comment\n\n電\t电\n"); f.fold('電') != '电' || f.fold('x') != 'x' {
		t.Error("parseRuneFold of a well-formed table does not fold 電 to 电")
	}
}
