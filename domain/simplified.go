package domain

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"
)

// t2sTable is t2s.txt: traditional characters and the simplified ones
// they are read as.
//
//go:embed t2s.txt
var t2sTable string

// The traditional characters of the table lie mostly in the CJK Unified
// Ideographs and their Extension A, which runeFold keeps in an array.
const (
	foldArrayLow  = 0x3400
	foldArrayHigh = 0x9FFF
)

// runeFold maps characters to the characters they are folded to.
type runeFold struct {
	common [foldArrayHigh - foldArrayLow + 1]rune // 0: not folded
	rare   map[rune]rune
}

// simplifiedForms folds traditional characters to simplified ones.
var simplifiedForms = parseRuneFold(t2sTable)

// SimplifiedForm returns the simplified character OpenCC's table gives for
// the traditional character r (電 → 电, 臺 → 台), and r itself for any
// other character. The listings' search reads texts and queries through
// it, so that 電池 finds 电池 and back, and so does the check for
// advertising words (國家級 is 国家级).
func SimplifiedForm(r rune) rune { return simplifiedForms.fold(r) }

// parseRuneFold reads a table of "from<TAB>to" lines, each a single
// character, skipping blank lines and lines starting with #. The table is
// part of the program: a malformed one is a programming error.
func parseRuneFold(table string) *runeFold {
	f := &runeFold{rare: map[rune]rune{}}
	for n, line := range strings.Split(table, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		from, to, ok := strings.Cut(line, "\t")
		if !ok || utf8.RuneCountInString(from) != 1 || utf8.RuneCountInString(to) != 1 || from == to {
			panic(fmt.Sprintf("fold table line %d: want two different characters separated by a tab, got %q", n+1, line))
		}
		f.set([]rune(from)[0], []rune(to)[0])
	}
	return f
}

// set folds from to to.
func (f *runeFold) set(from, to rune) {
	if from >= foldArrayLow && from <= foldArrayHigh {
		f.common[from-foldArrayLow] = to
		return
	}
	f.rare[from] = to
}

// fold returns the character r is folded to, r itself when none.
func (f *runeFold) fold(r rune) rune {
	switch {
	case r < foldArrayLow:
		return r
	case r <= foldArrayHigh:
		if to := f.common[r-foldArrayLow]; to != 0 {
			return to
		}
		return r
	}
	if to, ok := f.rare[r]; ok {
		return to
	}
	return r
}
