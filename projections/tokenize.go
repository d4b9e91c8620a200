package projections

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/patentledger/ledger/domain"
)

// The search index stores, for each text, a string of tokens separated by
// spaces, in an FTS5 table with the "ascii" tokenizer: it splits on ASCII
// spaces and punctuation only, so every token the functions below make
// (lower-case ASCII letters and digits, or CJK characters) stays whole.
//
// CJK text has no spaces, so each run of CJK characters is indexed as its
// overlapping bigrams followed by its last character alone: 固态电池 gives
// 固态 态电 电池 池. A query run of two or more characters becomes the phrase
// of its bigrams, which matches exactly the texts that contain the run; a
// single character becomes a prefix query, which finds it at any place in a
// run (inside a bigram or as the last character). Other letters and digits
// form lower-cased words. IPC codes become tokens of their own (see
// ipcTokens). Texts and queries are folded first (foldText), so that the
// forms Unicode marks as compatibility variants, and traditional and
// simplified characters, find each other.

// isCJK reports whether r is indexed by bigrams.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// segment is a run of CJK characters or a word of other letters and digits.
type segment struct {
	text string
	cjk  bool
}

// foldText returns text in Unicode normalisation form NFKC: full-width
// letters and digits as ASCII (ＬＥＤ, ２０２４), subscripts and superscripts
// as digits (Li₂CO₃ as Li2CO3), Roman numerals as letters (Ⅱ as II), ℃ as
// °C, and CJK compatibility ideographs as the ideographs they stand for;
// then with traditional characters as simplified ones (電池 as 电池,
// domain.SimplifiedForm). The listings' schema names this folding (tokensVersion):
// changing it changes the tokens, which needs the index rebuilt.
func foldText(text string) string { return strings.Map(domain.SimplifiedForm, norm.NFKC.String(text)) }

