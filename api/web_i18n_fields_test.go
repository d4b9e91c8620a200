package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/patentledger/ledger/domain"
)

// fieldMessageCalls are the functions whose format argument (at the
// index given) becomes a FieldError's message.
var fieldMessageCalls = map[string]int{"Addf": 1, "Invalid": 1, "NotFound": 1, "invalidValue": 0, "add": 1}

// TestEveryFieldMessageIsInChinese reads the sources of the domain and of
// this package for the formats of field problems and checks that the
// Chinese catalogue has each, so that no Chinese page shows an English
// problem.
func TestEveryFieldMessageIsInChinese(t *testing.T) {
	formats := map[string]string{}
	for _, dir := range []string{"../domain", "../projections", "."} {
		for format, where := range fieldMessageFormats(t, dir) {
			formats[format] = where
		}
	}
	if len(formats) < 100 {
		t.Fatalf("only %d formats found; the scan has missed the calls", len(formats))
	}
	for format, where := range formats {
		if _, ok := zhFieldMessages[format]; !ok {
			t.Errorf("%s: %q has no Chinese", where, format)
		}
	}
	for format := range zhFieldMessages {
		if _, ok := formats[format]; !ok {
			t.Errorf("%q is in the catalogue but no longer in the code", format)
		}
	}
}

// fieldMessageFormats returns the format strings of the field-message
// calls in the non-test Go files of dir, each with where it is: literal
// strings and untyped string constants of the package.
func fieldMessageFormats(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, id := range vs.Names {
						if lit, ok := literalAt(vs.Values, i); ok && vs.Type == nil {
							consts[id.Name] = lit
						}
					}
				}
			}
		}
	}
	out := map[string]string{}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			idx, ok := fieldMessageCalls[calleeName(call)]
			if !ok || len(call.Args) <= idx {
				return true
			}
			format, found := literalAt(call.Args, idx)
			if id, isIdent := call.Args[idx].(*ast.Ident); isIdent {
				format, found = consts[id.Name]
			}
			if found {
				out[format] = fset.Position(call.Pos()).String()
			}
			return true
		})
	}
	return out
}

func calleeName(call *ast.CallExpr) string {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		return fn.Sel.Name
	case *ast.Ident:
		return fn.Name
	}
	return ""
}

// literalAt returns the string literal at index i of exprs.
func literalAt(exprs []ast.Expr, i int) (string, bool) {
	if i >= len(exprs) {
		return "", false
	}
	lit, ok := exprs[i].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// sampleArg formats as text (%s, %q, %v), as a number (%d) and as a
// letter (%c), as the domain's arguments do (a time.Month is printed by %s
// and by %d).
type sampleArg int

func (a sampleArg) String() string { return "arg" + string(rune(a)) }

// TestChineseFieldMessagesTakeTheSameArguments formats every Chinese
// message with as many arguments as its English format's verbs: none may
// be missing, left over or of a verb that cannot print them.
func TestChineseFieldMessagesTakeTheSameArguments(t *testing.T) {
	for en, zh := range zhFieldMessages {
		args := make([]any, verbCount(en))
		for i := range args {
			args[i] = sampleArg('A' + i)
		}
		text := fmt.Sprintf(zh, args...)
		if strings.Contains(text, "%!") {
			t.Errorf("%q: %q", zh, text)
		}
		for i, arg := range args {
			a := arg.(sampleArg)
			if !strings.Contains(text, a.String()) && !strings.Contains(text, strconv.Itoa(int(a))) && !strings.ContainsRune(text, rune(a)) {
				t.Errorf("%q leaves out argument %d of %q", zh, i+1, en)
			}
		}
	}
}

// verbCount counts the verbs of a format that take an argument.
func verbCount(format string) int {
	n := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] != '%' {
			n++
		}
	}
	return n
}

// TestEveryRuleIsExplained reads the rule codes the domain declares and
// checks that both languages explain each on a page.
func TestEveryRuleIsExplained(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../domain/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			if typ, ok := vs.Type.(*ast.Ident); ok && typ.Name == "Rule" {
				for i := range vs.Names {
					if code, ok := literalAt(vs.Values, i); ok {
						rules = append(rules, code)
					}
				}
			}
		}
		return true
	})
	if len(rules) < 30 {
		t.Fatalf("only %d rules found in domain/errors.go", len(rules))
	}
	for _, lang := range []string{langZH, langEN} {
		for _, rule := range rules {
			if _, ok := messages[lang]["rule."+rule]; !ok {
				t.Errorf("%s: rule %s has no explanation", lang, rule)
			}
		}
	}
}

// TestEnumValuesReadAsTheirLabels checks that a Chinese field message
// names a fee mode, royalty base or patent kind as the forms do, and
// leaves what a client typed as typed.
func TestEnumValuesReadAsTheirLabels(t *testing.T) {
	zh, en := translator(langZH), translator(langEN)
	for _, v := range []any{domain.FeeFree, domain.FeeLumpSum, domain.FeeInstalment, domain.FeeRoyalty,
		domain.FeeEntryPlusRoyalty, domain.BaseNetSales, domain.BaseProfit,
		domain.KindInvention, domain.KindUtilityModel, domain.KindDesign} {
		got := labelEnums([]any{v}, zh)[0]
		if label, ok := got.(string); !ok || label == fmt.Sprint(v) || !strings.ContainsFunc(label, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%T %v reads %#v on a Chinese page; want its Chinese label", v, v, got)
		}
		if got := labelEnums([]any{v}, en)[0]; got == v {
			t.Errorf("%T %v has no English label", v, v)
		}
	}
	args := []any{"lump_sum", domain.FeeMode("barter"), 3}
	if got := labelEnums(args, zh); !reflect.DeepEqual(got, args) {
		t.Errorf("labelEnums(%#v) = %#v; want typed text and unknown values as they were", args, got)
	}
}

// TestRegionLabel: a region is named in the page's language when the
// catalogue has the name, by its GB/T 2260 name otherwise, and by its code
// alone when no name is known.
func TestRegionLabel(t *testing.T) {
	for lang, cases := range map[string]map[string]string{
		"en": {"440106": "Tianhe (440106)", "310104": "徐汇区 (310104)", "4401": "Guangzhou (4401)", "440100": "Guangzhou (440100)",
			"3101": "上海市 (3101)", "449999": "449999", "4400": "4400"},
		"zh": {"440106": "天河区 (440106)", "310104": "徐汇区 (310104)", "31": "上海市 (31)", "44": "广东省 (44)"},
	} {
		for code, want := range cases {
			if got := regionLabel(translator(lang), code); got != want {
				t.Errorf("%s: regionLabel(%s) = %q, want %q", lang, code, got, want)
			}
		}
	}
}
