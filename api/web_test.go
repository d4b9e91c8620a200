package api

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	var zh, en []string
	for k := range messages[langZH] {
		zh = append(zh, k)
	}
	for k := range messages[langEN] {
		en = append(en, k)
	}
	slices.Sort(zh)
	slices.Sort(en)
	if !slices.Equal(zh, en) {
		t.Fatalf("the catalogues differ:\nzh only: %v\nen only: %v", missing(zh, en), missing(en, zh))
	}
	for _, rule := range []domain.Rule{domain.RulePatentNotActive, domain.RuleFeeMismatch, domain.RuleInvalidFeeTerms, domain.RuleDeclarationAlreadyActive} {
		if _, ok := messages[langEN]["rule."+string(rule)]; !ok {
			t.Errorf("no message for rule %s", rule)
		}
	}
	for _, typ := range domain.EventTypes() {
		if _, ok := messages[langZH]["event."+typ]; !ok {
			t.Errorf("no message for event type %s", typ)
		}
	}
}

func missing(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

// webFixture is a served ledger with a university (key known), an SME and
// one registered patent.
type webFixture struct {
	url, uniKey, smeKey string
	uniID, smeID        string
	svc                 *Server
	number              domain.PatentNumber
	store               domain.EventStore
}

func newWebFixture(t *testing.T) *webFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: uuid.NewString,
		Clock: func() time.Time { return time.Date(2024, 7, 1, 2, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Service: svc, Store: st, AdminKey: "adm", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	f := &webFixture{url: ts.URL, svc: srv, store: st}
	admin := domain.Request{Actor: domain.AdminActor}
	org := func(name string, kind domain.OrgKind, body string) (string, string) {
		c, _ := domain.CreditCheckChar(body)
		res, err := svc.RegisterOrg(ctx, admin, domain.RegisterOrg{Name: name, Kind: kind, RegionCode: "440106", CreditCode: domain.CreditCode(body + string(c))})
		if err != nil {
			t.Fatal(err)
		}
		secret := "secret-" + res.ID
		key, err := svc.IssueKey(ctx, admin, res.ID, domain.HashKeySecret(secret))
		if err != nil {
			t.Fatal(err)
		}
		return res.ID, formatKey(res.ID, key.ID, secret)
	}
	uni, uniKey := org("华南理工大学", domain.OrgUniversity, "12440000455416125")
	f.smeID, f.smeKey = org("广州星能电池科技有限公司", domain.OrgEnterprise, "91440101MA5CXXXX1")
	f.uniID, f.uniKey = uni, uniKey
	c, _ := domain.PatentCheckChar("202010123456")
	f.number = domain.PatentNumber("ZL202010123456." + string(c))
	if _, err := svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(f.number), Title: "一种固态锂电池电解质",
		PatenteeIDs: []string{uni}, IPC: []string{"H01M 10/0562"}, FiledOn: mustDay("2020-03-15"), GrantedOn: mustDay("2022-01-10")}); err != nil {
		t.Fatal(err)
	}
	return f
}

func mustDay(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// browser is an HTTP client with cookies that does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Transport: acceptHTML{}, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// acceptHTML sends every request with the Accept header of a browser
// asking for a page, unless the request sets its own.
type acceptHTML struct{}

// withHeader is acceptHTML with one more header on every request, as a
// browser adds Origin or Sec-Fetch-Site.
type withHeader struct{ name, value string }

func (w withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(w.name, w.value)
	return acceptHTML{}.RoundTrip(r)
}

func (acceptHTML) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func get(t *testing.T, c *http.Client, u string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return send(t, c, req)
}

// send sends req with c and returns the answer's status, body and headers.
func send(t *testing.T, c *http.Client, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	return postFrom(t, c, u, form, "", "")
}

// TestFormOfAnotherPatenteeIsForbidden: a signed-in SME posting the
// declaration form of a university's patent with its own session's token
// is told it may not act on the patent (403), not that its form expired,
// which no new try would mend; nothing is written.
func TestFormOfAnotherPatenteeIsForbidden(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	signIn(t, c, f.url+"/signin", f.smeKey)
	page := f.url + "/patents/" + string(f.number)
	_, me, _ := get(t, c, f.url+"/me")
	before := f.head(t)
	form := url.Values{"csrf": {csrfOf(t, me)}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	status, body, _ := post(t, c, page+"/declare", form)
	if status != http.StatusForbidden || strings.Contains(body, "表单已过期") || f.head(t) != before {
		t.Fatalf("an SME's declaration of another's patent: %d, head %d→%d\n%s", status, before, f.head(t), body)
	}
}

// TestSigninNeedsItsFormToken: the sign-in form is refused (403, no
// session) without the token of the page its browser loaded, so another
// site cannot sign a visitor in under a key of its own (login CSRF).
func TestSigninNeedsItsFormToken(t *testing.T) {
	f := newWebFixture(t)
	noSession := func(what string, status int, body string, h http.Header) {
		t.Helper()
		if status != http.StatusForbidden || strings.Contains(h.Get("Set-Cookie"), sessionCookie+"=") ||
			!strings.Contains(body, "表单已过期") {
			t.Errorf("%s: %d, Set-Cookie %q; want 403 with no session", what, status, h.Get("Set-Cookie"))
		}
	}
	attacker := browser(t)
	status, body, h := post(t, attacker, f.url+"/signin", url.Values{"key": {f.smeKey}})
	noSession("no token", status, body, h)
	_, page, _ := get(t, attacker, f.url+"/signin")
	token := signinCSRFOf(t, page)
	victim := browser(t)
	status, body, h = post(t, victim, f.url+"/signin", url.Values{"key": {f.smeKey}, "csrf": {token}})
	noSession("another browser's token", status, body, h)
	get(t, victim, f.url+"/signin")
	status, body, h = post(t, victim, f.url+"/signin", url.Values{"key": {f.smeKey}, "csrf": {token}})
	noSession("a token of another sign-in cookie", status, body, h)
	if status, _, h := signIn(t, victim, f.url+"/signin", f.uniKey); status != http.StatusSeeOther ||
		!strings.Contains(h.Get("Set-Cookie"), sessionCookie+"=") {
		t.Fatalf("the form with its own token: %d, Set-Cookie %q", status, h.Get("Set-Cookie"))
	}
}

// signIn signs in with key through the sign-in form at u as a browser
// does: it loads the form first, for its token.
func signIn(t *testing.T, c *http.Client, u, key string) (int, string, http.Header) {
	t.Helper()
	_, page, _ := get(t, c, u)
	return post(t, c, u, url.Values{"key": {key}, "csrf": {signinCSRFOf(t, page)}})
}

// signinCSRFOf picks the sign-in form's token out of the sign-in page.
func signinCSRFOf(t *testing.T, html string) string {
	t.Helper()
	_, form, ok := strings.Cut(html, `action="/signin`)
	if !ok {
		t.Fatal("no sign-in form on the page")
	}
	return csrfOf(t, form)
}

// csrfOf picks the CSRF token out of a page.
func csrfOf(t *testing.T, html string) string {
	t.Helper()
	return hiddenValue(t, html, "csrf")
}

// hiddenValue picks the value of the first input named name out of a page.
func hiddenValue(t *testing.T, html, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(html, `name="`+name+`" value="`)
	if !ok {
		t.Fatalf("no %s on the page", name)
	}
	value, _, _ := strings.Cut(rest, `"`)
	return value
}

func TestPatentPageLanguages(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	page := f.url + "/patents/" + string(f.number)
	status, zh, _ := get(t, c, page)
	if status != 200 || !strings.Contains(zh, "专利号") || !strings.Contains(zh, "一种固态锂电池电解质") || !strings.Contains(zh, "尚无许可") {
		t.Fatalf("Chinese page: %d\n%s", status, zh)
	}
	_, en, _ := get(t, c, page+"?lang=en")
	if !strings.Contains(en, "Patent number") || !strings.Contains(en, "No licences yet.") || !strings.Contains(en, `lang="en"`) {
		t.Fatalf("English page:\n%s", en)
	}
	for accept, want := range map[string]string{
		"en-GB,en;q=0.9":        "Patent number",
		"en;q=0.5, zh-CN;q=0.9": "专利号",
		"zh;q=0.1, en-US":       "Patent number",
		"fr-FR, fr":             "专利号",
		"":                      "专利号",
	} {
		_, neg, h := get(t, c, page, "Accept-Language", accept)
		if !strings.Contains(neg, want) || h.Get("Vary") != "Accept-Language" {
			t.Errorf("Accept-Language %q: the page has no %q, or Vary is %q", accept, want, h.Get("Vary"))
		}
	}
	if _, _, h := get(t, c, page+"?lang=en", "Accept-Language", "zh"); h.Get("Vary") != "" {
		t.Errorf("a page whose language the query names varies on %q", h.Get("Vary"))
	}
	if strings.Contains(zh, "<script") {
		t.Fatal("pages must work without JavaScript")
	}
	status, missing, _ := get(t, c, f.url+"/patents/ZL202010999999.9")
	if status != http.StatusBadRequest || !strings.Contains(missing, "<title>错误：输入有误 · ") || !strings.Contains(missing, "<h1>输入有误</h1>") {
		t.Fatalf("page of a bad number (the page named by what went wrong): %d\n%s", status, missing)
	}
	c2, _ := domain.PatentCheckChar("209912345678")
	status, missing, _ = get(t, c, f.url+"/patents/ZL209912345678."+string(c2)+"?lang=en")
	if status != http.StatusNotFound || !strings.Contains(missing, "<title>Error: Not found · ") || !strings.Contains(missing, "<h1>Not found</h1>") {
		t.Fatalf("page of an unknown patent (a11y audit F4: titled \"Something went wrong\"): %d\n%s", status, missing)
	}
	status, css, h := get(t, c, f.url+"/static/style.css")
	if status != 200 || !strings.Contains(css, "@media") || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %s", status, h.Get("Content-Type"))
	}
	for _, folder := range []string{"/static/", "/static/./"} { // a folder is not listed
		if status, body, _ := get(t, c, f.url+folder); status != 404 || strings.Contains(body, `href="style.css"`) {
			t.Errorf("GET %s: %d %s", folder, status, body)
		}
	}
}

func TestSignInDeclareAndWithdrawThroughForms(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	if status, body, _ := signIn(t, c, f.url+"/signin", "lk_wrong_key_here"); status != 401 || !strings.Contains(body, "密钥无效") {
		t.Fatalf("bad key: %d", status)
	}
	status, _, h := signIn(t, c, f.url+"/signin", f.uniKey)
	cookie := h.Get("Set-Cookie")
	if status != 303 || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || strings.Contains(cookie, f.uniKey) {
		t.Fatalf("sign-in: %d, cookie %q", status, cookie)
	}
	_, me, _ := get(t, c, f.url+"/me")
	if !strings.Contains(me, "华南理工大学") {
		t.Fatalf("signed-in view:\n%s", me)
	}
	page := f.url + "/patents/" + string(f.number)
	_, html, _ := get(t, c, page)
	token := csrfOf(t, html)
	before := f.head(t)
	form := url.Values{"mode": {"lump_sum"}, "lump_sum_yuan": {"50000"}, "term_months": {"36"}, "declared_on": {"2024-01-02"}}
	if status, _, _ := post(t, c, page+"/declare", form); status != 403 || f.head(t) != before {
		t.Fatalf("a form without the CSRF token: %d, head %d→%d", status, before, f.head(t))
	}
	bad := url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"0"}, "term_months": {"36"}, "declared_on": {"2024-01-02"}}
	status, body, _ := post(t, c, page+"/declare?lang=en", bad)
	if status != 409 || !strings.Contains(body, "The fee terms are incomplete or out of range.") || f.head(t) != before {
		t.Fatalf("a rule violation through the form: %d\n%s", status, body)
	}
	_, zhBody, _ := post(t, c, page+"/declare", bad)
	if !strings.Contains(zhBody, "许可使用费的支付方式或标准不完整或不合理") {
		t.Fatal("the rule error is not shown in Chinese")
	}
	// The field is named as the form labels it, and its problem said in
	// the page's language.
	if want := "一次性金额（元）：付费方式为一次性支付时本项必须填写且大于 0"; !strings.Contains(zhBody, want) {
		t.Errorf("want %q on the Chinese page:\n%s", want, zhBody)
	}
	if want := "Lump sum (yuan): is required for fee mode Lump sum and must be greater than 0"; !strings.Contains(body, want) {
		t.Errorf("want %q on the English page:\n%s", want, body)
	}
	badDate := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"36"}, "declared_on": {"2024-02-30"}}
	if _, zh, _ := post(t, c, page+"/declare", badDate); !strings.Contains(zh, "声明日：日期 &#34;2024-02-30&#34; 不存在：2024 年 2 月只有 29 天") {
		t.Errorf("a date that does not exist, on the Chinese page:\n%s", zh)
	}
	form.Set("csrf", token)
	status, _, h = post(t, c, page+"/declare", form)
	if status != 303 || !strings.Contains(h.Get("Location"), "saved=") || f.head(t) != before+1 {
		t.Fatalf("declaration through the form: %d %q", status, h.Get("Location"))
	}
	_, html, _ = get(t, c, page)
	if !strings.Contains(html, "&lt;your organisation id&gt;") || strings.Contains(html, `\u003c`) || !strings.Contains(html, f.url+"/v1/patents/") {
		t.Fatalf("the copyable example is not readable:\n%s", html)
	}
	if !strings.Contains(html, "一次性支付 ¥50,000.00") || !strings.Contains(html, "撤回声明") {
		t.Fatalf("the declared patent's page:\n%s", html)
	}
	withdraw := url.Values{"csrf": {csrfOf(t, html)}, "declaration_id": {""}, "effective_on": {"2024-06-01"}, "reason": {"重新定价"}}
	if status, body, _ := post(t, c, page+"/withdraw", withdraw); status != 400 || !strings.Contains(body, "必须填写") || f.head(t) != before+1 {
		t.Fatalf("a withdrawal form without its declaration: %d\n%s", status, body)
	}
	withdraw.Set("declaration_id", declarationIDOf(t, html))
	if status, _, _ := post(t, c, page+"/withdraw", withdraw); status != 303 || f.head(t) != before+2 {
		t.Fatalf("withdrawal through the form: %d", status)
	}
	// An SME signed in sees no declaration form on another's patent.
	other := browser(t)
	signIn(t, other, f.url+"/signin", f.smeKey)
	_, smeView, _ := get(t, other, page)
	if strings.Contains(smeView, `action="/patents/`+string(f.number)+`/declare`) {
		t.Fatal("an SME is offered the declaration form")
	}
}