// segments splits text into CJK runs and lower-cased words, in order.
func segments(text string) []segment {
	var out []segment
	var cur []rune
	cjk := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, segment{text: string(cur), cjk: cjk})
			cur = cur[:0]
		}
	}
	for _, r := range foldText(text) {
		switch {
		case isCJK(r):
			if !cjk {
				flush()
			}
			cjk = true
			cur = append(cur, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if cjk {
				flush()
			}
			cjk = false
			cur = append(cur, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// IndexTokens returns the token string of text for the search index.
func IndexTokens(text string) string {
	var b strings.Builder
	for _, s := range segments(text) {
		if !s.cjk {
			addToken(&b, s.text)
			continue
		}
		runes := []rune(s.text)
		for i := 0; i+1 < len(runes); i++ {
			addToken(&b, string(runes[i:i+2]))
		}
		addToken(&b, string(runes[len(runes)-1]))
	}
	return b.String()
}

func addToken(b *strings.Builder, tok string) {
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(tok)
}

// ipcTokens returns the index tokens of an IPC code: its subclass, main
// group and whole code, e.g. "h01m h01m10 h01m10x0525" for H01M 10/0525.
// The whole code's token is IPCToken's, so that a prefix of a code is a
// prefix of its token.
func ipcTokens(code domain.IPCCode) []string {
	sub, rest, ok := strings.Cut(string(code), " ")
	group, _, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return nil
	}
	sub = strings.ToLower(sub)
	return []string{sub, sub + group, IPCToken(string(code))}
}

// IPCToken returns the search token of an IPC code or of a normalised
// prefix of one (domain.NormalizeIPCPrefix): lower case, without spaces,
// "x" for "/": "H01M 10/0525" gives "h01m10x0525", "H01M 10/05" gives
// "h01m10x05".
func IPCToken(code string) string {
	return strings.ReplaceAll(strings.ToLower(compactIPC(code)), "/", "x")
}

// CodeTokens returns the token string of a patent's IPC codes and its
// Locarno class ("" for none).
func CodeTokens(codes []domain.IPCCode, locarno string) string {
	var b strings.Builder
	for _, c := range codes {
		for _, t := range ipcTokens(c) {
			addToken(&b, t)
		}
	}
	if locarno != "" {
		addToken(&b, LocarnoToken(locarno))
	}
	return b.String()
}

// LocarnoToken returns the search token of a Locarno class and subclass:
// "14-03" gives "loc14x03".
func LocarnoToken(locarno string) string { return "loc" + strings.ReplaceAll(locarno, "-", "x") }

// locarnoInQuery is a Locarno class and subclass written as a word of a
// query (14-03, LOC14-03), as domain's Locarno pattern admits them.
var locarnoInQuery = regexp.MustCompile(`^(?i:loc)?((?:0[1-9]|[12][0-9]|3[0-2]|99)-[0-9]{2})$`)

// ipcInQuery finds IPC groups and subgroups written in a query, such as
// "H01M 10/0525" or "h01m10", or the start of a subgroup ("H01M 10/4", as
// the ipc filter takes it), and a subgroup's edition as CNIPA writes it,
// "H01M10/0525(2006.01)I", which is no word to search for (as
// domain.ParseIPC drops it).
var ipcInQuery = regexp.MustCompile(`(?i)\b([a-h][0-9]{2}[a-z])\s*([0-9]{1,4})\b(?:\s*/\s*([0-9]{1,6})\b(?:\s*\([0-9]{4}\.[0-9]{2}\)(?:[in]\b)?)?)?`)

// searchTerm is one term of a search, which a listing must match: a
// phrase of tokens that follow each other, or a single token taken as a
// prefix; in any column, or in the IPC codes only.
type searchTerm struct {
	tokens    []string
	prefix    bool // the single token is a prefix
	codesOnly bool
	// unscored is a filter's term: required, but no part of the relevance
	// score, so that a filter narrows the matches without reordering them.
	unscored bool
}

// String returns the term in FTS5's query syntax, quoted so that no user
// text is read as syntax.
func (t searchTerm) String() string {
	s := `"` + strings.Join(t.tokens, " ") + `"`
	if t.prefix {
		s += " *"
	}
	if t.codesOnly {
		s = "codes : " + s
	}
	return s
}

// matchExpression returns the FTS5 MATCH expression that requires every
// term, "" for none.
func matchExpression(terms []searchTerm) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, " AND ")
}

// MatchExpression turns a user's query into an FTS5 MATCH expression whose
// terms must all match: a phrase of bigrams per CJK run of two or more
// characters, a prefix term per single CJK character, a term per word and
// per IPC code. Every term is quoted, so the user's text cannot inject
// FTS5 syntax. It returns "" when the query holds nothing searchable.
func MatchExpression(q string) string { return matchExpression(queryTerms(q)) }

// queryTerms returns the terms of a user's query (see MatchExpression).
func queryTerms(q string) []searchTerm {
	var terms []searchTerm
	q = ipcInQuery.ReplaceAllStringFunc(foldText(q), func(m string) string {
		sm := ipcInQuery.FindStringSubmatch(m)
		group, _ := strconv.Atoi(sm[2])
		tok := strings.ToLower(sm[1]) + strconv.Itoa(group)
		term := searchTerm{tokens: []string{tok}}
		if sm[3] != "" {
			// A subgroup finds the subgroups under it too, as the ipc
			// filter does: H01M 10/05 finds H01M 10/0525.
			term = searchTerm{tokens: []string{tok + "x" + sm[3]}, prefix: true, codesOnly: true}
		}
		terms = append(terms, term)
		return " "
	})
	words := strings.Fields(q)
	words = slices.DeleteFunc(words, func(w string) bool {
		m := locarnoInQuery.FindStringSubmatch(w)
		if m != nil {
			terms = append(terms, searchTerm{tokens: []string{LocarnoToken(m[1])}, codesOnly: true})
		}
		return m != nil
	})
	q = strings.Join(words, " ")
	for _, s := range segments(q) {
		runes := []rune(s.text)
		switch {
		case !s.cjk:
			terms = append(terms, searchTerm{tokens: []string{s.text}})
		case len(runes) == 1:
			terms = append(terms, searchTerm{tokens: []string{s.text}, prefix: true})
		default:
			bigrams := make([]string, 0, len(runes)-1)
			for i := 0; i+1 < len(runes); i++ {
				bigrams = append(bigrams, string(runes[i:i+2]))
			}
			terms = append(terms, searchTerm{tokens: bigrams})
		}
	}
	return distinctTerms(terms)
}

// distinctTerms returns terms without the repeats of a term: a word given
// twice is searched once (each repeat cost a pass over its postings).
func distinctTerms(terms []searchTerm) []searchTerm {
	seen := make(map[string]bool, len(terms))
	return slices.DeleteFunc(terms, func(t searchTerm) bool {
		key := t.String()
		repeat := seen[key]
		seen[key] = true
		return repeat
	})
}

// ipcTerm returns the term of a normalised IPC prefix filter: the token of
// a subclass, which every code of the subclass has (see ipcTokens) and
// which the index finds faster than a prefix; else a prefix of the codes'
// tokens.
func ipcTerm(prefix string) searchTerm {
	return searchTerm{tokens: []string{IPCToken(prefix)}, prefix: len(prefix) != 4, codesOnly: true, unscored: true}
}

// scoredApart returns the terms that make the relevance score and the
// filters' terms (unscored), each in their order.
func scoredApart(terms []searchTerm) (scored, filters []searchTerm) {
	for _, t := range terms {
		if t.unscored {
			filters = append(filters, t)
		} else {
			scored = append(scored, t)
		}
	}
	return scored, filters
}
