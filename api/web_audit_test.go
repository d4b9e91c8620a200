package api

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestSigninSaysHowLongASignInLasts: the sign-in page says, in both
// languages, that a sign-in lasts at most the session's lifetime and ends
// when the browser closes or on sign-out, as the session cookie does.
func TestSigninSaysHowLongASignInLasts(t *testing.T) {
	f := newWebFixture(t)
	for lang, want := range map[string]string{"zh": "登录最长保持 12 小时，关闭浏览器或退出登录即结束。",
		"en": "a sign-in lasts at most 12 hours, and ends when the browser closes or you sign out."} {
		if _, page, _ := get(t, browser(t), f.url+"/signin?lang="+lang); !strings.Contains(page, want) {
			t.Errorf("lang=%s: the sign-in page does not say %q:\n%s", lang, want, page)
		}
	}
	if sessionLifetime.Hours() != 12 {
		t.Fatalf("the session lasts %v: the test's text says 12 hours", sessionLifetime)
	}
}

// TestTraditionalChineseFirstGetsChinese: a browser that asks first for
// Chinese in the Traditional script (Hong Kong, Macau, Taiwan) and for
// English lower gets the Chinese pages, which its reader reads far better
// than English; English first still gets English.
func TestTraditionalChineseFirstGetsChinese(t *testing.T) {
	f := newWebFixture(t)
	for accept, want := range map[string]string{
		"zh-HK,en;q=0.5": `lang="zh-CN"`, "zh-TW,en;q=0.8": `lang="zh-CN"`, "zh-Hant,en;q=0.8": `lang="zh-CN"`,
		"zh-MO,en;q=0.8": `lang="zh-CN"`, "zh-Hant-TW, en-US;q=0.7": `lang="zh-CN"`,
		"en, zh-HK;q=0.9": `lang="en"`, "zh-Hant;q=0.1, en": `lang="en"`, "fr-FR,fr;q=0.9,en;q=0.8": `lang="en"`,
	} {
		if _, page, _ := get(t, browser(t), f.url+"/patents/"+string(f.number), "Accept-Language", accept); !strings.Contains(page, "<html "+want) {
			t.Errorf("Accept-Language %q: want <html %s>", accept, want)
		}
	}
}

// TestDeclarationBeforeTheGrantIsRefusedInChinese: a declaration dated
// before the patent's grant is refused (patent_not_active) with a Chinese
// detail on a Chinese page, the status said as the page says it (it read
// "法律状态为：not yet granted"), and the date field marked invalid.
func TestDeclarationBeforeTheGrantIsRefusedInChinese(t *testing.T) {
	f := newWebFixture(t) // granted 2022-01-10
	c, page, token := universityOnItsPatent(t, f)
	form := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"24"}, "declared_on": {"2021-06-01"}}
	status, body, _ := post(t, c, page+"/declare", form)
	want := "<li>专利 " + string(f.number) + " 在 2021-06-01 的法律状态为：尚未授权</li>"
	if status != http.StatusConflict || !strings.Contains(body, want) || strings.Contains(body, "not yet granted") {
		t.Errorf("a declaration before the grant: %d, want %q and no English in\n%s", status, want, body)
	}
	if !strings.Contains(body, `id="declared_on" name="declared_on" aria-invalid="true" aria-describedby="declared_on-problem problem" autofocus`) {
		t.Errorf("the declaration date is not marked invalid:\n%s", body)
	}
}

// coOwnedPatent registers a patent the fixture's university co-owns with
// its SME, and returns its page's address.
func coOwnedPatent(t *testing.T, f *webFixture) string {
	t.Helper()
	check, _ := domain.PatentCheckChar("202010654321")
	number := "ZL202010654321." + string(check)
	if _, err := f.svc.svc.RegisterPatent(t.Context(), domain.Request{Actor: domain.AdminActor}, domain.RegisterPatent{
		Number: number, Title: "一种钠离子电池正极材料", PatenteeIDs: []string{f.uniID, f.smeID},
		IPC: []string{"H01M 4/36"}, FiledOn: mustDay("2020-05-06"), GrantedOn: mustDay("2022-03-01")}); err != nil {
		t.Fatal(err)
	}
	return f.url + "/patents/" + number
}