// TestCoOwnedPatentThroughForms: on a patent the university co-owns with
// a company, the declaration and withdrawal forms offer the company's
// consent; without it the form is refused (co_owner_consent_missing) and
// keeps what was typed, with it the declaration and the withdrawal are
// recorded with the company's consent.
func TestCoOwnedPatentThroughForms(t *testing.T) {
	f := newWebFixture(t)
	ctx := context.Background()
	check, _ := domain.PatentCheckChar("202010654321")
	number := domain.PatentNumber("ZL202010654321." + string(check))
	if _, err := f.svc.svc.RegisterPatent(ctx, domain.Request{Actor: domain.AdminActor}, domain.RegisterPatent{
		Number: string(number), Title: "一种钠离子电池正极材料", PatenteeIDs: []string{f.uniID, f.smeID},
		IPC: []string{"H01M 4/36"}, FiledOn: mustDay("2020-05-06"), GrantedOn: mustDay("2022-03-01")}); err != nil {
		t.Fatal(err)
	}
	c := browser(t)
	signIn(t, c, f.url+"/signin", f.uniKey)
	page := f.url + "/patents/" + string(number)
	_, html, _ := get(t, c, page)
	box := `<input type="checkbox" name="co_owner_consent" value="` + f.smeID + `"`
	if !strings.Contains(html, box) || !strings.Contains(html, `<span lang="zh-CN">广州星能电池科技有限公司</span></label>`) ||
		strings.Contains(html, `value="`+f.uniID+`"`) {
		t.Fatalf("the declaration form offers no consent of the co-owner alone:\n%s", html)
	}
	form := url.Values{"csrf": {csrfOf(t, html)}, "mode": {"free"}, "term_months": {"24"}, "declared_on": {"2024-03-01"}}
	status, body, _ := post(t, c, page+"/declare", form)
	if status != 409 || !strings.Contains(body, "共有专利须经全体共有人同意") || !strings.Contains(body, `value="24"`) {
		t.Fatalf("a declaration without the co-owner's consent: %d\n%s", status, body)
	}
	if strings.Contains(body, box+" checked") {
		t.Error("the refused form ticks a consent nobody gave")
	}
	form.Set(coOwnerConsent, f.smeID)
	form.Set("term_months", "x")
	if status, body, _ := post(t, c, page+"/declare", form); status != 400 || !strings.Contains(body, box+" checked") {
		t.Fatalf("a form refused for another field: %d, the consent given kept ticked?\n%s", status, body)
	}
	form.Set("term_months", "24")
	if status, _, _ := post(t, c, page+"/declare", form); status != 303 {
		t.Fatalf("a declaration with the co-owner's consent: %d", status)
	}
	pat, err := f.svc.svc.LoadPatent(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if len(pat.Declarations) != 1 || !slices.Equal(pat.Declarations[0].CoOwnerConsent, []string{f.smeID}) {
		t.Fatalf("the declarations recorded: %+v", pat.Declarations)
	}
	_, html, _ = get(t, c, page)
	withdraw := url.Values{"csrf": {csrfOf(t, html)}, "declaration_id": {declarationIDOf(t, html)},
		"effective_on": {"2024-06-01"}, "reason": {"重新定价"}}
	if status, body, _ := post(t, c, page+"/withdraw", withdraw); status != 409 || !strings.Contains(body, "共有专利须经全体共有人同意") {
		t.Fatalf("a withdrawal without the co-owner's consent: %d", status)
	}
	withdraw.Set(coOwnerConsent, f.smeID)
	if status, _, _ := post(t, c, page+"/withdraw", withdraw); status != 303 {
		t.Fatalf("a withdrawal with the co-owner's consent: %d", status)
	}
	if pat, err = f.svc.svc.LoadPatent(ctx, number); err != nil || pat.Declarations[0].WithdrawnOn != mustDay("2024-06-01") {
		t.Fatalf("the withdrawal recorded: %+v %v", pat.Declarations[0], err)
	}
}

// TestPatentPageExplainsWhyNoDeclarationCanBeFiled: a patentee whose
// patent is suspended or has an annual fee overdue today is not offered a
// declaration form that today's facts would refuse; the page says why, and
// offers the form again once the fee is paid and the suspension lifted. A
// lapsed patent's page says its status ends the patent right.
func TestPatentPageExplainsWhyNoDeclarationCanBeFiled(t *testing.T) {
	f := newWebFixture(t)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	c := browser(t)
	signIn(t, c, f.url+"/signin", f.uniKey)
	page := f.url + "/patents/" + string(f.number)
	form := `action="/patents/` + string(f.number) + `/declare`
	yes, no, lapsed := true, false, domain.StatusLapsed
	for _, tc := range []struct {
		change       domain.ChangeStatus
		status, note string
	}{
		{domain.ChangeStatus{Suspended: &yes}, "有效 (中止)", "该专利今日处于中止状态"},
		{domain.ChangeStatus{AnnualFeeOverdue: &yes}, "有效 (中止) (年费逾期未缴)", "该专利今日有逾期未缴的年费"},
		{domain.ChangeStatus{Suspended: &no}, "有效 (年费逾期未缴)", "该专利今日有逾期未缴的年费"},
		{domain.ChangeStatus{AnnualFeeOverdue: &no}, "有效</dd>", ""},
		{domain.ChangeStatus{Status: &lapsed}, "未缴年费终止</dd>", "该专利的法律状态为“未缴年费终止”，专利权不再有效，不能声明开放许可"},
	} {
		res, err := f.svc.svc.ChangeStatus(ctx, admin, f.number, tc.change)
		if err != nil {
			t.Fatal(err)
		}
		_, html, _ := get(t, c, fmt.Sprintf("%s?min_position=%d", page, res.Position))
		if !strings.Contains(html, "<dd>"+tc.status) {
			t.Errorf("after %+v the status reads otherwise than %q:\n%s", tc.change, tc.status, html)
		}
		if offered := strings.Contains(html, form); offered != (tc.note == "") {
			t.Errorf("after %+v the declaration form is offered: %v", tc.change, offered)
		}
		if tc.note != "" && !strings.Contains(html, tc.note) {
			t.Errorf("after %+v the page does not say %q", tc.change, tc.note)
		}
	}
}

// head returns the position of the fixture's ledger head.
func (f *webFixture) head(t *testing.T) int64 {
	t.Helper()
	h, err := f.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Position
}

func declarationIDOf(t *testing.T, html string) string {
	t.Helper()
	_, rest, ok := strings.Cut(html, `name="declaration_id" value="`)
	if !ok {
		t.Fatal("no declaration id on the page")
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// TestTemplatesUseOnlyCatalogueKeys: every literal key a template
// translates is in both catalogues, so no page shows a raw key.
func TestTemplatesUseOnlyCatalogueKeys(t *testing.T) {
	files, err := fs.Glob(webAssets, "webassets/templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	key := regexp.MustCompile(`\bt "([^"]+)"`)
	for _, f := range files {
		b, err := fs.ReadFile(webAssets, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			for _, lang := range []string{langZH, langEN} {
				if _, ok := messages[lang][m[1]]; !ok {
					t.Errorf("%s uses %q, missing from the %s catalogue", f, m[1], lang)
				}
			}
		}
	}
}

// TestSavedNoticeShowsOnlyAPosition: the notice after a form names the
// ledger position it recorded at, when that event is the patent's; other
// text in ?saved=, and a position of another stream or past the head, is
// not shown as if the ledger said it.
func TestSavedNoticeShowsOnlyAPosition(t *testing.T) {
	f := newWebFixture(t)
	page := f.url + "/patents/" + string(f.number)
	registered := strconv.FormatInt(f.head(t), 10) // the fixture registers the patent last
	past := strconv.FormatInt(f.head(t)+1, 10)
	for saved, want := range map[string]string{registered: `<p class="notice" role="status">已记录，账本位置 ` + registered + `</p>`,
		"1": "", past: "", "请致电 400-000 办理退款": "", "-3": "", "<b>1</b>": ""} {
		status, html, _ := get(t, browser(t), page+"?saved="+url.QueryEscape(saved))
		notice := regexp.MustCompile(`<p class="notice"[^>]*>[^<]*</p>`).FindString(html)
		if status != 200 || notice != want {
			t.Errorf("saved=%q: %d, notice %q, want %q", saved, status, notice, want)
		}
	}
}

// TestFailedFormKeepsLinksToPages: the page shown again after a failed
// form has its language switch pointing at the patent page, which a GET
// can open, not at the form's POST-only address.
func TestFailedFormKeepsLinksToPages(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	form := url.Values{"csrf": {token}, "mode": {"bogus"}, "term_months": {"36"}, "declared_on": {"2024-01-02"}}
	for _, lang := range []string{"", "?lang=en"} {
		status, body, _ := post(t, c, page+"/declare"+lang, form)
		link := regexp.MustCompile(`<a href="([^"]*)" lang=`).FindStringSubmatch(body)
		if status != 400 || link == nil {
			t.Fatalf("failed form%s: %d, switch link %v", lang, status, link)
		}
		switchTo := strings.ReplaceAll(link[1], "&amp;", "&")
		if status, _, _ := get(t, c, f.url+switchTo); status != 200 || !strings.HasPrefix(switchTo, "/patents/"+string(f.number)+"?") {
			t.Errorf("failed form%s: the language switch %q answers %d", lang, switchTo, status)
		}
	}
}

// TestWebErrorsOutsideHandlersArePages: an unknown page, a GET of a form's
// address with no page to go to and a form over the body limit answer a
// page in the visitor's language with the status, not the API's JSON
// problem; the API's own paths keep answering problem+json.
func TestWebErrorsOutsideHandlersArePages(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	page := f.url + "/patents/" + string(f.number)
	for _, tc := range []struct {
		path       string
		status     int
		title      string
		htmlAnswer bool
	}{
		{"/no-such-page?lang=en", 404, "Not found", true},
		{"/no-such-page", 404, "未找到", true},
		{"/patents/ZL0/declare?lang=en", 405, "Method not allowed", true},
		{"/v1/no-such-route", 404, "", false},
	} {
		status, body, h := get(t, c, f.url+tc.path)
		if tc.htmlAnswer { // a program that does not ask for HTML gets the problem document
			status, _, h := get(t, c, f.url+tc.path, "Accept", "*/*")
			if status != tc.status || h.Get("Content-Type") != "application/problem+json" {
				t.Errorf("GET %s as a program: %d %s, want %d and problem+json", tc.path, status, h.Get("Content-Type"), tc.status)
			}
		}
		html := strings.HasPrefix(h.Get("Content-Type"), "text/html")
		if status != tc.status || html != tc.htmlAnswer || !strings.Contains(body, "<strong>"+tc.title+"</strong>") && html {
			t.Errorf("GET %s: %d %s, want %d and a page: %v\n%s", tc.path, status, h.Get("Content-Type"), tc.status, tc.htmlAnswer, body)
		}
	}
	signIn(t, c, f.url+"/signin", f.uniKey)
	_, html, _ := get(t, c, page)
	form := url.Values{"csrf": {csrfOf(t, html)}, "mode": {"free"}, "term_months": {"36"}, "declared_on": {"2024-01-02"},
		"other_terms": {strings.Repeat("条件", 1<<19)}}
	status, body, h := post(t, c, page+"/declare", form)
	if status != 413 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "<strong>提交内容过大</strong>") {
		t.Errorf("an overlong form: %d %s\n%.2000s", status, h.Get("Content-Type"), body)
	}
}

// TestSignOutKeepsTheLanguage: signing out of an English page lands on the
// English search page.
func TestSignOutKeepsTheLanguage(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	signIn(t, c, f.url+"/signin?lang=en", f.uniKey)
	_, me, _ := get(t, c, f.url+"/me?lang=en")
	action := regexp.MustCompile(`<form method="post" action="([^"]*)" class="inline">`).FindStringSubmatch(me)
	if action == nil {
		t.Fatalf("no sign-out form:\n%s", me)
	}
	status, _, h := post(t, c, f.url+strings.ReplaceAll(action[1], "&amp;", "&"), url.Values{"csrf": {csrfOf(t, me)}})
	if status != 303 || h.Get("Location") != "/?lang=en" {
		t.Fatalf("sign-out from an English page: %d to %q", status, h.Get("Location"))
	}
	if _, after, _ := get(t, c, f.url+"/me?lang=en"); strings.Contains(after, "Sign out") {
		t.Fatal("still signed in")
	}
}

// TestWebQueryParametersAreDocumented: every query parameter a page
// reads is a parameter of its operation in the OpenAPI document.
func TestWebQueryParametersAreDocumented(t *testing.T) {
	doc := oasLoad(t)
	for key, names := range map[string][]string{
		"GET /patents/{number}": {"saved", "history_after", "lang"},
		"GET /dashboard":        {"period", "from", "to", "campaign", "lang"},
		"GET /signin":           {"next", "kept", "lang"},
	} {
		op := oasOperations(doc)[key]
		if op == nil {
			t.Fatalf("%s is not documented", key)
		}
		for _, name := range names {
			if op.Parameters.GetByInAndName("query", name) == nil {
				t.Errorf("%s: query parameter %s is not documented", key, name)
			}
		}
	}
}

// TestSignOutEndsTheSession: a copy of the session cookie taken before the
// sign-out can neither see the signed-in page nor post a form afterwards;
// a session older than its lifetime is refused too, by the server: the
// cookie is a session cookie, which the browser drops when it closes (it
// was kept for 12 hours, through a restart of the browser of a shared
// computer, although the sign-in page said it was a session cookie).
func TestSignOutEndsTheSession(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	_, _, h := signIn(t, c, f.url+"/signin", f.uniKey)
	if cookie := h.Get("Set-Cookie"); !strings.HasPrefix(cookie, sessionCookie+"=") || strings.Contains(cookie, "Max-Age") ||
		strings.Contains(cookie, "Expires") {
		t.Errorf("the session cookie outlives the browser: %q", cookie)
	}
	base, _ := url.Parse(f.url)
	thief := browser(t)
	thief.Jar.SetCookies(base, c.Jar.Cookies(base))
	_, me, _ := get(t, c, f.url+"/me")
	token := csrfOf(t, me)
	if status, _, _ := post(t, c, f.url+"/signout", url.Values{"csrf": {token}}); status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", status)
	}
	if _, me, _ := get(t, thief, f.url+"/me"); strings.Contains(me, "华南理工大学") {
		t.Fatal("the cookie copied before the sign-out still shows the organisation's page")
	}
	before := f.head(t)
	form := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	if status, _, _ := post(t, thief, f.url+"/patents/"+string(f.number)+"/declare", form); status != http.StatusSeeOther || f.head(t) != before {
		t.Fatalf("the cookie copied before the sign-out posted a form: %d, head %d→%d", status, before, f.head(t))
	}

	old := session{id: "old", started: time.Now().Add(-sessionLifetime - time.Minute), key: f.uniKey}
	stale := browser(t)
	stale.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: f.svc.sessions.seal(sealedSession, old.plain()), Path: "/"}})
	if _, me, _ := get(t, stale, f.url+"/me"); strings.Contains(me, "华南理工大学") {
		t.Fatal("a session older than its lifetime is still signed in")
	}
	old.started = time.Now()
	stale.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: f.svc.sessions.seal(sealedSession, old.plain()), Path: "/"}})
	if _, me, _ := get(t, stale, f.url+"/me"); !strings.Contains(me, "华南理工大学") {
		t.Fatal("the same session within its lifetime is not signed in: the test proves nothing")
	}
}

