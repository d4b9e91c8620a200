package domain

import (
	_ "embed"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// IPCCode is a normalised IPC main group or subgroup, e.g. "H01M 10/0525":
// subclass, one space, main group without leading zeros, "/", subgroup.
type IPCCode string

// ipcCodesText is the IPC 2016.01 list of groups and subgroups, one
// normalised code a line; lines starting with '#' are comments.
//
//go:embed ipc_codes.txt
var ipcCodesText string

var (
	ipcGroupPattern  = regexp.MustCompile(`^([A-H][0-9]{2}[A-Z])([0-9]{1,4})/([0-9]{2,6})$`)
	ipcPrefixPattern = regexp.MustCompile(`^[A-H](?:[0-9]{2}(?:[A-Z](?:([0-9]{1,4})(/[0-9]{0,6})?)?)?)?$`)
	ipcVersionSuffix = regexp.MustCompile(`\([0-9]{4}\.[0-9]{2}\)[IN]?$`)
	ipcListSeparator = regexp.MustCompile(`[;；,，、\r\n]`)
	ipcSubclassStart = regexp.MustCompile(`^[A-Ha-h][0-9]{2}[A-Za-z]`)
)

// ipcCodes returns the embedded IPC list, sorted; the strings share the
// embedded text, so the list costs one slice header per code.
var ipcCodes = sync.OnceValue(func() []string {
	var codes []string
	for line := range strings.Lines(ipcCodesText) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			codes = append(codes, line)
		}
	}
	slices.Sort(codes)
	return slices.Clip(codes)
})

// ParseIPC parses and normalises an IPC group or subgroup. It accepts any
// case, spaces anywhere (full-width ones too), full-width letters, digits and
// slash (／), leading zeros in the main group and a trailing version such as
// "(2006.01)", which CNIPA follows with I (invention information) or N
// (additional information): "h01m 010/0525 (2006.01)" and
// "H01M10/0525(2006.01)I" become "H01M 10/0525". It returns an
// invalid_argument *Error for anything else.
func ParseIPC(s string) (IPCCode, error) {
	compact := ipcVersionSuffix.ReplaceAllString(compactIPC(s), "")
	if compact == "" {
		return "", invalidValue("IPC code is empty; want e.g. H01M 10/0525")
	}
	if c := compact[0]; c < 'A' || c > 'H' {
		return "", invalidValue("IPC code %s: section must be a letter A–H", Quote(s))
	}
	m := ipcGroupPattern.FindStringSubmatch(compact)
	if m == nil {
		return "", invalidValue("IPC code %s is malformed; want subclass, main group, / and subgroup, e.g. H01M 10/0525", Quote(s))
	}
	group := strings.TrimLeft(m[2], "0")
	if group == "" {
		return "", invalidValue("IPC code %s: main group must not be 0", Quote(s))
	}
	return IPCCode(m[1] + " " + group + "/" + m[3]), nil
}

// KnownIPC reports whether c is a group or subgroup of IPC 2016.01, the
// edition embedded in the ledger. Later additions such as G06F 16/00 are not
// known; callers accept them with a warning.
func KnownIPC(c IPCCode) bool {
	_, found := slices.BinarySearch(ipcCodes(), string(c))
	return found
}

// SplitIPCList splits a list of IPC codes on ';', '；', ',', '，', '、' and
// line breaks, and between codes separated by spaces alone ("H01M 10/0525
// H01M 4/13"); it trims each part and drops empty ones. It does not
// validate the parts; it returns nil when there are none.
func SplitIPCList(s string) []string {
	var parts []string
	for _, p := range ipcListSeparator.Split(s, -1) {
		parts = append(parts, splitIPCCodes(p)...)
	}
	return parts
}

// splitIPCCodes splits a part of an IPC list that may hold several codes
// separated by spaces: a code starts at each word that starts with a
// subclass once the words before hold a '/'. A part with one code comes
// back trimmed, as written; a blank one as none.
func splitIPCCodes(part string) []string {
	part = strings.TrimSpace(part)
	if part == "" {
		return nil
	}
	words := strings.Fields(part)
	var codes []string
	start := 0
	for i := 1; i < len(words); i++ {
		if ipcSubclassStart.MatchString(words[i]) && slices.ContainsFunc(words[start:i], hasSlash) {
			codes = append(codes, strings.Join(words[start:i], " "))
			start = i
		}
	}
	if start == 0 {
		return []string{part}
	}
	return append(codes, strings.Join(words[start:], " "))
}

func hasSlash(word string) bool { return strings.Contains(word, "/") }

// Section returns the section letter of c, e.g. "H".
func (c IPCCode) Section() string { return prefixOf(string(c), 1) }

// Class returns the class of c, e.g. "H01".
func (c IPCCode) Class() string { return prefixOf(string(c), 3) }

// Subclass returns the subclass of c, e.g. "H01M".
func (c IPCCode) Subclass() string { return prefixOf(string(c), 4) }

// HasPrefix reports whether c starts with prefix, ignoring spaces and the
// case of prefix: "H01M", "h01m10" and "H01M 10/" all match H01M 10/0525.
// As a string prefix, "H01M 1" matches groups 1 and 10–19 as well; a
// filter normalises it to "H01M 1/" first (NormalizeIPCPrefix), which
// matches that group only.
func (c IPCCode) HasPrefix(prefix string) bool {
	return strings.HasPrefix(compactIPC(string(c)), compactIPC(prefix))
}

// NormalizeIPCPrefix validates and normalises an IPC prefix for filters: a
// section ("H"), class ("H01"), subclass ("h01m" → "H01M"), subclass with
// main group ("H01M10" → "H01M 10/": that group and its subgroups, not
// groups 100–109 whose number starts alike), or a main group followed by
// "/" and the start of a subgroup ("H01M 10/05": 10/05, 10/052, 10/0525…).
// It returns an invalid_argument *Error for anything else.
func NormalizeIPCPrefix(s string) (string, error) {
	compact := compactIPC(s)
	m := ipcPrefixPattern.FindStringSubmatch(compact)
	if m == nil {
		return "", invalidValue("IPC prefix %s is malformed; want a section, class, subclass or group, e.g. H, H01, H01M or H01M 10", Quote(s))
	}
	if m[1] == "" {
		return compact, nil
	}
	group := strings.TrimLeft(m[1], "0")
	if group == "" {
		return "", invalidValue("IPC prefix %s: main group must not be 0", Quote(s))
	}
	if m[2] == "" {
		return compact[:4] + " " + group + "/", nil
	}
	return compact[:4] + " " + group + m[2], nil
}

// compactIPC folds full-width characters to ASCII, drops every space and
// upper-cases ASCII letters.
func compactIPC(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return asciiUpper(FoldWidth(r))
	}, s)
}

// FoldWidth returns the ASCII character of a full-width form (Ｚ, ２, （,
// ．) and a space for the ideographic space, what a Chinese input method
// types in full-width mode; any other rune as it is.
func FoldWidth(r rune) rune {
	switch {
	case r >= '！' && r <= '～':
		return r - ('！' - '!')
	case r == '\u3000':
		return ' '
	}
	return r
}

// prefixOf returns the first n bytes of s, or "" when s is shorter.
func prefixOf(s string, n int) string {
	if len(s) < n {
		return ""
	}
	return s[:n]
}