// TestCoOwnerIsNamedNotNumbered: a form refused for a co-owner's missing
// consent names the co-owner as the form lists it, in both languages and
// on both forms, not by its ID ("共有人 01a2…未同意").
func TestCoOwnerIsNamedNotNumbered(t *testing.T) {
	f := newWebFixture(t)
	page := coOwnedPatent(t, f)
	c := browser(t)
	signIn(t, c, f.url+"/signin", f.uniKey)
	_, html, _ := get(t, c, page)
	form := url.Values{"csrf": {csrfOf(t, html)}, "mode": {"free"}, "term_months": {"24"}, "declared_on": {"2024-03-01"}}
	for lang, want := range map[string]string{"zh": "<li>共有人 广州星能电池科技有限公司 未同意</li>",
		"en": `<li>Co-owner <span lang="zh-CN">广州星能电池科技有限公司</span> has not consented</li>`} {
		status, body, _ := post(t, c, page+"/declare?lang="+lang, form)
		if status != http.StatusConflict || !strings.Contains(body, want) || strings.Contains(problemBox(t, body), f.smeID) {
			t.Errorf("lang=%s: a declaration without the co-owner's consent: %d, want %q in\n%s", lang, status, want, body)
		}
	}
	form.Set(coOwnerConsent, f.smeID)
	if status, _, _ := post(t, c, page+"/declare", form); status != http.StatusSeeOther {
		t.Fatalf("a declaration with the co-owner's consent: %d", status)
	}
	_, html, _ = get(t, c, page)
	withdraw := url.Values{"csrf": {csrfOf(t, html)}, "declaration_id": {declarationIDOf(t, html)}, "effective_on": {"2024-06-01"}, "reason": {"重新定价"}}
	if status, body, _ := post(t, c, page+"/withdraw", withdraw); status != http.StatusConflict ||
		!strings.Contains(body, "<li>共有人 广州星能电池科技有限公司 未同意</li>") || strings.Contains(problemBox(t, body), f.smeID) {
		t.Errorf("a withdrawal without the co-owner's consent: %d\n%s", status, body)
	}
}

// TestOrganisationsAreNamedInProblems: an organisation's ID in a problem's
// detail or field message, bare or quoted, reads as its name when the page
// can name it, and stays as it is otherwise.
func TestOrganisationsAreNamedInProblems(t *testing.T) {
	known, unknown := "01a2236b-6a65-7a8c-9f7a-321753ae06ea", "0190a5b2-7c3e-7d4f-9a1b-2c3d4e5f6a02"
	names := func(id string) (string, bool) { return "华南理工大学", id == known }
	for _, tc := range []struct {
		err    error
		zh, en string
	}{
		{domain.Violation(domain.RuleCoOwnerConsentMissing, "co-owner %s has not consented", known),
			"共有人 华南理工大学 未同意", "Co-owner 华南理工大学 has not consented"},
		{domain.Violation(domain.RuleCoOwnerConsentMissing, "co-owner %s has not consented", unknown),
			"共有人 " + unknown + " 未同意", "Co-owner " + unknown + " has not consented"},
		{domain.Invalid("co_owner_consent[0]", "%s is not a patentee of this patent", domain.Quote(known)),
			`"华南理工大学" 不是该专利的专利权人`, `"华南理工大学" is not a patentee of this patent`},
	} {
		for lang, want := range map[string]string{langZH: tc.zh, langEN: tc.en} {
			if lines := strings.Join(problemLines(tc.err, lang, names).Lines, "\n"); !strings.Contains(lines, want) {
				t.Errorf("%s: %v reads\n%s\nwant %q", lang, tc.err, lines, want)
			}
		}
	}
}

// problemBox returns the problem box at the top of a page.
func problemBox(t *testing.T, html string) string {
	t.Helper()
	_, box, ok := strings.Cut(html, `<div class="problem"`)
	if !ok {
		t.Fatalf("the page shows no problem:\n%s", html)
	}
	box, _, _ = strings.Cut(box, "</div>")
	return box
}