// TestChineseChosenAgainstAnEnglishBrowserSticks: a browser that asks for
// English and picks 中文 keeps Chinese on the next page: the page's links,
// forms and sign-in redirect carry lang=zh; a browser that asks for
// Chinese gets links without it.
func TestChineseChosenAgainstAnEnglishBrowserSticks(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	_, page, _ := get(t, c, f.url+"/?lang=zh", "Accept-Language", "en")
	for _, want := range []string{`<a href="/dashboard?lang=zh">`, `<a href="/signin?lang=zh">`, `<input type="hidden" name="lang" value="zh">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the Chinese page for an English browser lacks %s", want)
		}
	}
	_, signin, _ := get(t, c, f.url+"/signin?lang=zh", "Accept-Language", "en")
	resp, err := c.PostForm(f.url+"/signin?lang=zh", url.Values{"key": {f.uniKey}, "csrf": {signinCSRFOf(t, signin)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Location"); got != "/me?lang=zh" {
		t.Errorf("signed in from the Chinese page, sent to %q", got)
	}
	_, zh, _ := get(t, browser(t), f.url+"/", "Accept-Language", "zh-CN")
	if strings.Contains(zh, "lang=zh") || !strings.Contains(zh, `<a href="/dashboard">`) {
		t.Error("a Chinese browser's page carries lang=zh, which it does not need")
	}
}

// TestDeclarationToComeIsShownAndWithdrawable: a declaration filed through
// the form to take effect after today is shown on the patent's page as
// filed and not yet in effect, the declaration form is not offered again,
// and the withdrawal form withdraws it on the day it would take effect.
func TestDeclarationToComeIsShownAndWithdrawable(t *testing.T) {
	f := newWebFixture(t) // today is 2024-07-01
	c, page, token := universityOnItsPatent(t, f)
	form := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-09-01"}}
	if status, _, _ := post(t, c, page+"/declare", form); status != http.StatusSeeOther {
		t.Fatalf("declaring from 2024-09-01: %d", status)
	}
	_, html, _ := get(t, c, page)
	if !strings.Contains(html, "尚未生效；生效日： 2024-09-01") || strings.Contains(html, `id="declare-h"`) ||
		!strings.Contains(html, `id="withdraw-h"`) || !strings.Contains(html, `name="effective_on" type="date" required value="2024-09-01"`) {
		t.Fatalf("the page of a declaration to come:\n%s", html)
	}
	withdraw := url.Values{"csrf": {csrfOf(t, html)}, "declaration_id": {declarationIDOf(t, html)}, "effective_on": {"2024-09-01"}, "reason": {"改期"}}
	if status, body, _ := post(t, c, page+"/withdraw", withdraw); status != http.StatusSeeOther {
		t.Fatalf("withdrawing the declaration to come: %d\n%s", status, body)
	}
	_, html, _ = get(t, c, page)
	if strings.Contains(html, "尚未生效") || !strings.Contains(html, `id="declare-h"`) {
		t.Fatalf("after the withdrawal the page still shows the declaration to come, or offers no new one:\n%s", html)
	}
}

// TestDeclarationFormTakesYuan: the declaration form asks for amounts in
// yuan, as people count them, to the fen and in full-width digits too; an
// amount finer than a fen is refused naming the field in the page's
// language, and records nothing.
func TestDeclarationFormTakesYuan(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	before := f.head(t)
	bad := url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"50000.505"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	for lang, want := range map[string]string{"zh": "一次性金额（元）：小数超过两位；最小金额为一分（0.01 元）",
		"en": "Lump sum (yuan): has more than two decimals; the smallest amount is one fen (0.01 yuan)"} {
		status, body, _ := post(t, c, page+"/declare?lang="+lang, bad)
		if status != http.StatusBadRequest || !strings.Contains(body, want) || f.head(t) != before {
			t.Fatalf("lang=%s: an amount finer than a fen: %d, head %d→%d, want %q in\n%s", lang, status, before, f.head(t), want, body)
		}
	}
	form := url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"￥５０，０００．５"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	if status, body, _ := post(t, c, page+"/declare", form); status != http.StatusSeeOther {
		t.Fatalf("a lump sum in full-width yuan: %d\n%s", status, body)
	}
	if _, html, _ := get(t, c, page+"?lang=en"); !strings.Contains(html, `<dd class="fee">Lump sum ¥50,000.50</dd>`) {
		t.Fatalf("the declared lump sum is not ¥50,000.50:\n%s", html)
	}
}

// TestHistoryInBeijingTime: a patent's page gives the time each event was
// recorded in Beijing time, as a valid HTML datetime with its offset; an
// event recorded at 2024-07-01 02:00 UTC shows as 10:00 that day.
func TestHistoryInBeijingTime(t *testing.T) {
	f := newWebFixture(t) // the clock reads 2024-07-01 02:00 UTC
	_, html, _ := get(t, browser(t), f.url+"/patents/"+string(f.number))
	want := `<time datetime="2024-07-01T10:00:00&#43;08:00">2024-07-01 10:00</time>` // + as HTML escapes it
	if !strings.Contains(html, want) || !strings.Contains(html, "北京时间") {
		t.Fatalf("the history does not show %s under a heading saying Beijing time:\n%s", want, html)
	}
}

// TestPatentPageOfADesignAndFreeText: a design's page gives its Locarno
// class under that label, not under IPC, which it has none of; an
// abstract written in several lines keeps them (class text: pre-line).
func TestPatentPageOfADesignAndFreeText(t *testing.T) {
	f := newWebFixture(t)
	c, _ := domain.PatentCheckChar("201930123456")
	design := "ZL201930123456." + string(c)
	_, err := f.svc.svc.RegisterPatent(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.RegisterPatent{
		Number: design, Title: "茶杯", Abstract: "第一行\n第二行", PatenteeIDs: []string{f.uniID}, Locarno: "07-01",
		FiledOn: mustDay("2019-03-15"), GrantedOn: mustDay("2020-01-10")})
	if err != nil {
		t.Fatal(err)
	}
	_, html, _ := get(t, browser(t), f.url+"/patents/"+design)
	if !strings.Contains(html, "<dt>洛迦诺分类号</dt><dd>07-01</dd>") || strings.Contains(html, "IPC分类号") ||
		!strings.Contains(html, "<p class=\"text\" lang=\"zh-CN\">第一行\n第二行</p>") {
		t.Fatalf("the design's page:\n%s", html)
	}
}

// TestPageWarnsOfAFeeAboveGuidance: a declaration through the form of a
// lump sum above the guidance ceiling (¥25,000,000, where a slip of a zero
// is easy) is accepted, and the patent's page the form leads back to says
// the fee is above the ceiling, in the page's language.
func TestPageWarnsOfAFeeAboveGuidance(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	form := url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"25000000"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	if status, _, _ := post(t, c, page+"/declare", form); status != http.StatusSeeOther {
		t.Fatalf("a lump sum above the guidance: %d", status)
	}
	for lang, want := range map[string]string{"zh": "固定费用 ¥25,000,000.00 高于指导上限 ¥20,000,000.00，请核对金额",
		"en": "the fixed fee of ¥25,000,000.00 is above the guidance ceiling of ¥20,000,000.00; check the amount"} {
		if _, html, _ := get(t, c, page+"?lang="+lang); !strings.Contains(html, `<dd class="warning">`+want+"</dd>") {
			t.Errorf("lang=%s: the page does not warn %q", lang, want)
		}
	}
}

// universityOnItsPatent signs the fixture's university in and opens its
// patent's page: the browser, the page's address and the page's form token.
func universityOnItsPatent(t *testing.T, f *webFixture) (c *http.Client, page, token string) {
	t.Helper()
	c = browser(t)
	signIn(t, c, f.url+"/signin", f.uniKey)
	page = f.url + "/patents/" + string(f.number)
	_, html, _ := get(t, c, page)
	return c, page, csrfOf(t, html)
}

// TestPagesAreNotKeptBySharedCaches: a page shows who is signed in, and a
// patent page's API example names the host the request gave, so no page
// may be kept by a shared cache for another visitor.
func TestPagesAreNotKeptBySharedCaches(t *testing.T) {
	f := newWebFixture(t)
	for _, path := range []string{"/", "/patents/" + string(f.number), "/dashboard", "/signin", "/patents/ZL000000000000.0"} {
		_, _, h := get(t, browser(t), f.url+path)
		if got := h.Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("%s: Cache-Control %q, want private, no-cache", path, got)
		}
	}
}

// TestWithdrawalToComeIsShownAndNotOfferedAgain: a declaration in effect
// whose withdrawal is recorded to take effect after today shows the day
// the withdrawal takes effect and its reason (and, as every declaration,
// its evaluation report's reference), and its patentee is not offered the
// withdrawal form again, which the ledger would refuse
// (no_active_declaration).
func TestWithdrawalToComeIsShownAndNotOfferedAgain(t *testing.T) {
	f := newWebFixture(t) // today is 2024-07-01
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	decl, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 36, DeclaredOn: mustDay("2024-01-02"), EvaluationReportRef: "PJ2024-0001"})
	if err != nil {
		t.Fatal(err)
	}
	c, page, _ := universityOnItsPatent(t, f)
	if _, html, _ := get(t, c, page); !strings.Contains(html, `id="withdraw-h"`) || strings.Contains(html, `class="withdrawn"`) ||
		!strings.Contains(html, "<dt>专利权评价报告编号</dt><dd>PJ2024-0001</dd>") {
		t.Fatalf("before the withdrawal the form is not offered, or a withdrawal is shown:\n%s", html)
	}
	if _, err := f.svc.svc.WithdrawDeclaration(ctx, admin, f.number, domain.WithdrawDeclaration{DeclarationID: decl.ID,
		EffectiveOn: mustDay("2024-09-01"), Reason: "重新定价"}); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"zh": `<dt>撤回生效</dt><dd class="withdrawn">2024-09-01</dd>
  <dt>撤回理由</dt><dd class="text" lang="zh-CN">重新定价</dd>`,
		"en": `<dt>Withdrawn from</dt><dd class="withdrawn">2024-09-01</dd>
  <dt>Reason for withdrawal</dt><dd class="text" lang="zh-CN">重新定价</dd>`} {
		_, html, _ := get(t, c, page+"?lang="+lang)
		if !strings.Contains(html, want) || !strings.Contains(html, `<dd>2027-01-01</dd>`) {
			t.Errorf("lang=%s: the page does not show %q beside the term's end:\n%s", lang, want, html)
		}
		if strings.Contains(html, `id="withdraw-h"`) {
			t.Errorf("lang=%s: the withdrawal form is offered for a declaration already withdrawn", lang)
		}
	}
}

// TestComingDeclarationWithAWithdrawalStaysOnItsPage: a declaration still
// to come whose withdrawal is recorded vanished from its patent's page,
// which then said there was none and offered a declaration the ledger
// refused, naming it. It is shown as coming, with the day its withdrawal
// takes effect and no withdrawal form; one withdrawn from its own first
// day, which never takes effect, among the ended ones.
func TestComingDeclarationWithAWithdrawalStaysOnItsPage(t *testing.T) {
	f := newWebFixture(t) // today is 2024-07-01
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	decl, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 12, DeclaredOn: mustDay("2024-09-01")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.svc.WithdrawDeclaration(ctx, admin, f.number, domain.WithdrawDeclaration{DeclarationID: decl.ID,
		EffectiveOn: mustDay("2024-11-01"), Reason: "改为协商许可"}); err != nil {
		t.Fatal(err)
	}
	c, page, _ := universityOnItsPatent(t, f)
	_, html, _ := get(t, c, page+"?lang=en")
	for _, want := range []string{"it takes effect on 2024-09-01", `<dd class="withdrawn">2024-11-01</dd>`} {
		if !strings.Contains(html, want) {
			t.Errorf("the coming declaration: no %q in\n%s", want, html)
		}
	}
	if strings.Contains(html, `id="withdraw-h"`) || strings.Contains(html, `id="declare-h"`) || strings.Contains(html, "no open-licence declaration in effect") {
		t.Errorf("the page offers a form the ledger refuses, or says there is no declaration:\n%s", html)
	}

	c2, _ := domain.PatentCheckChar("202010654321")
	other := domain.PatentNumber("ZL202010654321." + string(c2))
	if _, err := f.svc.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(other), Title: "一种电池隔膜",
		PatenteeIDs: []string{f.uniID}, IPC: []string{"H01M 50/40"}, FiledOn: mustDay("2020-03-15"), GrantedOn: mustDay("2022-01-10")}); err != nil {
		t.Fatal(err)
	}
	never, err := f.svc.svc.FileDeclaration(ctx, admin, other, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 12, DeclaredOn: mustDay("2024-09-01")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.svc.WithdrawDeclaration(ctx, admin, other, domain.WithdrawDeclaration{DeclarationID: never.ID,
		EffectiveOn: mustDay("2024-09-01"), Reason: "撤回"}); err != nil {
		t.Fatal(err)
	}
	_, html, _ = get(t, c, f.url+"/patents/"+string(other)+"?lang=en")
	if !strings.Contains(html, "<td>2024-09-01</td><td>2025-08-31</td><td>2024-09-01</td>") {
		t.Errorf("the declaration withdrawn from its first day is not among the ended ones:\n%s", html)
	}
	if _, err := f.svc.svc.FileDeclaration(ctx, admin, other, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 12, DeclaredOn: mustDay("2024-07-01")}); !strings.Contains(html, `id="declare-h"`) || err != nil {
		t.Errorf("the declaration form the page offers beside one that never takes effect: the ledger answers %v", err)
	}
}

// TestLicencesShowRoyaltiesPaid: the licences table gives, beside the fee
// paid on taking the licence, the royalties paid since, in yuan to the fen.
func TestLicencesShowRoyaltiesPaid(t *testing.T) {
	f := newWebFixture(t)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	decl, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty,
		EntryFeeFen: 5_000_000, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales}, TermMonths: 36, DeclaredOn: mustDay("2024-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	lic, err := f.svc.svc.GrantLicense(ctx, admin, f.number, domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: f.smeID,
		EffectiveOn: mustDay("2024-03-01"), FeePaidFen: 5_000_000, DeclarationID: decl.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, paid := range []string{"2024-04-01", "2024-06-01"} {
		if _, err := f.svc.svc.PayRoyalty(ctx, admin, domain.PayRoyalty{LicenseID: lic.ID, PaidOn: mustDay(paid), AmountFen: 123_456}); err != nil {
			t.Fatal(err)
		}
	}
	for lang, head := range map[string]string{"zh": `<th scope="col">许可时付费</th><th scope="col">已付提成</th>`,
		"en": `<th scope="col">Paid on taking</th><th scope="col">Royalties paid</th>`} {
		_, html, _ := get(t, browser(t), f.url+"/patents/"+string(f.number)+"?lang="+lang)
		if !strings.Contains(html, head) || !strings.Contains(html, `<td>¥50,000.00</td><td>¥2,469.12</td>`) {
			t.Errorf("lang=%s: the licence's fee and royalties are not ¥50,000.00 and ¥2,469.12 under %s:\n%s", lang, head, html)
		}
	}
}

// TestPledgeWithoutConsentRefusesTheDeclarationForm: a patentee whose
// patent is pledged without the pledgee's consent is not offered the
// declaration form, which the ledger would refuse
// (pledged_without_consent); the page says the patent is pledged without
// consent, and the pledges table whether the pledgee consented. Once it
// consents the form is offered again.
func TestPledgeWithoutConsentRefusesTheDeclarationForm(t *testing.T) {
	f := newWebFixture(t) // today is 2024-07-01
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	check, _ := domain.CreditCheckChar("91440101MA5CXXXX2")
	bank, err := f.svc.svc.RegisterOrg(ctx, admin, domain.RegisterOrg{Name: "广州银行", Kind: domain.OrgBank, RegionCode: "440106",
		CreditCode: domain.CreditCode("91440101MA5CXXXX2" + string(check))})
	if err != nil {
		t.Fatal(err)
	}
	pledge, err := f.svc.svc.RegisterPledge(ctx, admin, domain.RegisterPledge{PledgorID: f.uniID, PledgeeID: bank.ID,
		Patents: []string{string(f.number)}, SecuredAmountFen: 100_000_000, RegisteredOn: mustDay("2024-06-01"), DebtDueOn: mustDay("2025-06-01")})
	if err != nil {
		t.Fatal(err)
	}
	c, page, _ := universityOnItsPatent(t, f)
	form := `action="/patents/` + string(f.number) + `/declare`
	for lang, want := range map[string][]string{
		"zh": {"该专利今日已质押且质权人未同意开放许可", "该专利已质押，质权人尚未同意许可", "<td>未同意</td>"},
		"en": {"This patent is pledged today and the pledgee has not consented to open licensing", "Pledged, and the pledgee has not consented", "<td>not consented</td>"},
	} {
		_, html, _ := get(t, c, page+"?lang="+lang)
		if strings.Contains(html, form) {
			t.Errorf("lang=%s: the declaration form is offered on a patent pledged without consent", lang)
		}
		for _, w := range want {
			if !strings.Contains(html, w) {
				t.Errorf("lang=%s: the page does not say %q:\n%s", lang, w, html)
			}
		}
	}
	res, err := f.svc.svc.ConsentPledge(ctx, admin, domain.ConsentPledge{PledgeID: pledge.ID, ConsentedOn: mustDay("2024-06-15")})
	if err != nil {
		t.Fatal(err)
	}
	_, html, _ := get(t, c, fmt.Sprintf("%s?min_position=%d", page, res.Position))
	if !strings.Contains(html, form) || strings.Contains(html, "质权人未同意") || !strings.Contains(html, "<td>已同意 2024-06-15</td>") {
		t.Errorf("once the pledgee consented the form is not offered, or the page still says it has not:\n%s", html)
	}
}

// TestFailedFormIsAccessible: a form refused for a field marks that field
// invalid and described by the problem, and the page's title says the
// form failed; a rule a field's value breaks marks that field. The focus
// outline stands out (3:1) against the page and the header.
func TestFailedFormIsAccessible(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	marked := ` aria-invalid="true"`
	for lang, tc := range map[string]struct {
		form  url.Values
		title string
		field string
	}{
		"zh": {url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"0.001"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}},
			"<title>错误：一种固态锂电池电解质 · ", `id="lump_sum_yuan" name="lump_sum_yuan"` + marked + ` aria-describedby="lump_sum_yuan-problem problem"`},
		"en": {url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}, "other_terms": {"best"}},
			"<title>Error: 一种固态锂电池电解质 · ", `id="other_terms" name="other_terms"` + marked + ` aria-describedby="other_terms-problem problem"`},
	} {
		_, body, _ := post(t, c, page+"/declare?lang="+lang, tc.form)
		if !strings.Contains(body, tc.title) || !strings.Contains(body, tc.field) || strings.Count(body, marked) != 1 || !strings.Contains(body, `role="alert" id="problem"`) {
			t.Errorf("lang=%s: want %q, the one field %q and the problem's id in\n%s", lang, tc.title, tc.field, body)
		}
	}
	if _, body, _ := get(t, c, page); strings.Contains(body, "aria-invalid") || strings.Contains(body, "<title>错误") {
		t.Error("the page before any form is sent marks a field invalid or says it failed")
	}
	css, err := fs.ReadFile(webAssets, "webassets/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	colour := func(name string) string {
		m := regexp.MustCompile(`--` + name + `: (#[0-9a-f]{6})`).FindStringSubmatch(string(css))
		if m == nil {
			t.Fatalf("no --%s in the stylesheet", name)
		}
		return m[1]
	}
	if !strings.Contains(string(css), "outline: 3px solid var(--focus)") {
		t.Fatal("the focus outline is not --focus")
	}
	for _, bg := range []string{"bg", "soft"} {
		if ratio := contrast(colour("focus"), colour(bg)); ratio < 3 {
			t.Errorf("the focus outline %s has %.2f:1 against --%s %s; want 3:1", colour("focus"), ratio, bg, colour(bg))
		}
	}
}

