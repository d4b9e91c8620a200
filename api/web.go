package api

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// webAssets are the page templates and static files, embedded so the
// binary needs no files and no network at run time.
//
//go:embed webassets
var webAssets embed.FS

// pageTemplates holds one template set per page: the layout and forms plus
// the page's own "content".
var pageTemplates = parsePages("patent", "signin", "error", "me", "search", "dashboard")

func parsePages(names ...string) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range names {
		t := template.New(name).Funcs(template.FuncMap{
			"t": func(string) string { return "" }, "fen": fenWords, "percentBP": percentBP, "feeWords": func(domain.FeeTerms) string { return "" },
			"feeWarnings": func(domain.FeeTerms) []string { return nil }, "orgName": func(string) string { return "" },
			"sessionHours": func() int { return int(sessionLifetime / time.Hour) }, "textLang": textLang,
			"fieldAttrs": func(string, string, ...string) template.HTMLAttr { return "" }, "fieldProblem": func(string, string) fieldNote { return fieldNote{} },
			"marked": func(string) template.HTML { return "" },
		})
		out[name] = template.Must(t.ParseFS(webAssets, "webassets/templates/layout.html",
			"webassets/templates/forms.html", "webassets/templates/"+name+".html"))
	}
	return out
}

func fenWords(f domain.Fen) string { return f.String() }

// textLang returns the language tag of a text the ledger holds (a title,
// an abstract, terms), which may differ from the page's: zh-CN when it
// holds Han characters, else en. Pages set it on the element holding the
// text, so that a screen reader reads a Chinese title on an English page
// with a Chinese voice (WCAG 3.1.2).
func textLang(text string) string {
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		return "zh-CN"
	}
	return "en"
}

// markChinese returns line as HTML for a page in pageLang: on a page not in
// Chinese, each run of Chinese in it (Han characters with the CJK
// punctuation and full-width forms between and after them), such as the
// name of an organisation a problem quotes, is marked as Chinese, so that a
// screen reader reads it with a Chinese voice (WCAG 3.1.2); the rest is
// escaped as text.
func markChinese(line, pageLang string) template.HTML {
	if strings.HasPrefix(pageLang, "zh") {
		return template.HTML(template.HTMLEscapeString(line))
	}
	var out strings.Builder
	for line != "" {
		start := strings.IndexFunc(line, func(r rune) bool { return unicode.Is(unicode.Han, r) })
		if start < 0 {
			start = len(line)
		}
		out.WriteString(template.HTMLEscapeString(line[:start]))
		line = line[start:]
		end := strings.IndexFunc(line, func(r rune) bool { return !chineseRune(r) })
		if end < 0 {
			end = len(line)
		}
		if end > 0 {
			out.WriteString(`<span lang="zh-CN">` + template.HTMLEscapeString(line[:end]) + `</span>`)
		}
		line = line[end:]
	}
	return template.HTML(out.String())
}

// chineseRune reports whether r belongs in a run of Chinese text: a Han
// character, CJK punctuation (、。「」) or a full-width form (（）：，).
func chineseRune(r rune) bool {
	return unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef
}

// percentBP writes basis points as a percentage: 1254 is "12.54%".
func percentBP(bp int64) string { return fmt.Sprintf("%d.%02d%%", bp/100, bp%100) }

// page is what every page template gets.
type page struct {
	// LangParam is "lang=…" when the page's language must be carried on in
	// its links and forms (see langParam), and LangQuery is "?" and it.
	Lang, Title, LangParam, LangQuery, SwitchURL string
	Org                                          *domain.Org
	CSRF                                         string
	// SigninCSRF is the sign-in form's token, apart from the session's.
	SigninCSRF string
	// Next is the patent page a sign-in goes on to (nextPage), "" for /me.
	Next    string
	Notice  string
	Problem *pageProblem
	Form    map[string]string

	Patent    *patentView
	Patentees []string
	History   []historyLine
	// HistoryFrom is the version of the first event History shows;
	// HistoryNext, when not 0, the version after which the next page of
	// history starts.
	HistoryFrom, HistoryNext int64
	Example                  string
	// PledgedWithoutConsent is whether the patent is pledged today without
	// the pledgee's consent to licensing: no licence can be taken.
	PledgedWithoutConsent bool
	// Licenses are the patent's licences the page lists: the
	// webLicenceRows latest concluded, in the order concluded, of
	// LicenseCount in all (GET /v1/patents/{number} lists every one).
	Licenses     []licenseView
	LicenseCount int
	// Upcoming is, when no declaration is in effect today, one filed to
	// take effect later and not withdrawn: the page shows it, and its
	// patentee may withdraw it.
	Upcoming *declarationView
	// Ended are the patent's declarations no longer in effect today
	// (withdrawn or at the end of their term), latest first.
	Ended                   []declarationView
	CanDeclare, CanWithdraw bool
	// WithdrawID is the declaration the withdrawal form withdraws.
	WithdrawID string
	// FormKey is the idempotency key of the form the page writes (see
	// formKeyField), fresh on each page.
	FormKey string
	// DeclareRefused is the rule by which the facts of today refuse every
	// declaration starting today of an active patent without one (see
	// declarationRefusal), for a patentee who is then not offered the form
	// (annual_fee_unpaid, patent_suspended, exclusive_license_in_force,
	// pledged_without_consent); "" when they refuse none.
	DeclareRefused domain.Rule
	// RefusingLicense is the sole or exclusive licence in force today by
	// which DeclareRefused is exclusive_license_in_force.
	RefusingLicense *domain.License
	// CoOwners are, on a co-owned patent's declaration or withdrawal
	// form, the patentees besides the signed-in one, whose consent the
	// form states.
	CoOwners []coOwner
	FeeModes []domain.FeeMode

	Search    *searchPage
	Dashboard *dashboard
	Portfolio *projections.Portfolio
}