// TestInvalidFieldsAreMarkedWhereTheyAre: a refused form says what is
// wrong beside each field at fault as well as at the top, the fields are
// marked (aria-invalid, which the stylesheet draws apart from valid ones
// at AA contrast) and the first of them has the focus, so that the
// browser shows it rather than the top of a long page; on the withdrawal
// form a missing consent is said beside the co-owners' boxes.
func TestInvalidFieldsAreMarkedWhereTheyAre(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	form := url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"5,0000"}, "term_months": {"abc"}, "declared_on": {"2024-06-01"}}
	_, body, _ := post(t, c, page+"/declare", form)
	for _, want := range []string{
		`<input id="lump_sum_yuan" name="lump_sum_yuan" aria-invalid="true" aria-describedby="lump_sum_yuan-problem problem" autofocus inputmode="decimal" value="5,0000"><p class="field-problem" id="lump_sum_yuan-problem">不是以元计的金额，例如 50000 或 50,000.50</p>`,
		`<input id="term_months" name="term_months" aria-invalid="true" aria-describedby="term_months-problem problem" inputmode="numeric" required value="abc"><p class="field-problem" id="term_months-problem">应为整数</p>`,
		"<li>一次性金额（元）：不是以元计的金额，例如 50000 或 50,000.50</li>", "<li>许可期限（月）：应为整数</li>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("a form with two bad fields lacks %s:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "autofocus"); n != 1 {
		t.Errorf("%d fields have the focus, want 1", n)
	}

	shared := coOwnedPatent(t, f)
	_, html, _ := get(t, c, shared)
	form = url.Values{"csrf": {csrfOf(t, html)}, "mode": {"free"}, "term_months": {"24"}, "declared_on": {"2024-03-01"}, coOwnerConsent: {f.smeID}}
	if status, _, _ := post(t, c, shared+"/declare", form); status != http.StatusSeeOther {
		t.Fatalf("a declaration with the co-owner's consent: %d", status)
	}
	_, html, _ = get(t, c, shared)
	withdraw := url.Values{"csrf": {csrfOf(t, html)}, "declaration_id": {declarationIDOf(t, html)}, "effective_on": {"2024-06-01"}, "reason": {"重新定价"}}
	_, body, _ = post(t, c, shared+"/withdraw?lang=en", withdraw)
	for _, want := range []string{
		`<p class="field-problem" id="co_owner_consent-problem">Every co-owner must consent. Co-owner <span lang="zh-CN">广州星能电池科技有限公司</span> has not consented</p>`,
		`value="` + f.smeID + `" aria-invalid="true" aria-describedby="co_owner_consent-problem problem" autofocus`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("a withdrawal without the co-owner's consent lacks %s:\n%s", want, body)
		}
	}

	css, err := fs.ReadFile(webAssets, "webassets/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	rule := regexp.MustCompile(`(?m)^\[aria-invalid="true"\] \{[^}]*border: 2px solid var\(--bad\)`)
	bad := regexp.MustCompile(`--bad: (#[0-9a-f]{6})`).FindStringSubmatch(string(css))
	bg := regexp.MustCompile(`--bg: (#[0-9a-f]{6})`).FindStringSubmatch(string(css))
	if !rule.Match(css) || bad == nil || bg == nil || contrast(bad[1], bg[1]) < 4.5 {
		t.Errorf("the stylesheet draws no invalid field apart, in a colour of AA contrast (4.5:1) on the page")
	}
}