// contrast is the WCAG contrast ratio of two colours #rrggbb.
func contrast(a, b string) float64 {
	lum := func(hex string) float64 {
		var rgb [3]float64
		for i := range rgb {
			v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
			c := float64(v) / 255
			if c <= 0.03928 {
				rgb[i] = c / 12.92
			} else {
				rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
	}
	x, y := lum(a), lum(b)
	return (max(x, y) + 0.05) / (min(x, y) + 0.05)
}

// TestFormTakesFullWidthWholeNumbers: a whole number typed in full-width
// mode (term_months=１２) is read as the amounts in yuan are.
func TestFormTakesFullWidthWholeNumbers(t *testing.T) {
	f := newWebFixture(t)
	c, page, token := universityOnItsPatent(t, f)
	form := url.Values{"csrf": {token}, "mode": {"instalment"}, "instalment_yuan": {"1000"}, "instalments": {"３"},
		"term_months": {"１２"}, "declared_on": {"2024-06-01"}}
	if status, body, _ := post(t, c, page+"/declare", form); status != http.StatusSeeOther {
		t.Fatalf("whole numbers in full width: %d\n%s", status, body)
	}
	pat, err := f.svc.svc.LoadPatent(context.Background(), f.number)
	if err != nil || len(pat.Declarations) != 1 || pat.Declarations[0].TermMonths != 12 || pat.Declarations[0].Fee.Instalments != 3 {
		t.Fatalf("the declaration recorded: %+v %v", pat.Declarations, err)
	}
}

// TestAdminKeyCannotSignIn: the admin key, which works in the API, is
// refused at the sign-in page with a message saying it is for the API, not
// that it is invalid.
func TestAdminKeyCannotSignIn(t *testing.T) {
	f := newWebFixture(t)
	for lang, want := range map[string]string{"zh": "管理员密钥不能登录网页，它只用于 API", "en": "The admin key cannot sign in to the pages: it is for the API."} {
		status, body, h := signIn(t, browser(t), f.url+"/signin?lang="+lang, "adm")
		if status != http.StatusUnauthorized || !strings.Contains(body, want) || strings.Contains(body, "密钥无效") || strings.Contains(h.Get("Set-Cookie"), sessionCookie+"=") {
			t.Errorf("lang=%s: the admin key: %d, want %q and no session in\n%s", lang, status, want, body)
		}
	}
}

// TestPatentPageListsTheLatestLicences: an openly licensed patent may
// have thousands of licences, which every page of its history repeated;
// the page lists the latest webLicenceRows, says how many there are in
// all and where to read every one.
func TestPatentPageListsTheLatestLicences(t *testing.T) {
	f := newWebFixture(t)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	first := mustDay("2023-01-01")
	for i := range webLicenceRows + 1 {
		if _, err := f.svc.svc.GrantLicense(ctx, admin, f.number, domain.GrantLicense{Type: domain.LicenseOrdinary, LicenseeID: f.smeID,
			EffectiveOn: first.AddDays(i), EndsOn: mustDay("2023-12-31"), FeePaidFen: 100}); err != nil {
			t.Fatal(err)
		}
	}
	_, html, _ := get(t, browser(t), f.url+"/patents/"+string(f.number)+"?lang=en")
	cut := fmt.Sprintf("The %d latest concluded are listed, of %d; GET /v1/patents/%s lists them all.", webLicenceRows, webLicenceRows+1, f.number)
	rows := strings.Count(html, "<td>2023-12-31</td>")
	if !strings.Contains(html, fmt.Sprintf("Licences concluded (%d)", webLicenceRows+1)) || !strings.Contains(html, cut) ||
		rows != webLicenceRows || strings.Contains(html, "<td>2023-01-01</td>") ||
		!strings.Contains(html, "<td>"+first.AddDays(webLicenceRows).String()+"</td>") {
		t.Errorf("%d licences: %d rows listed, want the %d latest, the count and %q:\n%s", webLicenceRows+1, rows, webLicenceRows, cut, html)
	}
}

// TestMePageSaysHowManyInAll: an organisation's page lists at most
// projections.MaxPortfolioRows patents and licences each; its headings
// count all of them (they counted the rows listed, 500 for a university
// with thousands), and a note says the list is cut.
func TestMePageSaysHowManyInAll(t *testing.T) {
	h := oasNewHarness(t, nil)
	svc := h.server.svc
	uni := h.org("华南理工大学", "university", "440106", "12440000455416125", false)
	sme := h.org("广州星能电池科技有限公司", "enterprise", "440113", "91440101MA5CXXXX1", true)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	const n = projections.MaxPortfolioRows + 1
	var licensed domain.PatentNumber
	for i := range n {
		body := fmt.Sprintf("2021101%05d", i)
		c, _ := domain.PatentCheckChar(body)
		number := domain.PatentNumber("ZL" + body + "." + string(c))
		if _, err := svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(number), Title: "一种电池",
			PatenteeIDs: []string{uni.id}, IPC: []string{"H01M 10/0562"}, FiledOn: mustDay("2021-03-15"), GrantedOn: mustDay("2022-01-10")}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			licensed = number
		}
		if _, err := svc.GrantLicense(ctx, admin, licensed, domain.GrantLicense{Type: domain.LicenseOrdinary, LicenseeID: sme.id,
			EffectiveOn: mustDay("2023-01-01").AddDays(i), EndsOn: mustDay("2025-12-31"), FeePaidFen: 100}); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string][]string{
		uni.key: {fmt.Sprintf("Our patents (%d)", n), fmt.Sprintf("The first %d by number are listed, of %d.", n-1, n)},
		sme.key: {fmt.Sprintf("Licences we have taken (%d)", n), fmt.Sprintf("The %d with the latest effective dates are listed, of %d.", n-1, n)},
	} {
		c := browser(t)
		signIn(t, c, h.http.URL+"/signin?lang=en", key)
		var me string
		deadline := time.Now().Add(20 * time.Second) // the read models catch up
		for !strings.Contains(me, want[0]) && time.Now().Before(deadline) {
			_, me, _ = get(t, c, h.http.URL+"/me?lang=en")
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(me, want[0]) || !strings.Contains(me, want[1]) || strings.Count(me, "<tr><td><a href=\"/patents/") != n-1 {
			t.Errorf("want %q and %q, and %d rows:\n%s", want[0], want[1], n-1, me)
		}
	}
}

// TestMePageListsABanksPledges: a bank's own page lists the pledges it
// holds as pledgee (it showed a bank nothing), with the pledgor, the
// patents, the amount secured and the dates; a bank with none says so,
// and an organisation of another kind with none shows no such list.
func TestMePageListsABanksPledges(t *testing.T) {
	h := oasNewHarness(t, nil)
	svc := h.server.svc
	uni := h.org("华南理工大学", "university", "440106", "12440000455416125", false)
	bank := h.org("中国工商银行广州分行", "bank", "440104", "91440101190452347", false)
	idle := h.org("招商银行广州分行", "bank", "440104", "91440101190452355", false)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	c, _ := domain.PatentCheckChar("202110100001")
	number := "ZL202110100001." + string(c)
	if _, err := svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: number, Title: "一种电池", PatenteeIDs: []string{uni.id},
		IPC: []string{"H01M 10/0562"}, FiledOn: mustDay("2021-03-15"), GrantedOn: mustDay("2022-01-10")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RegisterPledge(ctx, admin, domain.RegisterPledge{PledgorID: uni.id, PledgeeID: bank.id, Patents: []string{number},
		SecuredAmountFen: 1_000_050, RegisteredOn: mustDay("2024-05-01"), DebtDueOn: mustDay("2025-05-01")}); err != nil {
		t.Fatal(err)
	}
	row := `<tr><td lang="zh-CN">华南理工大学</td><td><a href="/patents/` + number + `?lang=en">` + number + `</a></td><td>¥10,000.50</td><td>2024-05-01</td><td>—</td></tr>`
	for _, c := range []struct {
		key       string
		want, not []string
	}{
		{bank.key, []string{"Patent pledges we hold as pledgee (1)", row}, nil},
		{idle.key, []string{"Patent pledges we hold as pledgee (0)", "No pledge registered to us as pledgee yet."}, nil},
		{uni.key, []string{"Our patents (1)"}, []string{"Patent pledges we hold"}},
	} {
		b := browser(t)
		signIn(t, b, h.http.URL+"/signin?lang=en", c.key)
		var me string
		deadline := time.Now().Add(20 * time.Second) // the read models catch up
		for !strings.Contains(me, c.want[0]) && time.Now().Before(deadline) {
			_, me, _ = get(t, b, h.http.URL+"/me?lang=en")
			time.Sleep(50 * time.Millisecond)
		}
		for _, want := range c.want {
			if !strings.Contains(me, want) {
				t.Errorf("want %q:\n%s", want, me)
			}
		}
		for _, not := range c.not {
			if strings.Contains(me, not) {
				t.Errorf("want no %q:\n%s", not, me)
			}
		}
	}
}

// TestFormSentAfterTheSessionEndedComesBack: a declaration form sent after
// its session ended records nothing and sends the browser to sign in, which
// goes on to the patent's page with what was typed back in the form (the
// web audit lost it all, and landed on /me); the kept form is read once. A
// sign-in told to go on to another site goes to /me.
func TestFormSentAfterTheSessionEndedComesBack(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	signIn(t, c, f.url+"/signin?lang=en", f.uniKey)
	page := f.url + "/patents/" + string(f.number)
	_, html, _ := get(t, c, page+"?lang=en")
	token := csrfOf(t, html)
	_, me, _ := get(t, c, f.url+"/me")
	if status, _, _ := post(t, c, f.url+"/signout", url.Values{"csrf": {csrfOf(t, me)}}); status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", status)
	}
	before := f.head(t)
	form := url.Values{"csrf": {token}, "mode": {"lump_sum"}, "lump_sum_yuan": {"12,000.50"}, "term_months": {"18"},
		"declared_on": {"2024-06-01"}, "other_terms": {"我方提供技术培训 <b>"}}
	// Another site's form to the same address keeps nothing: it could fill
	// the patentee's form with its own terms. It is refused outright.
	forged := browser(t)
	forged.Transport = withHeader{"Origin", "https://evil.example"}
	if status, _, h := post(t, forged, page+"/declare", form); status != http.StatusForbidden || strings.Contains(h.Get("Set-Cookie"), draftCookie) {
		t.Errorf("another site's form: %d, Set-Cookie %q; want 403 and no draft kept", status, h.Get("Set-Cookie"))
	}
	c.Transport = withHeader{"Sec-Fetch-Site", "same-origin"}
	// Terms too long for a cookie are not kept, and the sign-in page says so.
	long := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"12"}, "other_terms": {strings.Repeat("技术培训", 400)}}
	status, _, h := post(t, c, page+"/declare?lang=en", long)
	if lost := "/signin?next=" + url.QueryEscape("/patents/"+string(f.number)) + "&lang=en"; status != http.StatusSeeOther ||
		h.Get("Location") != lost || strings.Contains(h.Get("Set-Cookie"), draftCookie) {
		t.Errorf("a form too large to keep: %d to %q, Set-Cookie %q; want 303 to %q and nothing kept", status, h.Get("Location"), h.Get("Set-Cookie"), lost)
	} else if _, signin, _ := get(t, c, f.url+lost); !strings.Contains(signin, "nor could what you typed be kept") {
		t.Errorf("the sign-in page after a form too large to keep does not say it was lost:\n%s", signin)
	}
	status, _, h = post(t, c, page+"/declare?lang=en", form)
	next := "/signin?next=" + url.QueryEscape("/patents/"+string(f.number)) + "&kept=1&lang=en"
	if status != http.StatusSeeOther || h.Get("Location") != next || f.head(t) != before {
		t.Fatalf("form without a session: %d to %q, head %d→%d; want 303 to %q and nothing written", status, h.Get("Location"), before, f.head(t), next)
	}
	_, signin, _ := get(t, c, f.url+next)
	if !strings.Contains(signin, `<input type="hidden" name="next" value="/patents/`+string(f.number)+`">`) ||
		!strings.Contains(signin, "Your session has ended and the form was not sent.") {
		t.Fatalf("the sign-in page does not go on to the patent:\n%s", signin)
	}
	// Another organisation signing in on this browser does not take it:
	// the page offers it no form.
	status, _, _ = post(t, c, f.url+"/signin?lang=en", url.Values{"key": {f.smeKey}, "csrf": {signinCSRFOf(t, signin)},
		"next": {"/patents/" + string(f.number)}})
	if _, other, _ := get(t, c, page+"?lang=en"); status != http.StatusSeeOther || strings.Contains(other, "What you typed") {
		t.Errorf("the SME's visit (sign-in %d) was shown the university's form", status)
	}
	_, me, _ = get(t, c, f.url+"/me")
	post(t, c, f.url+"/signout", url.Values{"csrf": {csrfOf(t, me)}})
	_, signin, _ = get(t, c, f.url+next)
	status, _, h = post(t, c, f.url+"/signin?lang=en", url.Values{"key": {f.uniKey}, "csrf": {signinCSRFOf(t, signin)},
		"next": {"/patents/" + string(f.number)}})
	if status != http.StatusSeeOther || h.Get("Location") != "/patents/"+string(f.number)+"?lang=en" {
		t.Fatalf("sign-in: %d to %q; want 303 to the patent page", status, h.Get("Location"))
	}
	_, back, _ := get(t, c, page+"?lang=en")
	for _, want := range []string{"What you typed before your session ended is back in the form", `value="12,000.50"`,
		`name="term_months" inputmode="numeric" required value="18"`, `value="2024-06-01"`, "我方提供技术培训 &lt;b&gt;</textarea>",
		`<option value="lump_sum" selected>`} {
		if !strings.Contains(back, want) {
			t.Errorf("the patent page after the sign-in lacks %q:\n%s", want, back)
		}
	}
	if _, again, _ := get(t, c, page+"?lang=en"); strings.Contains(again, "What you typed") || strings.Contains(again, "12,000.50") {
		t.Error("the kept form came back a second time")
	}
	for _, elsewhere := range []string{"https://evil.example/", "//evil.example/patents/" + string(f.number), "/patents/ZL0", "/me"} {
		other := browser(t)
		_, signin, _ := get(t, other, f.url+"/signin?next="+url.QueryEscape(elsewhere))
		status, _, h := post(t, other, f.url+"/signin", url.Values{"key": {f.uniKey}, "csrf": {signinCSRFOf(t, signin)}, "next": {elsewhere}})
		if status != http.StatusSeeOther || h.Get("Location") != "/me" {
			t.Errorf("sign-in told to go on to %q: %d to %q; want /me", elsewhere, status, h.Get("Location"))
		}
	}
}