// coOwner is a co-owner on a form: its ID and name, and whether the form
// states its consent.
type coOwner struct {
	ID, Name  string
	Consented bool
}

// pageProblem is an error as a page shows it, in the page's language.
type pageProblem struct {
	Title string
	Lines []string
	// Fields holds, by the catalogue entry of its label (see
	// fieldLabels), each form field the problem is about, with what the
	// page says of it beside the field: the field is marked invalid and
	// described by that and by the problem (see fieldMarks).
	Fields map[string][]string
}

// newPage starts the data of a page for the request, of the organisation
// signed in.
func (s *Server) newPage(c echo.Context, title string) *page {
	p := anonymousPage(c, title)
	if who, csrf := s.webSession(c); who.org.ID != "" {
		org := who.org
		p.Org, p.CSRF = &org, csrf
	}
	return p
}

// anonymousPage starts the data of a page for the request, as if no one
// were signed in.
func anonymousPage(c echo.Context, title string) *page {
	lang := pageLang(c)
	p := &page{Lang: lang, Title: title, Form: map[string]string{}, FeeModes: []domain.FeeMode{domain.FeeFree,
		domain.FeeLumpSum, domain.FeeInstalment, domain.FeeRoyalty, domain.FeeEntryPlusRoyalty}}
	if p.LangParam = langParam(c); p.LangParam != "" {
		p.LangQuery = "?" + p.LangParam
	}
	p.SwitchURL = switchURL(c.Request().URL.Path, c.Request().URL.Query(), lang)
	return p
}