// TestGetOfAFormsAddressGoesToItsPage: a browser's GET of a form's
// address (a refused form leaves it in the address bar, to be opened in a
// new tab, bookmarked or shared) goes to the patent's page, in the
// address's language; a GET of the sign-out's to /me, or / when signed
// out. It answered 405, a dead end. A program asking for no page still
// gets the 405 problem.
func TestGetOfAFormsAddressGoesToItsPage(t *testing.T) {
	f := newWebFixture(t)
	page := "/patents/" + string(f.number)
	c := browser(t)
	for path, to := range map[string]string{page + "/declare": page, page + "/withdraw?lang=en": page + "?lang=en", "/signout": "/"} {
		if status, _, h := get(t, c, f.url+path); status != http.StatusSeeOther || h.Get("Location") != to || h.Get("Allow") != "" {
			t.Errorf("GET %s: %d to %q, Allow %q; want 303 to %q", path, status, h.Get("Location"), h.Get("Allow"), to)
		}
		if status, _, h := get(t, c, f.url+path, "Accept", "*/*"); status != http.StatusMethodNotAllowed || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s by a program: %d %s, want 405 and problem+json", path, status, h.Get("Content-Type"))
		}
	}
	signIn(t, c, f.url+"/signin", f.uniKey)
	if status, _, h := get(t, c, f.url+"/signout?lang=en"); status != http.StatusSeeOther || h.Get("Location") != "/me?lang=en" {
		t.Errorf("GET /signout signed in: %d to %q, want 303 to /me?lang=en", status, h.Get("Location"))
	}
	if _, me, _ := get(t, c, f.url+"/me"); !strings.Contains(me, "华南理工大学") {
		t.Error("a GET of the sign-out's address signed out")
	}
}

// formKeyOf picks the form's idempotency key out of a page.
func formKeyOf(t *testing.T, html string) string {
	t.Helper()
	return hiddenValue(t, html, formKeyField)
}

// TestFormSentTwiceRecordsOnce: the same rendering of the declaration or
// withdrawal form sent twice, one after the other or at once (a double
// click), records once and answers both times with the first result, the
// redirect to the same "saved" page; it showed the second an error page
// ("已有有效的开放许可声明") for a declaration just recorded. Each page
// writes a fresh key; a form sent again with other values is refused,
// saying so, and records nothing.
func TestFormSentTwiceRecordsOnce(t *testing.T) {
	f := newWebFixture(t)
	c, page, _ := universityOnItsPatent(t, f)
	_, html, _ := get(t, c, page)
	if _, again, _ := get(t, c, page); formKeyOf(t, again) == formKeyOf(t, html) {
		t.Fatal("two renderings of the form have the same key")
	}
	before := f.head(t)
	form := url.Values{"csrf": {csrfOf(t, html)}, formKeyField: {formKeyOf(t, html)}, "mode": {"free"}, "term_months": {"24"}, "declared_on": {"2024-07-01"}}
	locations := make(chan string, 2)
	for range 2 {
		go func() {
			resp, err := c.PostForm(page+"/declare", form)
			if err != nil {
				locations <- err.Error()
				return
			}
			resp.Body.Close()
			locations <- fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("Location"))
		}()
	}
	first, second := <-locations, <-locations
	if !strings.HasPrefix(first, "303 /patents/") || first != second || f.head(t) != before+1 {
		t.Fatalf("the declaration form sent twice at once: %q and %q, head %d→%d; want the same redirect and one record", first, second, before, f.head(t))
	}
	if status, _, h := post(t, c, page+"/declare", form); status != http.StatusSeeOther || "303 "+h.Get("Location") != first || f.head(t) != before+1 {
		t.Fatalf("the declaration form sent a third time: %d to %q, head %d→%d", status, h.Get("Location"), before, f.head(t))
	}

	_, html, _ = get(t, c, page)
	withdraw := url.Values{"csrf": {csrfOf(t, html)}, formKeyField: {formKeyOf(t, html)}, "declaration_id": {declarationIDOf(t, html)},
		"effective_on": {"2024-09-01"}, "reason": {"重新定价"}}
	status, _, h := post(t, c, page+"/withdraw", withdraw)
	again, _, h2 := post(t, c, page+"/withdraw", withdraw)
	if status != http.StatusSeeOther || again != http.StatusSeeOther || h.Get("Location") != h2.Get("Location") || f.head(t) != before+2 {
		t.Fatalf("the withdrawal form sent twice: %d to %q, then %d to %q, head %d→%d", status, h.Get("Location"), again, h2.Get("Location"), before, f.head(t))
	}
	withdraw.Set("reason", "另一理由")
	status, body, _ := post(t, c, page+"/withdraw", withdraw)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "该表单此前已提交并记录，内容与这次不同；这次未记录。") || f.head(t) != before+2 {
		t.Errorf("the withdrawal form sent again with another reason: %d, head %d→%d\n%s", status, before, f.head(t), body)
	}
}