// TestEndedDeclarationsAreListed: the patent page lists the declarations
// that are no longer in effect, withdrawn (with the withdrawal's day and
// reason) or at the end of their term, the latest first, beside the one
// in effect; the API always had them, the page showed only the current.
func TestEndedDeclarationsAreListed(t *testing.T) {
	f := newWebFixture(t) // today is 2024-07-01
	ctx := context.Background()
	admin := domain.Request{Actor: domain.AdminActor}
	declare := func(on string, months int) string {
		res, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
			TermMonths: months, DeclaredOn: mustDay(on)})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	declare("2022-03-01", 12) // ended 2023-02-28
	withdrawn := declare("2023-04-01", 24)
	if _, err := f.svc.svc.WithdrawDeclaration(ctx, admin, f.number, domain.WithdrawDeclaration{DeclarationID: withdrawn,
		EffectiveOn: mustDay("2024-01-15"), Reason: "调整许可条件"}); err != nil {
		t.Fatal(err)
	}
	declare("2024-02-01", 36) // in effect
	_, html, _ := get(t, browser(t), f.url+"/patents/"+string(f.number))
	_, table, ok := strings.Cut(html, "此前的开放许可声明")
	want := []string{`<td>2023-04-01</td><td>2025-03-31</td><td>2024-01-15</td><td lang="zh-CN">调整许可条件</td>`,
		"<td>2022-03-01</td><td>2023-02-28</td><td>—</td><td>—</td>"}
	if !ok || !strings.Contains(table, want[0]) || !strings.Contains(table, want[1]) ||
		strings.Index(table, want[0]) > strings.Index(table, want[1]) || strings.Contains(table, "<td>2024-02-01</td>") {
		t.Fatalf("the ended declarations, latest first, without the one in effect:\n%s", html)
	}
}