// switchURL is the address of the page at path with query q in the
// language other than lang (without the one-off ?saved= notice). Slashes
// and backslashes leading the path are taken as one slash: a browser
// reads //host/… (and /\host/…) as an address on another site, which the
// not-found page of such a path must not link to.
func switchURL(path string, q url.Values, lang string) string {
	q.Set("lang", map[string]string{langZH: langEN, langEN: langZH}[lang])
	q.Del("saved")
	return "/" + strings.TrimLeft(path, `/\`) + "?" + q.Encode()
}

// render executes the named page with the request's language.
func (s *Server) render(c echo.Context, status int, name string, p *page) error {
	ctx := c.Request().Context()
	return renderPage(c, status, name, p, func(id string) string { return s.orgName(ctx, id) })
}

// renderPage executes the named page with the request's language, naming
// organisations by orgName.
func renderPage(c echo.Context, status int, name string, p *page, orgName func(id string) string) error {
	t := translator(p.Lang)
	marks := &fieldMarks{}
	if p.Problem != nil {
		marks.fields = p.Problem.Fields
	}
	tmpl := template.Must(pageTemplates[name].Clone()).Funcs(template.FuncMap{
		"t":            t,
		"feeWords":     func(f domain.FeeTerms) string { return f.Describe(p.Lang) },
		"feeWarnings":  func(f domain.FeeTerms) []string { return f.WarningsIn(p.Lang) },
		"orgName":      orgName,
		"fieldAttrs":   marks.attrs,
		"fieldProblem": marks.note,
		"marked":       func(line string) template.HTML { return markChinese(line, p.Lang) },
	})
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", p); err != nil {
		return err
	}
	// A page shows who is signed in, and its API example names the host the
	// request gave: no shared cache may keep it for another visitor.
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.HTMLBlob(status, buf.Bytes())
}

// fieldMarks marks, as a page's template writes its form fields, those its
// problem is about (pageProblem.Fields): each is invalid, described by what
// is said beside it and by the problem at the top, and the first one the
// page writes has the focus (autofocus: the pages run no script), so that
// the browser shows it rather than the top of the page.
type fieldMarks struct {
	fields  map[string][]string
	focused bool
}

// attrs returns the attributes of the field labelled key, whose element's
// ID is id (the ID its note takes after: see note) and which the elements
// of the IDs hints describe: when the problem is not about it, only that.
func (m *fieldMarks) attrs(key, id string, hints ...string) template.HTMLAttr {
	if _, invalid := m.fields[key]; !invalid {
		return describedBy(hints)
	}
	attrs := ` aria-invalid="true"` + describedBy(append([]string{id + "-problem", "problem"}, hints...))
	if !m.focused {
		m.focused = true
		attrs += " autofocus"
	}
	return attrs
}

// describedBy returns the aria-describedby attribute naming the elements of
// ids, none when there are none.
func describedBy(ids []string) template.HTMLAttr {
	if len(ids) == 0 {
		return ""
	}
	return template.HTMLAttr(` aria-describedby="` + template.HTMLEscapeString(strings.Join(ids, " ")) + `"`)
}

// note returns what the problem says of the field labelled key, to be
// shown beside the field whose element's ID is id.
func (m *fieldMarks) note(key, id string) fieldNote {
	return fieldNote{ID: id + "-problem", Lines: m.fields[key]}
}

// fieldNote is what a page says beside a field of its problem: the note's
// ID, which the field's aria-describedby names, and its lines.
type fieldNote struct {
	ID    string
	Lines []string
}

func (s *Server) orgName(ctx context.Context, id string) string {
	org, err := s.svc.Org(ctx, id)
	if err != nil {
		return id
	}
	return org.Name
}

// orgNames returns the name of the organisation of an ID, and whether
// there is one, for a page's problems to name organisations as its forms
// do rather than by ID.
type orgNames func(id string) (string, bool)

// orgNamesOf names organisations by what the service knows of them.
func (s *Server) orgNamesOf(ctx context.Context) orgNames {
	return func(id string) (string, bool) {
		org, err := s.svc.Org(ctx, id)
		return org.Name, err == nil && org.Name != ""
	}
}

// pageProblemOf turns an error into the problem of the request's page (see
// problemLines), organisations named.
func (s *Server) pageProblemOf(c echo.Context, err error, lang string) *pageProblem {
	return problemLines(err, lang, s.orgNamesOf(c.Request().Context()))
}

// problemLines turns an error into a page problem in the page's language:
// the code's title, the rule's explanation, and each offending field or,
// when the problem names none, its detail (see detailLine); an
// organisation's ID in a message is its name when names knows it (nil
// names none).
func problemLines(err error, lang string, names orgNames) *pageProblem {
	t := translator(lang)
	p := problemOf(err)
	out := &pageProblem{Title: t("code." + p.Code), Fields: map[string][]string{}}
	if p.Rule != "" {
		out.Lines = append(out.Lines, t("rule."+p.Rule))
	}
	if p.Rule != "" && len(p.Errors) == 1 && p.Errors[0].Message == p.Detail {
		p.Errors = nil // a rule's detail that names its field for programs: the page says it as the detail, beside the field (ruleFields)
	}
	for _, f := range p.Errors {
		out.Lines = append(out.Lines, fieldProblemLine(f, lang, t, names))
		if key, ok := fieldLabels[listField.ReplaceAllString(f.Field, "")]; ok {
			out.Fields[key] = append(out.Fields[key], fieldMessage(f, lang, t, names))
		}
	}
	var he *echo.HTTPError
	if len(p.Errors) == 0 && p.Detail != "" && !errors.As(err, &he) { // the router's details are English only
		if line := detailLine(err, p.Detail, lang, t, names); line != "" {
			out.Lines = append(out.Lines, line)
		}
	}
	if key, ok := ruleFields[p.Rule]; ok { // the field whose value breaks the rule: all the problem says
		out.Fields[key] = out.Lines
	}
	return out
}

// ruleFields name, by the catalogue entry of its label, the form field
// whose value breaks a rule of the declaration and withdrawal forms.
var ruleFields = map[string]string{
	string(domain.RulePromotionalLanguage): "form.other_terms", string(domain.RuleTermExceedsPatent): "form.term_months",
	string(domain.RuleEvaluationReportRequired): "form.report_ref", string(domain.RuleCoOwnerConsentMissing): "form.co_owner_consent",
	string(domain.RuleWithdrawalBeforeDecl): "form.effective_on", string(domain.RuleWithdrawalBeforeLicense): "form.effective_on",
	string(domain.RulePatentNotActive): "form.declared_on",
}

// webError renders a failure as a page with the problem's status: the
// search page and the dashboard show their form with it (see queryPages),
// and a GET of a form's address goes to the form's page (formPage).
func (s *Server) webError(c echo.Context, err error) error {
	if to := s.formPage(c, err); to != "" {
		c.Response().Header().Del(echo.HeaderAllow) // the 405's, which the redirect is not
		return c.Redirect(http.StatusSeeOther, to)
	}
	if page, ok := s.queryPages()[c.Path()]; ok && c.Request().Method == http.MethodGet {
		return page(c, err)
	}
	lang := pageLang(c)
	problem := s.pageProblemOf(c, err, lang)
	// The page is named by what went wrong ("Not found"), in its title and
	// heading alike, not as an error of no kind.
	p := s.newPage(c, cmp.Or(problem.Title, translator(lang)("error.title")))
	p.Problem = problem
	return s.renderRefused(c, err, "error", p)
}

func (s *Server) patentPage(c echo.Context) error {
	p, err := s.patentPageData(c)
	if err != nil {
		return s.webError(c, err)
	}
	if saved, err := strconv.ParseInt(c.QueryParam("saved"), 10, 64); err == nil && saved > 0 && s.recordedOn(c, p.Patent.Number, saved) {
		p.Notice = translator(p.Lang)("form.saved") + " " + strconv.FormatInt(saved, 10)
	}
	return s.render(c, http.StatusOK, "patent", p)
}

// recordedOn reports whether the event at position lies on the stream of
// patent n: a form's redirect names where it recorded (?saved=), and a
// link made up elsewhere must not make the page claim a record the
// ledger does not hold for the patent.
func (s *Server) recordedOn(c echo.Context, n domain.PatentNumber, position int64) bool {
	events, err := s.store.ReadAll(c.Request().Context(), position-1, 1)
	return err == nil && len(events) == 1 && events[0].Position == position && events[0].Stream == domain.PatentStream(n)
}

// webLicenceRows bounds the licences a patent page lists: an openly
// licensed patent may have thousands, and every page of its history
// repeats them.
const webLicenceRows = 100

// patentPageData loads a patent and everything its page shows.
func (s *Server) patentPageData(c echo.Context) (*page, error) {
	n, err := patentParam(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	pat, err := s.svc.LoadPatent(ctx, n)
	if err != nil {
		return nil, err
	}
	view := viewPatent(pat, s.svc.Today())
	p := s.newPage(c, view.Title)
	p.Patent = &view
	for _, id := range view.PatenteeIDs {
		p.Patentees = append(p.Patentees, s.orgName(ctx, id))
	}
	signedIn := ""
	if p.Org != nil {
		signedIn = p.Org.ID
	}
	if len(view.PatenteeIDs) > 1 {
		for i, id := range view.PatenteeIDs {
			if id != signedIn {
				p.CoOwners = append(p.CoOwners, coOwner{ID: id, Name: p.Patentees[i]})
			}
		}
	}
	after, err := intQuery(c, "history_after", 0, 0, 1<<62)
	if err != nil {
		return nil, err
	}
	if p.History, p.HistoryNext, err = s.historyOf(ctx, n, after); err != nil {
		return nil, err
	}
	p.HistoryFrom = after + 1
	if view.Declaration != nil {
		p.Example = curlExample(view, c.Scheme()+"://"+c.Request().Host)
	}
	p.PledgedWithoutConsent = pat.PledgeWithoutConsentOn(s.svc.Today()) != nil
	p.LicenseCount = len(view.Licenses)
	p.Licenses = view.Licenses[max(0, len(view.Licenses)-webLicenceRows):]
	owner := p.Org != nil && pat.IsPatentee(p.Org.ID)
	if owner {
		p.FormKey = newFormKey()
	}
	p.Form["declared_on"] = s.svc.Today().String()
	p.Form["effective_on"] = s.svc.Today().String()
	p.Form["term_months"] = "36"
	p.Upcoming = upcomingDeclaration(view, s.svc.Today())
	p.Ended = endedDeclarations(view, s.svc.Today())
	switch {
	case view.Declaration != nil: // one whose withdrawal is recorded, to take effect later, cannot be withdrawn again
		p.CanWithdraw, p.WithdrawID = owner && view.Declaration.WithdrawnOn.IsZero(), view.Declaration.DeclarationID
	case p.Upcoming != nil: // withdrawn at the earliest on the day it would take effect, and once
		p.CanWithdraw, p.WithdrawID = owner && p.Upcoming.WithdrawnOn.IsZero(), p.Upcoming.DeclarationID
		p.Form["effective_on"] = p.Upcoming.DeclaredOn.String()
	case owner && view.Status == domain.StatusActive:
		p.DeclareRefused, p.RefusingLicense = declarationRefusal(pat, s.svc.Today())
		p.CanDeclare = p.DeclareRefused == ""
	case owner: // lapsed, invalidated, abandoned, expired: the page says so
		p.DeclareRefused = domain.RulePatentNotActive
	}
	if d := s.takeDraftOf(c, p, n); d != nil {
		for k := range d {
			p.Form[k] = d.Get(k)
		}
		for i := range p.CoOwners {
			p.CoOwners[i].Consented = slices.Contains(d[coOwnerConsent], p.CoOwners[i].ID)
		}
	}
	return p, nil
}

// declarationRefusal returns the rule by which the facts of day refuse
// every declaration of pat starting that day, whatever its terms, checked
// in the order Declare checks them: the register's (its status, an overdue
// annual fee, a suspension), a sole or exclusive licence in force, which
// every term overlaps, and a pledge without the pledgee's consent; with the
// licence when it is one; "" when they refuse none.
func declarationRefusal(pat *domain.Patent, day domain.Date) (domain.Rule, *domain.License) {
	if rule := pat.RegisterRefusesDeclarationOn(day); rule != "" {
		return rule, nil
	}
	if l := pat.ExclusiveLicenseOn(day); l != nil {
		return domain.RuleExclusiveLicenseInForce, l
	}
	if pat.PledgeWithoutConsentOn(day) != nil {
		return domain.RulePledgedWithoutConsent, nil
	}
	return "", nil
}

// upcomingDeclaration returns the first declaration of the patent filed to
// take effect after today that will be in effect for a day at least (not
// withdrawn, or withdrawn from a later day than its own), or nil.
func upcomingDeclaration(v patentView, today domain.Date) *declarationView {
	var next *declarationView
	for i := range v.Declarations {
		d := &v.Declarations[i]
		if d.DeclaredOn.After(today) && !neverInEffect(*d) && (next == nil || d.DeclaredOn.Before(next.DeclaredOn)) {
			next = d
		}
	}
	return next
}

// neverInEffect says whether a declaration was withdrawn from the day it
// was to take effect, or before.
func neverInEffect(d declarationView) bool {
	return !d.WithdrawnOn.IsZero() && !d.WithdrawnOn.After(d.DeclaredOn)
}

// endedDeclarations returns the declarations of v that are no longer in
// effect on today, withdrawn or at the end of their term, or never will be
// (withdrawn from their first day), the latest first.
func endedDeclarations(v patentView, today domain.Date) []declarationView {
	var ended []declarationView
	for _, d := range slices.Backward(v.Declarations) {
		withdrawn := !d.WithdrawnOn.IsZero() && !today.Before(d.WithdrawnOn)
		if neverInEffect(d) || !today.Before(d.DeclaredOn) && (withdrawn || today.After(d.TermEndsOn)) {
			ended = append(ended, d)
		}
	}
	return ended
}

// historyOf returns the page of a patent's events after version after
// that its page shows (see historyPage), and where the next page starts.
func (s *Server) historyOf(ctx context.Context, n domain.PatentNumber, after int64) ([]historyLine, int64, error) {
	events, next, err := s.historyPage(ctx, n, after, maxHistory)
	if err != nil {
		return nil, 0, err
	}
	out := make([]historyLine, len(events))
	for i, e := range events {
		at := e.Meta.RecordedAt.In(domain.Shanghai)
		out[i] = historyLine{Position: e.Position, Type: e.Type, Time: at.Format("2006-01-02 15:04"), Datetime: at.Format(time.RFC3339)}
	}
	return out, next, nil
}

// historyLine is an event of a patent's history as its page shows it:
// when it was recorded in Beijing time, and as a machine reads it.
type historyLine struct {
	Position       int64
	Type           string
	Time, Datetime string
}

// curlExample is the API call that takes the open licence of a patent on
// the ledger at base.
func curlExample(v patentView, base string) string {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"type": "open", "licensee_id": "<your organisation id>",
		"effective_on": "YYYY-MM-DD", "fee_paid_fen": v.Declaration.Fee.FirstPayment(),
		"declaration_id": v.Declaration.DeclarationID})
	return fmt.Sprintf("curl -X POST %s/v1/patents/%s/licenses \\\n  -H 'Authorization: Bearer <your key>' \\\n  -H 'Content-Type: application/json' \\\n  -H 'Idempotency-Key: <your order number>' \\\n  -d '%s'",
		base, v.Number, strings.TrimSpace(body.String()))
}

// webDeclare handles the declaration form of a signed-in patentee.
func (s *Server) webDeclare(c echo.Context) error {
	return s.webPatentForm(c, func(ctx context.Context, req domain.Request, n domain.PatentNumber) (domain.Result, error) {
		cmd, err := declarationFromForm(c)
		if err != nil {
			return domain.Result{}, err
		}
		return s.svc.FileDeclaration(ctx, req, n, cmd)
	})
}

// webWithdraw handles the withdrawal form of a signed-in patentee.
func (s *Server) webWithdraw(c echo.Context) error {
	return s.webPatentForm(c, func(ctx context.Context, req domain.Request, n domain.PatentNumber) (domain.Result, error) {
		var cmd domain.WithdrawDeclaration
		cmd.DeclarationID, cmd.Reason = c.FormValue("declaration_id"), c.FormValue("reason")
		cmd.CoOwnerConsent = formList(c, coOwnerConsent)
		var fe domain.FieldErrors
		cmd.EffectiveOn = formDate(&fe, c, "effective_on")
		if err := fe.Err(); err != nil {
			return domain.Result{}, err
		}
		return s.svc.WithdrawDeclaration(ctx, req, n, cmd)
	})
}

// webPatentForm runs a form command of the signed-in organisation on a
// patent: on success it redirects to the patent page (POST-redirect-GET);
// on failure it shows the page again with the problem and the values typed.
func (s *Server) webPatentForm(c echo.Context, run func(context.Context, domain.Request, domain.PatentNumber) (domain.Result, error)) error {
	who, csrf := s.webSession(c)
	if who.org.ID == "" { // signed out, or the session ended: the form waits for the sign-in
		page := "/patents/" + c.Param("number")
		if nextPage(page) == "" {
			return c.Redirect(http.StatusSeeOther, "/signin"+langSuffix(c))
		}
		signin := "/signin?next=" + url.QueryEscape(page)
		if s.keepDraft(c, c.Param("number")) {
			signin += "&kept=1"
		}
		return c.Redirect(http.StatusSeeOther, signin+langAmp(c))
	}
	res, err := runForm(c, who, csrf, run)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patents/%s?saved=%d%s", c.Param("number"), res.Position, langAmp(c)))
	}
	p, perr := s.patentPageData(c)
	if perr != nil {
		return s.webError(c, perr)
	}
	// The form's address takes only POST: the language switch goes to the page.
	p.SwitchURL = switchURL("/patents/"+string(p.Patent.Number), url.Values{}, p.Lang)
	p.Problem = s.pageProblemOf(c, err, p.Lang)
	switch {
	case err == errFormExpired: //nolint:errorlint // the token's own error, not any 403: errors.Is compares codes
		p.Problem = &pageProblem{Title: translator(p.Lang)("csrf.bad")}
	case errors.Is(err, domain.ErrIdempotencyMismatch): // this rendering of the form was sent before, with other values
		p.Problem = &pageProblem{Title: translator(p.Lang)("form.resent")}
	}
	form, _ := c.FormParams()
	for k := range form {
		p.Form[k] = form.Get(k)
	}
	for i := range p.CoOwners {
		p.CoOwners[i].Consented = slices.Contains(form[coOwnerConsent], p.CoOwners[i].ID)
	}
	return s.renderRefused(c, err, "patent", p)
}

// renderRefused renders the named page, which shows err, with err's status
// and the Retry-After it calls for (a store that takes no writes now), as
// the API answers it.
func (s *Server) renderRefused(c echo.Context, err error, name string, p *page) error {
	if ra := retryAfterOf(err); ra != "" {
		c.Response().Header().Set("Retry-After", ra)
	}
	return s.render(c, problemOf(err).Status, name, p)
}

// errFormExpired answers a form whose CSRF token is not its session's.
var errFormExpired = domain.Forbidden("csrf")

// runForm runs the command of a form once the form has passed its checks,
// in this order: well-formed with each field once (checked first, as a
// later parse of the form would not see it malformed or cut short), the
// session's CSRF token, the form's idempotency key (see formKeyField), the
// patent number of the address.
func runForm(c echo.Context, who principal, csrf string, run func(context.Context, domain.Request, domain.PatentNumber) (domain.Result, error)) (domain.Result, error) {
	if err := checkFormFields(c); err != nil {
		return domain.Result{}, err
	}
	if !checkCSRF(c, csrf) {
		return domain.Result{}, errFormExpired
	}
	key, err := formKey(c)
	if err != nil {
		return domain.Result{}, err
	}
	n, err := patentParam(c)
	if err != nil {
		return domain.Result{}, err
	}
	return run(c.Request().Context(), domain.Request{Actor: who.actor(), IdempotencyKey: key, CorrelationID: requestID(c)}, n)
}

// checkFormFields refuses a form body that is not well-formed (a bad %
// escape), whose fields would be read in part, and a field other than the
// co-owners' consent given more than once, of which only the first would
// be read, as the API refuses a query parameter given twice; a body over
// the limit answers 413.
func checkFormFields(c echo.Context) error {
	form, err := c.FormParams()
	var escape url.EscapeError
	switch {
	case errors.As(err, &escape): // the form's parser says which escape, as the query's check does
		return domain.Invalid("body", "has a malformed %%-escape in %s; write %% itself as %%25", domain.Quote(string(escape)))
	case err != nil && strings.Contains(err.Error(), "semicolon"):
		return domain.Invalid("body", "contains ';', which does not separate parameters (use '&'); write ';' itself as %%3B")
	case err != nil:
		return bodyReadError(err)
	}
	var fe domain.FieldErrors
	for _, name := range slices.Sorted(maps.Keys(form)) {
		if n := len(form[name]); n > 1 && name != coOwnerConsent {
			fe.Addf(domain.Shorten(name), "is given %d times; give it once", n)
		}
	}
	return fe.Err()
}

// declarationFromForm reads the declaration form into the command, naming
// any field that is not a number or date.
func declarationFromForm(c echo.Context) (domain.FileDeclaration, error) {
	var fe domain.FieldErrors
	cmd := domain.FileDeclaration{
		Fee: domain.FeeTerms{Mode: domain.FeeMode(c.FormValue("mode")), RoyaltyBase: domain.RoyaltyBase(c.FormValue("royalty_base")),
			LumpSumFen: formYuan(&fe, c, "lump_sum_yuan"), InstalmentFen: formYuan(&fe, c, "instalment_yuan"),
			Instalments: int(formInt(&fe, c, "instalments")), EntryFeeFen: formYuan(&fe, c, "entry_fee_yuan"),
			RoyaltyBP: int(formBasisPoints(&fe, c, "royalty_bp"))},
		TermMonths:          int(formRequiredInt(&fe, c, "term_months")),
		DeclaredOn:          formDate(&fe, c, "declared_on"),
		EvaluationReportRef: c.FormValue("evaluation_report_ref"),
		OtherTerms:          c.FormValue("other_terms"),
		CoOwnerConsent:      formList(c, coOwnerConsent),
	}
	return cmd, fe.Err()
}

// coOwnerConsent is the form field of the co-owners whose consent a
// declaration or withdrawal form states, one value per co-owner ticked.
const coOwnerConsent = "co_owner_consent"

// formList returns every value of a form field, nil when there is none.
func formList(c echo.Context, name string) []string {
	form, err := c.FormParams()
	if err != nil {
		return nil
	}
	return form[name]
}

// formInt reads a whole number, typed in full-width digits too as the
// amounts in yuan are, naming the field when it is none; none reads as zero.
func formInt(fe *domain.FieldErrors, c echo.Context, name string) int64 {
	v := strings.Map(domain.FoldWidth, strings.TrimSpace(c.FormValue(name)))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		fe.Addf(name, "must be a whole number")
	}
	return n
}

// formRequiredInt is formInt for a field that must be filled in: one left
// empty is said to be, rather than read as zero, which a range check would
// refuse as out of range.
func formRequiredInt(fe *domain.FieldErrors, c echo.Context, name string) int64 {
	if strings.TrimSpace(c.FormValue(name)) == "" {
		fe.Addf(name, "is required")
		return 0
	}
	return formInt(fe, c, name)
}

// formBasisPoints is formInt for basis points: a percentage typed there
// ("3%", in full width too) is refused naming the basis points it means
// (300), where a whole number is asked for.
func formBasisPoints(fe *domain.FieldErrors, c echo.Context, name string) int64 {
	v := strings.Map(domain.FoldWidth, strings.TrimSpace(c.FormValue(name)))
	if percent, ok := strings.CutSuffix(v, "%"); ok {
		if bp, ok := basisPoints(percent); ok {
			fe.Addf(name, "%s is a percentage; type it in basis points: %d", v, bp)
			return 0
		}
	}
	return formInt(fe, c, name)
}

// basisPoints returns the whole basis points of a percentage written as a
// decimal number ("2.5" is 250), and whether it is one.
func basisPoints(percent string) (int64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(percent), 64)
	bp := math.Round(f * 100)
	return int64(bp), err == nil && bp >= 1 && bp <= math.MaxInt32 && math.Abs(f*100-bp) < 1e-6
}

// formYuan reads an amount the form asks for in yuan (people do not count
// in fen), naming the field when it is no amount; none reads as zero.
func formYuan(fe *domain.FieldErrors, c echo.Context, name string) domain.Fen {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return 0
	}
	amount, err := domain.ParseYuan(v)
	fe.Add(name, err)
	return amount
}

func formDate(fe *domain.FieldErrors, c echo.Context, name string) domain.Date {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return domain.Date{}
	}
	d, err := domain.ParseDate(v)
	fe.Add(name, err)
	return d
}

// langParam is "lang=…" when the next page must be told the language of
// this one: English, and Chinese chosen against a browser that asks for
// English; "" when the browser's own choice (Chinese by default) will do.
func langParam(c echo.Context) string {
	if lang := pageLang(c); lang == langEN || c.QueryParam("lang") == langZH {
		return "lang=" + lang
	}
	return ""
}

// langSuffix is langParam as a query of its own.
func langSuffix(c echo.Context) string {
	if p := langParam(c); p != "" {
		return "?" + p
	}
	return ""
}

// langAmp is langParam after another query parameter.
func langAmp(c echo.Context) string {
	if p := langParam(c); p != "" {
		return "&" + p
	}
	return ""
}

func (s *Server) signinPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "signin", s.signinPageData(c, ""))
}

// signinPageData is the sign-in page with a fresh form token and, when
// problem is not "", that catalogue entry as its problem.
func (s *Server) signinPageData(c echo.Context, problem string) *page {
	p := s.newPage(c, translator(pageLang(c))("signin.title"))
	p.SigninCSRF = s.signinToken(c)
	if problem != "" {
		p.Problem = &pageProblem{Title: translator(p.Lang)(problem)}
		if problem != "csrf.bad" { // the key refused: its field is marked, described and focused
			p.Problem.Fields = map[string][]string{"signin.key": {p.Problem.Title}}
		}
	}
	if p.Next = nextPage(c.FormValue("next")); p.Next != "" {
		p.Notice = translator(p.Lang)("signin.ended") // the form was not sent, nor kept
		if c.FormValue("kept") == "1" {
			p.Notice = translator(p.Lang)("signin.resume")
		}
	}
	return p
}

// signin checks the form's token and the key, and keeps the key in the
// sealed session cookie. The token (see signinCookie) stops another site
// from signing a visitor in under its own key. A key that does not
// authenticate counts against the address as it does in the API
// (checkKey: 429 once too many have failed).
func (s *Server) signin(c echo.Context) error {
	if err := checkFormFields(c); err != nil {
		return s.webError(c, err)
	}
	if !s.checkSigninCSRF(c) {
		return s.render(c, http.StatusForbidden, "signin", s.signinPageData(c, "csrf.bad"))
	}
	key := strings.TrimSpace(c.FormValue("key"))
	who, err := s.checkKey(c, key)
	var limited *echo.HTTPError
	switch {
	case errors.As(err, &limited):
		return err // too many wrong keys from the address: 429
	case err != nil && domain.ErrorCode(err) != domain.CodeUnauthenticated:
		return s.webError(c, err) // the key could not be checked (the store unreachable): no wrong guess
	}
	switch {
	case err != nil:
		return s.render(c, http.StatusUnauthorized, "signin", s.signinPageData(c, "signin.bad"))
	case who.admin: // a key that works, but for the API only
		return s.render(c, http.StatusUnauthorized, "signin", s.signinPageData(c, "signin.admin"))
	}
	s.setSession(c, key)
	if next := nextPage(c.FormValue("next")); next != "" {
		return c.Redirect(http.StatusSeeOther, next+langSuffix(c))
	}
	return c.Redirect(http.StatusSeeOther, "/me"+langSuffix(c))
}

func (s *Server) signout(c echo.Context) error {
	if err := checkFormFields(c); err != nil {
		return s.webError(c, err)
	}
	if _, csrf := s.webSession(c); csrf != "" && !checkCSRF(c, csrf) {
		return s.webError(c, domain.Forbidden("the form has expired"))
	}
	if ss, _, ok := s.currentSession(c); ok {
		s.signedOut.add(ss, time.Now()) // a copy of the cookie must not outlive the sign-out
	}
	clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/"+langSuffix(c))
}

// mePage is the signed-in organisation's own page.
func (s *Server) mePage(c echo.Context) error {
	p := s.newPage(c, translator(pageLang(c))("me.title"))
	if p.Org == nil {
		return c.Redirect(http.StatusSeeOther, "/signin"+langSuffix(c))
	}
	if s.reads == nil {
		p.Problem = s.pageProblemOf(c, &unavailableError{detail: "read models are not running"}, p.Lang)
		return s.render(c, http.StatusServiceUnavailable, "me", p)
	}
	portfolio, err := s.reads.Portfolio(c.Request().Context(), p.Org.ID, s.svc.Today())
	if err != nil {
		return s.webError(c, err)
	}
	p.Portfolio = &portfolio
	return s.render(c, http.StatusOK, "me", p)
}

// staticFiles serves the embedded stylesheet and other assets; a folder
// is not found rather than listed, and what is not found answers a browser
// asking for a page with the error page (see staticNotFound).
func staticFiles() echo.HandlerFunc {
	sub, err := fs.Sub(webAssets, "webassets/static")
	if err != nil {
		panic(err)
	}
	files := echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(sub))))
	return func(c echo.Context) error {
		name, err := url.PathUnescape(c.Param("*"))
		if err != nil || name == "" || strings.HasSuffix(name, "/") {
			return staticNotFound(c)
		}
		if info, err := fs.Stat(sub, path.Clean(name)); err != nil || info.IsDir() {
			return staticNotFound(c)
		}
		return files(c)
	}
}

// staticNotFound answers a static file that is not there: to a browser
// asking for a page (one opened by hand, or a link) the error page, as
// other addresses do, but without the visitor's session, which the static
// files do not read; to a program or for a stylesheet or image, the
// problem document.
func staticNotFound(c echo.Context) error {
	if !acceptsHTML(c.Request()) {
		return echo.ErrNotFound
	}
	p := anonymousPage(c, translator(pageLang(c))("error.title"))
	p.Problem = problemLines(echo.ErrNotFound, p.Lang, nil)
	return renderPage(c, http.StatusNotFound, "error", p, func(id string) string { return id })
}
