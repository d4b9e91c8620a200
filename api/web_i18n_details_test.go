package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// detailCalls are the functions whose format argument (at the index
// given) becomes a problem's detail.
var detailCalls = map[string]int{"Violation": 1, "Forbidden": 0}

// TestEveryDetailOfTheFormsIsInChinese reads the sources of the rules the
// declaration and withdrawal forms meet, and of the refusals of a form,
// for the formats of their details, and checks that the Chinese
// catalogue has each, taking as many arguments.
func TestEveryDetailOfTheFormsIsInChinese(t *testing.T) {
	fset := token.NewFileSet()
	found := 0
	for _, name := range []string{"../domain/declaration.go", "../domain/decision.go", "../domain/service_commands.go", "web.go"} {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			idx, ok := detailCalls[calleeName(call)]
			if !ok {
				return true
			}
			format, ok := literalAt(call.Args, idx)
			if !ok {
				t.Errorf("%s: a detail that is no literal string", fset.Position(call.Pos()))
				return true
			}
			found++
			if _, ok := zhDetails[format]; !ok {
				t.Errorf("%s: %q has no Chinese", fset.Position(call.Pos()), format)
			}
			return true
		})
	}
	if found < 20 {
		t.Fatalf("only %d details found; the scan has missed the calls", found)
	}
	for en, zh := range zhDetails {
		args := make([]any, verbCount(en))
		for i := range args {
			args[i] = fmt.Sprintf("«arg%d»", i)
		}
		text := fmt.Sprintf(zh, args...)
		for i, arg := range args {
			if strings.Contains(text, "%!") || !strings.Contains(text, arg.(string)) {
				t.Errorf("%q leaves out argument %d of %q: %q", zh, i+1, en, text)
			}
		}
		err := domain.Violation(domain.RulePromotionalLanguage, en, args...)
		if got := detailLine(err, err.Message, langZH, func(k string) string { return k }, nil); got != text {
			t.Errorf("the detail of %q reads %q in Chinese, want %q", en, got, text)
		}
	}
}

// TestDetailWithoutChineseNamesItsValues: a detail whose format has no
// Chinese shows, on a Chinese page, the values it names rather than an
// English sentence; on an English page it shows as it is, a sentence of
// its own after the problem's title (its first letter in capitals).
func TestDetailWithoutChineseNamesItsValues(t *testing.T) {
	detail := `licence LIC-1 was recorded as "2024-R-7" on 2024-05-01`
	if got, want := detailLine(nil, detail, langZH, translator(langZH), nil), `涉及："2024-R-7"；2024-05-01`; got != want {
		t.Errorf("zh: %q, want %q", got, want)
	}
	if got, want := detailLine(nil, detail, langEN, translator(langEN), nil), "L"+detail[1:]; got != want {
		t.Errorf("en: %q, want the detail as it is, as a sentence: %q", got, want)
	}
	if got := detailLine(nil, "something without a value", langZH, translator(langZH), nil); got != "" {
		t.Errorf("zh, no value: %q, want nothing", got)
	}
}