// TestLanguageSwitchStaysOnTheSite: a path starting with slashes or
// backslashes gets the not-found page, whose language switch must stay a
// path of the site, not become a link to the host named after them.
func TestLanguageSwitchStaysOnTheSite(t *testing.T) {
	f := newWebFixture(t)
	for _, path := range []string{"//evil.example/x", "/%2F%2Fevil.example", "/%5Cevil.example", "/%5C%5Cevil.example/signin"} {
		status, body, _ := get(t, browser(t), f.url+path)
		link := regexp.MustCompile(`<a href="([^"]*)" lang=`).FindStringSubmatch(body)
		if status != 404 || link == nil {
			t.Fatalf("%s: %d, switch link %v", path, status, link)
		}
		if target := link[1]; !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, `/\`) || strings.HasPrefix(target, "/%5C") {
			t.Errorf("%s: the language switch leads to %q", path, target)
		}
	}
}

// TestPagesMarkTheLanguageOfTheLedgersTexts: the texts the ledger holds (a
// title, an abstract, terms, a withdrawal reason) carry their own language
// on the pages, so that a screen reader reads a Chinese title on an English
// page with a Chinese voice, and an English title on a Chinese page with an
// English one (WCAG 3.1.2).
func TestPagesMarkTheLanguageOfTheLedgersTexts(t *testing.T) {
	f := newWebFixture(t)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	c, _ := domain.PatentCheckChar("202010654321")
	latin := "ZL202010654321." + string(c)
	if _, err := f.svc.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: latin, Title: "LED package structure",
		Abstract: "A package for LEDs.", PatenteeIDs: []string{f.uniID}, IPC: []string{"H01L 33/48"},
		FiledOn: mustDay("2020-03-15"), GrantedOn: mustDay("2022-01-10")}); err != nil {
		t.Fatal(err)
	}
	decl, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 12, DeclaredOn: mustDay("2023-01-02"), OtherTerms: "不得转许可。"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.svc.WithdrawDeclaration(ctx, admin, f.number, domain.WithdrawDeclaration{DeclarationID: decl.ID,
		EffectiveOn: mustDay("2023-06-01"), Reason: "调整许可条件"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 12, DeclaredOn: mustDay("2024-01-02"), OtherTerms: "Not to be sublicensed."}); err != nil {
		t.Fatal(err)
	}
	for path, wants := range map[string][]string{
		"/patents/" + string(f.number) + "?lang=en": {`<h1 lang="zh-CN">一种固态锂电池电解质</h1>`, `<td lang="zh-CN">调整许可条件</td>`,
			`<dd class="text" lang="en">Not to be sublicensed.</dd>`},
		"/patents/" + latin:              {`<h1 lang="en">LED package structure</h1>`, `<p class="text" lang="en">A package for LEDs.</p>`},
		"/patents/" + latin + "?lang=en": {`<h1 lang="en">LED package structure</h1>`},
	} {
		_, html, _ := get(t, browser(t), f.url+path)
		for _, want := range wants {
			if !strings.Contains(html, want) {
				t.Errorf("%s: want %s in\n%s", path, want, html)
			}
		}
	}
}

// TestScrollBoxesAreNamedKeyboardRegions: every box a wide table scrolls
// in can be reached and scrolled by keyboard, and says what it holds
// (WCAG 2.1.1), on the patent page (/me: TestE2ESignedInViews).
func TestScrollBoxesAreNamedKeyboardRegions(t *testing.T) {
	f := newWebFixture(t)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	decl, err := f.svc.svc.FileDeclaration(ctx, admin, f.number, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 36, DeclaredOn: mustDay("2024-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.svc.GrantLicense(ctx, admin, f.number, domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: f.smeID,
		EffectiveOn: mustDay("2024-03-01"), DeclarationID: decl.ID}); err != nil {
		t.Fatal(err)
	}
	c := browser(t)
	box := regexp.MustCompile(`<div class="scroll[^"]*"[^>]*>`)
	named := regexp.MustCompile(`tabindex="0" role="(region|group)" aria-label="[^"]+"`)
	for _, path := range []string{"/patents/" + string(f.number), "/patents/" + string(f.number) + "?lang=en"} {
		_, html, _ := get(t, c, f.url+path)
		boxes := box.FindAllString(html, -1)
		if len(boxes) == 0 {
			t.Fatalf("%s: no scroll box to check:\n%s", path, html)
		}
		for _, b := range boxes {
			if !named.MatchString(b) {
				t.Errorf("%s: %s is no named keyboard region", path, b)
			}
		}
	}
}