// TestExclusiveLicenceInForceWithholdsTheDeclarationForm: a patentee
// whose patent has a sole or exclusive licence in force today is not
// offered the declaration form, which the ledger would refuse for every
// term starting today (exclusive_license_in_force); the page says why and
// until when, in the page's language. A licence that has ended withholds
// nothing.
func TestExclusiveLicenceInForceWithholdsTheDeclarationForm(t *testing.T) {
	f := newWebFixture(t) // today is 2024-07-01
	ctx, admin := t.Context(), domain.Request{Actor: domain.AdminActor}
	c, page, _ := universityOnItsPatent(t, f)
	form := `action="/patents/` + string(f.number) + `/declare`
	grant := func(from, to string) int64 {
		t.Helper()
		res, err := f.svc.svc.GrantLicense(ctx, admin, f.number, domain.GrantLicense{Type: domain.LicenseExclusive, LicenseeID: f.smeID,
			EffectiveOn: mustDay(from), EndsOn: mustDay(to), FeePaidFen: 100})
		if err != nil {
			t.Fatal(err)
		}
		return res.Position
	}
	grant("2023-01-01", "2023-12-31")
	if _, html, _ := get(t, c, page); !strings.Contains(html, form) {
		t.Fatal("a licence that has ended withholds the declaration form")
	}
	grant("2024-06-28", "2028-06-27")
	for lang, want := range map[string]string{
		"zh": "该专利今日有有效的独占许可（至 2028-06-27）；开放许可声明的期限不能与之重叠，须待其终止后才能声明开放许可（规则代码 exclusive_license_in_force）。",
		"en": "An exclusive licence of this patent is in force today, until 2028-06-27; a declaration&#39;s term may not overlap it, so the patent can be declared open only after it ends (rule exclusive_license_in_force).",
	} {
		_, html, _ := get(t, c, page+"?lang="+lang)
		if strings.Contains(html, form) || !strings.Contains(html, `<p class="notice" role="note">`+want+"</p>") {
			t.Errorf("lang=%s: the declaration form is offered, or the page does not say %q:\n%s", lang, want, html)
		}
	}
	for _, typ := range []domain.LicenseType{domain.LicenseSole, domain.LicenseExclusive} { // the page says each as its own
		if _, ok := messages[langZH]["patent.declare_"+string(typ)]; !ok {
			t.Errorf("no catalogue entry says why a %s licence withholds the form", typ)
		}
	}
}