// TestRuleRefusalsShowTheirDetail: a form refused by a rule says, beside
// the rule, what broke it: the advertising word, the day the term would
// end and the patent's expiry, in the page's language; a form of another
// organisation's patent says whose patentee may file it, in Chinese on a
// Chinese page.
func TestRuleRefusalsShowTheirDetail(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	pat, err := f.svc.svc.LoadPatent(t.Context(), f.number)
	if err != nil {
		t.Fatal(err)
	}
	ends := domain.TermEndsOn(mustDay("2024-06-01"), 240)
	for _, tc := range []struct {
		field, value string
		want         map[string]string
	}{
		{"other_terms", "best technology", map[string]string{
			"zh": "<li>声明中不得使用宣传用语。</li><li>其他条件中含有宣传用语 &#34;best&#34;</li>",
			"en": "<li>The terms contain advertising words.</li><li>Other terms contains the advertising word &#34;best&#34;</li>"}},
		{"term_months", "240", map[string]string{
			"zh": fmt.Sprintf("<li>许可期限超过专利权期限。</li><li>许可期限于 %s 届满，晚于专利权届满日 %s</li>", ends, pat.ExpiresOn),
			"en": fmt.Sprintf("<li>The licence term runs past the patent&#39;s expiry.</li><li>The term ends on %s, after the patent expires on %s</li>", ends, pat.ExpiresOn)}},
	} {
		form := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
		form.Set(tc.field, tc.value)
		for lang, want := range tc.want {
			status, body, _ := post(t, c, page+"/declare?lang="+lang, form)
			if status != 409 || !strings.Contains(body, want) {
				t.Errorf("%s=%q, lang=%s: %d, want %q in\n%s", tc.field, tc.value, lang, status, want, body)
			}
		}
	}
	sme := browser(t)
	signIn(t, sme, f.url+"/signin", f.smeKey)
	_, me, _ := get(t, sme, f.url+"/me")
	form := url.Values{"csrf": {csrfOf(t, me)}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	status, body, _ := post(t, sme, page+"/declare", form)
	if want := "<li>只有专利 " + string(f.number) + " 的专利权人才能办理</li>"; status != 403 || !strings.Contains(body, want) || strings.Contains(body, "may do this") {
		t.Errorf("another's patent: %d, want %q and no English in\n%s", status, want, body)
	}
}

// TestPagesNameFieldsAsTheFormsDo: a problem shown on a page names the
// field by its label and says the problem in the page's language, amounts
// in yuan: the fee terms' problems on an English page, a form that cannot
// be read, the fields of the addresses and hidden inputs, and a
// dashboard's range given backwards, which names both days.
func TestPagesNameFieldsAsTheFormsDo(t *testing.T) {
	var fee domain.FieldErrors
	fee.Add("", domain.FeeTerms{Mode: domain.FeeFree, LumpSumFen: 50_000}.Validate())
	fee.Add("", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 1_000_000_000_000, Instalments: 1_000}.Validate())
	fee.Add("", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 100, Instalments: 1_000_000}.Validate())
	for _, tc := range []struct {
		err      error
		zh, en   string
		noneHave string // nowhere, or with a line break first at no line's start
	}{
		{fee.Err(), "一次性金额（元）：付费方式为免费时不使用此项，请勿填写", "Lump sum (yuan): is not used by fee mode Free; leave it out", "_fen"},
		{fee.Err(), "期数：乘以每期金额后超过上限 ¥", "Instalments: multiplied by the instalment is above the ceiling of ¥", "_fen"},
		{fee.Err(), "期数：最多为 1200，实际为 1000000", "Instalments: must be at most 1200, got 1000000", "_fen"},
		{domain.Invalid("body", "has a malformed %%-escape in %s; write %% itself as %%25", domain.Quote("%ZZ")),
			"表单内容：%-转义有误（\"%ZZ\"）", "Form: has a malformed %-escape", "invalid URL escape"},
		{domain.Invalid("number", "is required"), "专利号：必须填写", "Patent number: is required", "\nnumber"},
		{domain.Invalid("history_after", "must be an integer from %d to %d", 0, 1), "事件记录起始版本：应为 0 到 1 之间的整数", "History from version: must be", "history_after"},
		{domain.Invalid("cursor", "is not a cursor of this listing order; start again without it"), "翻页标记：", "Page cursor: ", "\ncursor"},
		{domain.Invalid("limit", "must be between 1 and %d", 100), "每页条数：应在 1 到 100 之间", "Results per page: ", "\nlimit"},
		{domain.Invalid("declaration_id", "is required"), "声明编号：必须填写", "Declaration ID: is required", "declaration_id"},
		{domain.Invalid("co_owner_consent[0]", "%s is not a patentee of this patent", domain.Quote("x")),
			"共有人同意（勾选已书面同意的每位共有人）：&#34;x&#34; 不是", "Co-owners' consent (tick each co-owner who has agreed in writing): \"x\" is not", "co_owner_consent"},
		{domain.Invalid("key", "is required"), "API 密钥：必须填写", "API key: is required", "\nkey"},
		{domain.Violation(domain.RuleWithdrawalBeforeLicense, "effective_on %s is not after open licence %s, which took effect on %s under declaration %s",
			mustDay("2024-11-01"), "L1", mustDay("2024-12-04"), "D1"), "撤回生效日", "Effective on 2024-11-01 is not after", "effective_on"},
		{domain.Violation(domain.RulePromotionalLanguage, "other_terms contains the advertising word %q", "最佳"), "其他条件", "Other terms contains", "other_terms"},
	} {
		for lang, want := range map[string]string{langZH: tc.zh, langEN: tc.en} {
			lines := "\n" + strings.Join(problemLines(tc.err, lang, nil).Lines, "\n")
			if lang == langZH {
				want = strings.ReplaceAll(want, "&#34;", `"`)
			}
			if !strings.Contains(lines, want) || strings.Contains(lines, tc.noneHave) {
				t.Errorf("%s: %v reads\n%s\nwant %q and no %q", lang, tc.err, lines, want, tc.noneHave)
			}
		}
	}
	f := newWebFixture(t)
	c, page, _ := universityOnItsPatent(t, f)
	for form, want := range map[string]string{"mode=free&term_months=%ZZ": "表单内容：%-转义有误（&#34;%ZZ&#34;）",
		"mode=free;term_months=12": "表单内容：含有“;”，它不分隔参数"} {
		resp, err := c.Post(page+"/declare", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), want) || strings.Contains(string(body), "invalid") {
			t.Errorf("a form that cannot be read (%s): %d, want %q in\n%s", form, resp.StatusCode, want, body)
		}
	}
	for lang, want := range map[string]string{"zh": "截止日：2023-12-31 早于起始日 2024-01-01", "en": "To: 2023-12-31 is before from 2024-01-01"} {
		if status, body, _ := get(t, c, f.url+"/dashboard?from=2024-01-01&to=2023-12-31&lang="+lang); status != 400 || !strings.Contains(body, want) {
			t.Errorf("lang=%s: a range given backwards: %d, want %q in\n%s", lang, status, want, body)
		}
	}
}