// TestRefusedSigninMarksTheKeyField: a key the sign-in form refuses marks
// the key field as every other refused form marks its fields: invalid,
// described by what is wrong beside it and by the problem, and focused;
// the problem box holds no empty list.
func TestRefusedSigninMarksTheKeyField(t *testing.T) {
	f := newWebFixture(t)
	for _, lang := range []string{"", "?lang=en"} {
		status, html, _ := signIn(t, browser(t), f.url+"/signin"+lang, "lk_nobody_0000_wrong")
		field := regexp.MustCompile(`<input id="key"[^>]*>`).FindString(html)
		if status != http.StatusUnauthorized || !strings.Contains(field, `aria-invalid="true"`) ||
			!strings.Contains(field, `aria-describedby="key-problem problem"`) || !strings.Contains(field, "autofocus") ||
			!strings.Contains(html, `<p class="field-problem" id="key-problem">`) || strings.Contains(html, "<ul></ul>") {
			t.Errorf("signin%s refused: %d, key field %s in\n%s", lang, status, field, html)
		}
	}
	_, html, _ := get(t, browser(t), f.url+"/signin")
	if field := regexp.MustCompile(`<input id="key"[^>]*>`).FindString(html); strings.Contains(field, "aria-invalid") || strings.Contains(field, "autofocus") {
		t.Errorf("the sign-in page before any attempt marks the key field: %s", field)
	}
}

