package domain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// textField is a free-text field of a command: how to check a command
// holding value in it, and whether the field is shown on one line.
type textField struct {
	name    string
	oneLine bool
	check   func(value string) error
}

// textFields are the free-text fields of every command.
var textFields = []textField{
	{"name", true, func(v string) error { return RegisterOrg{Name: v}.Validate() }},
	{"title", true, func(v string) error { _, err := RegisterPatent{Title: v}.Parse(); return err }},
	{"abstract", false, func(v string) error { _, err := RegisterPatent{Abstract: v}.Parse(); return err }},
	{"reason", false, func(v string) error { return ChangeStatus{Reason: v}.Validate() }},
	{"evaluation_report_ref", true, func(v string) error { return FileDeclaration{EvaluationReportRef: v}.Validate() }},
	{"other_terms", false, func(v string) error { return FileDeclaration{OtherTerms: v}.Validate() }},
	{"reason", false, func(v string) error { return WithdrawDeclaration{Reason: v}.Validate() }},
	{"record_no", true, func(v string) error { return RecordLicense{RecordNo: v}.Validate() }},
	{"period", true, func(v string) error { return PayRoyalty{Period: v}.Validate() }},
	{"registration_no", true, func(v string) error { _, err := RegisterPledge{RegistrationNo: v}.Parse(); return err }},
	{"notes", false, func(v string) error { return RecordReview{Notes: v}.Validate() }},
}

// fieldMessage returns the message err gives for field, and whether it
// names the field at all.
func fieldMessage(err error, field string) (string, bool) {
	e, ok := err.(*Error)
	if !ok {
		return "", false
	}
	i := slices.IndexFunc(e.Fields, func(f FieldError) bool { return f.Field == field })
	if i < 0 {
		return "", false
	}
	return e.Fields[i].Message, true
}

// TestLineBreaksOnlyInMultiLineFields puts each line break and a tab in
// the middle of each free-text field: a one-line field refuses it saying
// it must be one line, a multi-line field takes it.
func TestLineBreaksOnlyInMultiLineFields(t *testing.T) {
	breaks := map[string]string{"\n": "a line break", "\r": "a line break", "\r\n": "a line break",
		"\u2028": "a line break", "\u2029": "a line break", "\t": "a tab"}
	for _, f := range textFields {
		for br, says := range breaks {
			msg, refused := fieldMessage(f.check("一种锂电池"+br+"正极材料"), f.name)
			switch {
			case f.oneLine && (!refused || msg != "must be one line: it contains "+says):
				t.Errorf("%s with %q: %q, want must be one line: it contains %s", f.name, br, msg, says)
			case !f.oneLine && refused:
				t.Errorf("%s with %q refused: %s", f.name, br, msg)
			}
		}
		if msg, refused := fieldMessage(f.check("一种锂电池正极材料"), f.name); refused {
			t.Errorf("%s: one line refused: %s", f.name, msg)
		}
	}
}

// TestBidiControlsRefusedEverywhere puts each bidirectional embedding,
// override and isolate, and a byte order mark, into each free-text field:
// every field refuses it, naming the character.
func TestBidiControlsRefusedEverywhere(t *testing.T) {
	var refused []rune
	for r := '\u202a'; r <= '\u202e'; r++ {
		refused = append(refused, r)
	}
	for r := '\u2066'; r <= '\u2069'; r++ {
		refused = append(refused, r)
	}
	for _, f := range textFields {
		for _, r := range refused {
			msg, ok := fieldMessage(f.check("广州"+string(r)+"大学"), f.name)
			want := fmt.Sprintf("contains U+%04X, a bidirectional control character, which is not allowed", r)
			if !ok || msg != want {
				t.Errorf("%s with %U: %q, want %q", f.name, r, msg, want)
			}
		}
		if msg, ok := fieldMessage(f.check("广州\ufeff大学"), f.name); !ok || !strings.Contains(msg, "U+FEFF") {
			t.Errorf("%s with a byte order mark: %q, want it refused naming U+FEFF", f.name, msg)
		}
	}
}

// notInOneLine are the characters other than C0 and C1 controls that one
// line of text must not hold: line and paragraph separators, the
// bidirectional controls and the byte order mark.
const notInOneLine = "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"

// FuzzCheckLine checks that whatever checkLine accepts holds no line
// break, tab, C0 or C1 control character, bidirectional control or byte
// order mark, and that checkText accepts it too.
func FuzzCheckLine(f *testing.F) {
	for _, seed := range []string{"中山大学", "一种\n电池", "a\tb", "x\u2028y", "x\u2029y", "x\u0085y", "x\u202ey",
		"\u2066名\u2069", "\ufeff名称", "a\rb", "\x7f", "\u009b31m", "名称  ", " ", "\v", "\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkLine(s, false, 1<<20) != nil {
			return
		}
		if err := checkText(s, false, 1<<20); err != nil {
			t.Fatalf("checkLine took %q, checkText refused it: %v", s, err)
		}
		if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || strings.ContainsRune(notInOneLine, r) }); i >= 0 {
			t.Fatalf("checkLine took %q, which holds %q at byte %d", s, s[i:], i)
		}
	})
}

// TestEchoedIDsAreBounded gives a list of IDs an ID of a megabyte, twice,
// and names it as a co-owner's consent: each problem quotes the ID cut
// short.
func TestEchoedIDsAreBounded(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	for name, err := range map[string]error{
		"listed twice":   checkIDList("patentee_ids", []string{long, long}, true),
		"not a patentee": checkConsentList([]string{"org1"}, []string{long}),
		"unknown value":  RecordReview{Grade: Grade(long)}.Validate(),
	} {
		if err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), Quote(long)) {
			t.Errorf("%s: %.200v (%d bytes)", name, err, len(fmt.Sprint(err)))
		}
	}
}