// TestFieldMessagesSayWhatToType: an empty licence term is said to be
// required (it read "应在 1 到 240 之间"), and a percentage typed as the
// royalty ("3%", in full width too) names the basis points it means (it
// read "应为整数"), in both languages, beside the field.
func TestFieldMessagesSayWhatToType(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	before := f.head(t)
	for _, tc := range []struct {
		field, value, lang, want string
	}{
		{"term_months", "", "zh", `<p class="field-problem" id="term_months-problem">必须填写</p>`},
		{"term_months", " ", "en", "<li>Licence term (months): is required</li>"},
		{"royalty_bp", "3%", "zh", "<li>提成比例（基点，1% = 100）：3% 是百分比；请填写基点数：300</li>"},
		{"royalty_bp", "２.５％", "en", `<p class="field-problem" id="royalty_bp-problem">2.5% is a percentage; type it in basis points: 250</p>`},
		{"royalty_bp", "3.333%", "en", "<li>Royalty (basis points, 1% = 100): must be a whole number</li>"},
	} {
		form := url.Values{"csrf": {token}, "mode": {"royalty"}, "royalty_bp": {"300"}, "royalty_base": {"net_sales"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
		form.Set(tc.field, tc.value)
		if status, body, _ := post(t, c, page+"/declare?lang="+tc.lang, form); status != http.StatusBadRequest || !strings.Contains(body, tc.want) || f.head(t) != before {
			t.Errorf("%s=%q, lang=%s: %d, head %d→%d, want %q in\n%s", tc.field, tc.value, tc.lang, status, before, f.head(t), tc.want, body)
		}
	}
}

// TestPagesHaveAnIcon: every page links an icon of the static files, which
// the content security policy lets load (default-src 'self'); browsers
// asked for /favicon.ico, a 404 on every page.
func TestPagesHaveAnIcon(t *testing.T) {
	f := newWebFixture(t)
	_, html, h := get(t, browser(t), f.url+"/patents/"+string(f.number))
	if !strings.Contains(html, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`) ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("the page links no icon its policy lets load (CSP %q):\n%.600s", h.Get("Content-Security-Policy"), html)
	}
	status, icon, h := get(t, browser(t), f.url+"/static/favicon.svg", "Accept", "image/svg+xml,image/*")
	if status != http.StatusOK || h.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(icon, "<svg") || strings.Contains(icon, "<script") {
		t.Errorf("the icon: %d %s\n%s", status, h.Get("Content-Type"), icon)
	}
}

// TestOneMonthIsSingular: a declaration of a one-month term reads "1
// month" on an English page (it read "1 months").
func TestOneMonthIsSingular(t *testing.T) {
	f := newWebFixture(t)
	if _, err := f.svc.svc.FileDeclaration(t.Context(), domain.Request{Actor: domain.AdminActor}, f.number, domain.FileDeclaration{
		Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 1, DeclaredOn: mustDay("2024-06-15")}); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en": "<dd>1 month</dd>", "zh": "<dd>1 个月</dd>"} {
		if _, html, _ := get(t, browser(t), f.url+"/patents/"+string(f.number)+"?lang="+lang); !strings.Contains(html, want) {
			t.Errorf("lang=%s: a one-month term does not read %q", lang, want)
		}
	}
}

// TestMissingStaticFileIsAPageForABrowser: a static file or folder that is
// not there answers a browser asking for a page with the error page in its
// language (it got problem JSON, or text/plain "404 page not found"), and
// a program or a stylesheet's request the problem document.
func TestMissingStaticFileIsAPageForABrowser(t *testing.T) {
	f := newWebFixture(t)
	for _, path := range []string{"/static/nope.css", "/static/", "/static/../static/nope", "/static/nope.css?lang=en"} {
		status, body, h := get(t, browser(t), f.url+path)
		want := "<strong>未找到</strong>"
		if strings.HasSuffix(path, "lang=en") {
			want = "<strong>Not found</strong>"
		}
		if status != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, want) {
			t.Errorf("GET %s by a browser: %d %s, want 404 and the error page saying %s:\n%s", path, status, h.Get("Content-Type"), want, body)
		}
		if status, _, h := get(t, browser(t), f.url+path, "Accept", "text/css,*/*;q=0.1"); status != http.StatusNotFound || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s for a stylesheet: %d %s, want 404 and problem+json", path, status, h.Get("Content-Type"))
		}
	}
}

// TestTableHeadingsWrap: in a table that scrolls on a narrow screen, the
// cells keep to one line but the headings, words, may wrap, so that a
// table of short values fits its box on a desktop (the English licences
// table ran 20 px past it at 1366 px, its Recordal column cut, as
// "Paid on taking" and "Royalties paid" kept to one line each).
func TestTableHeadingsWrap(t *testing.T) {
	css, err := fs.ReadFile(webAssets, "webassets/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([^{}\n]+)\{([^}]*)\}`).FindAllStringSubmatch(string(css), -1) {
		for _, selector := range strings.Split(m[1], ",") {
			rules[strings.TrimSpace(selector)] += m[2]
		}
	}
	if !strings.Contains(rules[".scroll td"], "white-space: nowrap") || strings.Contains(rules[".scroll th"], "nowrap") ||
		!strings.Contains(rules[".scroll th"], "white-space: normal") {
		t.Errorf("scrolling tables: cells %q, headings %q; want cells on one line and headings that wrap", rules[".scroll td"], rules[".scroll th"])
	}
}