// TestRegionChoices: the cities and districts of the patentees' regions,
// a city before its districts, a city code (xxxx00) as its city alone and
// a province's own code (xx0000) as its province, not as a city 4400;
// past maxRegionSuggestions, the cities alone.
func TestRegionChoices(t *testing.T) {
	got := regionChoices([]string{"310104", "440000", "440100", "440105", "440106", "450103", "810000"})
	if want := []string{"3101", "310104", "44", "4401", "440105", "440106", "4501", "450103", "81"}; !slices.Equal(got, want) {
		t.Errorf("regionChoices = %q, want %q", got, want)
	}
	var many []string
	for city := 1; city <= 30; city++ {
		for district := 1; district <= 10; district++ {
			many = append(many, fmt.Sprintf("44%02d%02d", city, district))
		}
	}
	got = regionChoices(many)
	if len(got) != 30 || got[0] != "4401" || got[29] != "4430" {
		t.Errorf("330 choices: %d, %q…", len(got), got[:min(len(got), 3)])
	}
}

// postFrom posts form to u as a browser on a page of origin does, with the
// Sec-Fetch-Site it says (neither header when ""), and returns the status,
// body and headers.
func postFrom(t *testing.T, c *http.Client, u string, form url.Values, origin, fetchSite string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	return send(t, c, req)
}

// TestFormsRefuseOtherSites: a form sent by a page of another site is
// refused 403 and writes nothing, even with a good token (which such a
// page cannot read, but a second guard costs nothing): by its
// Sec-Fetch-Site, or by its Origin when a browser sends no Sec-Fetch-Site.
// The same form from the ledger's own pages goes through (security audit
// 3, a note).
func TestFormsRefuseOtherSites(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	signIn(t, c, f.url+"/signin", f.uniKey)
	page := f.url + "/patents/" + string(f.number)
	_, html, _ := get(t, c, page)
	form := url.Values{"csrf": {csrfOf(t, html)}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	before := f.head(t)
	for _, from := range []struct{ origin, site string }{{"https://evil.example", "cross-site"}, {"https://evil.example", ""},
		{f.url, "same-site"}} {
		if status, body, header := postFrom(t, c, page+"/declare?lang=en", form, from.origin, from.site); status != http.StatusForbidden ||
			!strings.Contains(body, "sent by a page of another site is refused") || f.head(t) != before ||
			header.Get("X-Frame-Options") != "DENY" || header.Get("X-Request-Id") == "" {
			t.Errorf("a form from %s (Sec-Fetch-Site %q): %d, head %d→%d, headers %v\n%s", from.origin, from.site, status, before, f.head(t), header, body)
		}
	}
	if status, _, _ := postFrom(t, c, page+"/declare", form, f.url, "same-origin"); status != http.StatusSeeOther || f.head(t) == before {
		t.Fatalf("the form from the ledger's own page: %d, head %d→%d", status, before, f.head(t))
	}
}
