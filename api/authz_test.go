package api

// The authorisation tests hold the server to the "Auth" paragraph of
// CONTRACT.md's HTTP API, on a real server over SQLite (oasHarness):
//
//   - TestAuthzWriteMatrix: every write route, sent by every kind of caller
//     (no key, an unknown key, a malformed header, a revoked key, the admin,
//     the acting party, a co-owner, the other party of the fact, an
//     unrelated organisation, a regulator, a bank that is not the pledgee),
//     answers success, 401 unauthenticated or 403 forbidden as the contract
//     says, and a refused write moves the ledger head not at all.
//   - TestAuthzReads: what is readable without a key, and that a regulator
//     reads everything.
//   - TestAuthzBearerScheme: the Authorization header as RFC 9110 and RFC
//     6750 define it.
//   - TestAuthzWebForms, TestAuthzSigninCountsFailedKeys: the web pages that
//     write follow the API's rules.
//   - TestAuthzKeysStayOutOfLogsAndAnswers: no key is logged or echoed.
//   - TestAuthzIdempotencyKeyIsTheCallers: a repeat is the caller's own.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// Callers of the matrix.
const (
	callNone      = "no key"
	callUnknown   = "unknown key"
	callMalformed = "malformed header"
	callRevoked   = "revoked key"
	callAdmin     = "admin"
	callPatentee  = "patentee"
	callCoOwner   = "co-owner"
	callLicensee  = "licensee"
	callUnrelated = "unrelated organisation"
	callRegulator = "regulator"
	callPledgee   = "pledgee"
	callOtherBank = "bank that is not the pledgee"
)

// unauthenticatedCallers answer 401 on every write.
var unauthenticatedCallers = []string{callNone, callUnknown, callMalformed, callRevoked}

// authzCaller sends a request: with a bearer key, a raw Authorization
// header, or neither.
type authzCaller struct {
	name   string
	key    string
	header string
	org    string // the organisation the key acts for; "" for the admin and the anonymous
}

// call returns c sent by the caller.
func (a authzCaller) call(c oasCall) oasCall {
	c.key, c.authorization = a.key, a.header
	// The document requires a bearer key; it cannot know which exist.
	c.docRejects = a.key == ""
	return c
}

// authzTarget is the fact a write acts on.
type authzTarget struct {
	number, declID, licID, pledgeID, orgID, keyID string
}

// fill replaces the placeholders of a path with the target's IDs.
func (t authzTarget) fill(path string) string {
	return strings.NewReplacer("{n}", t.number, "{decl}", t.declID, "{lic}", t.licID, "{pledge}", t.pledgeID,
		"{org}", t.orgID, "{key}", t.keyID).Replace(path)
}

// authzWorld is a served ledger with the organisations of the matrix: a
// university and a research institute that own patents together, an SME
// that holds licences on them, an unrelated SME, a bank that takes
// pledges, another bank and a regulator.
type authzWorld struct {
	t                                    *testing.T
	h                                    *oasHarness
	svc                                  *domain.Service
	uni, co, sme, sme2, bank, bank2, reg oasOrg
	callers                              []authzCaller
	serial                               int
}

var authzAdmin = domain.Request{Actor: domain.AdminActor}

func newAuthzWorld(t *testing.T, configure func(*Config)) *authzWorld {
	t.Helper()
	h := oasNewHarness(t, configure)
	w := &authzWorld{t: t, h: h, svc: h.server.svc}
	w.uni = h.org("华南理工大学", "university", "440106", "12440000455416125", false)
	w.co = h.org("中国科学院广州能源研究所", "research_institute", "440106", "12100000455400123", false)
	w.sme = h.org("广州星能电池科技有限公司", "enterprise", "440113", "91440101MA5CXXXX1", true)
	w.sme2 = h.org("广州芯海微电子有限公司", "enterprise", "440105", "91440101MA5CYYYY2", true)
	w.bank = h.org("中国工商银行广州分行", "bank", "440104", "91440101190452347", false)
	w.bank2 = h.org("招商银行广州分行", "bank", "440104", "91440101190452355", false)
	w.reg = h.org("广州市市场监督管理局", "regulator", "440100", "11440100MB2C9XXXX", false)

	// A second key of the university, revoked by the admin.
	spare := h.do(oasCall{method: "POST", path: "/v1/orgs/" + w.uni.id + "/keys", key: oasAdminKey, want: 201})
	h.do(oasCall{method: "POST", path: "/v1/orgs/" + w.uni.id + "/keys/" + spare.str("key_id") + "/revocation",
		key: oasAdminKey, want: 200})
	// The university's key with another secret.
	cut := strings.LastIndex(w.uni.key, "_") + 1
	unknown := w.uni.key[:cut] + strings.Repeat("0", len(w.uni.key)-cut)

	w.callers = []authzCaller{
		{name: callNone},
		{name: callUnknown, key: unknown},
		{name: callMalformed, header: "Basic dW5pOnNlY3JldA=="},
		{name: callRevoked, key: spare.str("key")},
		{name: callAdmin, key: oasAdminKey},
		{name: callPatentee, key: w.uni.key, org: w.uni.id},
		{name: callCoOwner, key: w.co.key, org: w.co.id},
		{name: callLicensee, key: w.sme.key, org: w.sme.id},
		{name: callUnrelated, key: w.sme2.key, org: w.sme2.id},
		{name: callRegulator, key: w.reg.key, org: w.reg.id},
		{name: callPledgee, key: w.bank.key, org: w.bank.id},
		{name: callOtherBank, key: w.bank2.key, org: w.bank2.id},
	}
	return w
}

func (w *authzWorld) check(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// head is the ledger's head position, read from the store.
func (w *authzWorld) head() int64 {
	w.t.Helper()
	h, err := w.h.server.store.Head(context.Background())
	w.check(err)
	return h.Position
}

// number returns a patent number nobody has registered.
func (w *authzWorld) number() string {
	w.serial++
	n, _ := oasNumber(w.t, fmt.Sprintf("2020101%05d", w.serial))
	return n
}

// patent registers a patent of the university and the institute, with an
// ordinary licence to the SME (ended in 2023), so that the SME is the other
// party of facts about the patent.
func (w *authzWorld) patent() authzTarget {
	ctx, n := context.Background(), w.number()
	_, err := w.svc.RegisterPatent(ctx, authzAdmin, domain.RegisterPatent{Number: n, Title: "一种钠离子电池正极材料",
		PatenteeIDs: []string{w.uni.id, w.co.id}, IPC: []string{"H01M 10/0562"},
		FiledOn: mustDay("2020-03-15"), GrantedOn: mustDay("2022-01-10")})
	w.check(err)
	lic, err := w.svc.GrantLicense(ctx, authzAdmin, domain.PatentNumber(n), domain.GrantLicense{Type: domain.LicenseOrdinary,
		LicenseeID: w.sme.id, EffectiveOn: mustDay("2023-01-01"), EndsOn: mustDay("2023-12-31"), FeePaidFen: 100_000})
	w.check(err)
	return authzTarget{number: n, licID: lic.ID}
}

// declared is a patent with a free declaration in effect.
func (w *authzWorld) declared() authzTarget {
	t := w.patent()
	res, err := w.svc.FileDeclaration(context.Background(), authzAdmin, domain.PatentNumber(t.number), domain.FileDeclaration{
		Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 12, DeclaredOn: mustDay("2024-06-01"),
		CoOwnerConsent: []string{w.uni.id, w.co.id}})
	w.check(err)
	t.declID = res.ID
	return t
}

// pledged is a patent the university pledged to the bank.
func (w *authzWorld) pledged() authzTarget {
	t := w.patent()
	res, err := w.svc.RegisterPledge(context.Background(), authzAdmin, domain.RegisterPledge{PledgorID: w.uni.id,
		PledgeeID: w.bank.id, Patents: []string{t.number}, SecuredAmountFen: 1_000_000,
		RegisteredOn: mustDay("2024-06-01"), DebtDueOn: mustDay("2026-06-01"), CoOwnerConsent: []string{w.co.id}})
	w.check(err)
	t.pledgeID = res.ID
	return t
}

// reviewed is a patent reviewed in the campaign 2024.
func (w *authzWorld) reviewed() authzTarget {
	t := w.patent()
	_, err := w.svc.RecordReview(context.Background(), authzAdmin, domain.PatentNumber(t.number), domain.RecordReview{
		Campaign: "2024", ReviewedOn: mustDay("2024-06-30"), Grade: domain.GradeHigh, Disposition: domain.DispositionOpenLicense})
	w.check(err)
	return t
}

// spareKey is a key of the SME, which the admin or the SME may revoke.
func (w *authzWorld) spareKey() authzTarget {
	res, err := w.svc.IssueKey(context.Background(), authzAdmin, w.sme.id, domain.HashKeySecret("spare"))
	w.check(err)
	return authzTarget{orgID: w.sme.id, keyID: res.ID}
}

// consent lists the patentees other than the caller: the co-owners whose
// consent a command of a co-owned patent needs.
func (w *authzWorld) consent(a authzCaller) []string {
	var out []string
	for _, id := range []string{w.uni.id, w.co.id} {
		if id != a.org {
			out = append(out, id)
		}
	}
	return out
}

// authzRoute is a write route of CONTRACT.md and who may use it.
type authzRoute struct {
	name, method, path string // path with the placeholders of authzTarget.fill
	status             int    // the answer of a success
	allowed            []string
	target             func() authzTarget
	body               func(t authzTarget, a authzCaller) any
	csv                bool // the body is a CSV import: a refused organisation gets every row rejected
}

var patenteeSide = []string{callAdmin, callPatentee, callCoOwner}

func (w *authzWorld) routes() []authzRoute {
	none := func() authzTarget { return authzTarget{orgID: w.sme.id} }
	fresh := func() authzTarget { return authzTarget{number: w.number()} }
	return []authzRoute{
		{name: "register an organisation", method: "POST", path: "/v1/orgs", status: 201, allowed: []string{callAdmin}, target: none,
			body: func(authzTarget, authzCaller) any {
				w.serial++
				return map[string]any{"name": fmt.Sprintf("广州第%d科技有限公司", w.serial), "kind": "enterprise",
					"region_code": "440106", "credit_code": oasCredit(w.t, fmt.Sprintf("914401010%08d", w.serial)), "sme": true}
			}},
		{name: "issue a key", method: "POST", path: "/v1/orgs/{org}/keys", status: 201, allowed: []string{callAdmin}, target: none},
		{name: "revoke a key", method: "POST", path: "/v1/orgs/{org}/keys/{key}/revocation", status: 200, allowed: []string{callAdmin, callLicensee},
			target: w.spareKey},
		{name: "register a patent", method: "POST", path: "/v1/patents", status: 201, allowed: patenteeSide, target: fresh,
			body: func(t authzTarget, _ authzCaller) any {
				return map[string]any{"number": t.number, "title": "一种钠离子电池负极材料", "patentee_ids": []string{w.uni.id, w.co.id},
					"ipc": []string{"H01M 10/0562"}, "filed_on": "2020-03-15", "granted_on": "2022-01-10"}
			}},
		{name: "status", method: "POST", path: "/v1/patents/{n}/status", status: 200, allowed: patenteeSide, target: w.patent,
			body: func(authzTarget, authzCaller) any {
				return map[string]any{"annual_fee_overdue": false, "reason": "年费已缴纳"}
			}},
		{name: "declaration", method: "POST", path: "/v1/patents/{n}/declarations", status: 201, allowed: patenteeSide, target: w.patent,
			body: func(_ authzTarget, a authzCaller) any {
				return map[string]any{"fee": map[string]any{"mode": "free"}, "term_months": 12, "declared_on": "2024-06-01",
					"co_owner_consent": w.consent(a)}
			}},
		{name: "withdrawal", method: "POST", path: "/v1/patents/{n}/declarations/{decl}/withdrawal", status: 200, allowed: patenteeSide,
			target: w.declared, body: func(_ authzTarget, a authzCaller) any {
				return map[string]any{"effective_on": "2024-06-15", "reason": "拟转为普通许可", "co_owner_consent": w.consent(a)}
			}},
		{name: "open licence", method: "POST", path: "/v1/patents/{n}/licenses", status: 201, allowed: []string{callAdmin, callLicensee},
			target: w.declared, body: func(t authzTarget, _ authzCaller) any {
				return map[string]any{"type": "open", "licensee_id": w.sme.id, "effective_on": "2024-06-10", "fee_paid_fen": 0,
					"declaration_id": t.declID}
			}},
		{name: "ordinary licence", method: "POST", path: "/v1/patents/{n}/licenses", status: 201, allowed: patenteeSide, target: w.patent,
			body: w.negotiated("ordinary")},
		{name: "sole licence", method: "POST", path: "/v1/patents/{n}/licenses", status: 201, allowed: patenteeSide, target: w.patent,
			body: w.negotiated("sole")},
		{name: "exclusive licence", method: "POST", path: "/v1/patents/{n}/licenses", status: 201, allowed: patenteeSide, target: w.patent,
			body: w.negotiated("exclusive")},
		{name: "recordal", method: "POST", path: "/v1/licenses/{lic}/recordal", status: 200,
			allowed: []string{callAdmin, callPatentee, callCoOwner, callLicensee}, target: w.patent,
			body: func(authzTarget, authzCaller) any {
				return map[string]any{"record_no": "2024440000009999", "recorded_on": "2024-06-01"}
			}},
		{name: "royalty", method: "POST", path: "/v1/licenses/{lic}/royalties", status: 201,
			allowed: []string{callAdmin, callPatentee, callCoOwner, callLicensee}, target: w.patent,
			body: func(authzTarget, authzCaller) any {
				return map[string]any{"paid_on": "2024-06-01", "amount_fen": 10_000, "period": "2023"}
			}},
		{name: "transfer", method: "POST", path: "/v1/patents/{n}/transfers", status: 201, allowed: patenteeSide, target: w.patent,
			body: func(_ authzTarget, a authzCaller) any {
				return map[string]any{"to_ids": []string{w.sme.id}, "effective_on": "2024-06-01", "price_fen": 0,
					"co_owner_consent": w.consent(a)}
			}},
		{name: "pledge", method: "POST", path: "/v1/pledges", status: 201, allowed: []string{callAdmin, callPledgee}, target: w.patent,
			body: func(t authzTarget, _ authzCaller) any {
				return map[string]any{"pledgor_id": w.uni.id, "pledgee_id": w.bank.id, "patents": []string{t.number},
					"secured_amount_fen": 1_000_000, "registered_on": "2024-06-01", "debt_due_on": "2026-06-01",
					"open_license_consent": false, "co_owner_consent": []string{w.co.id}}
			}},
		{name: "pledge consent", method: "POST", path: "/v1/pledges/{pledge}/consent", status: 200, allowed: []string{callAdmin, callPledgee},
			target: w.pledged, body: func(authzTarget, authzCaller) any { return map[string]any{"consented_on": "2024-06-15"} }},
		{name: "pledge release", method: "POST", path: "/v1/pledges/{pledge}/release", status: 200, allowed: []string{callAdmin, callPledgee},
			target: w.pledged, body: func(authzTarget, authzCaller) any {
				return map[string]any{"released_on": "2024-06-20", "reason": "repaid"}
			}},
		{name: "review", method: "POST", path: "/v1/patents/{n}/reviews", status: 201, allowed: patenteeSide, target: w.patent,
			body: func(authzTarget, authzCaller) any {
				return map[string]any{"campaign": "2024", "reviewed_on": "2024-06-30", "grade": "high", "disposition": "open_license"}
			}},
		{name: "review correction", method: "PUT", path: "/v1/patents/{n}/reviews/2024", status: 200, allowed: patenteeSide,
			target: w.reviewed, body: func(authzTarget, authzCaller) any {
				return map[string]any{"reviewed_on": "2024-06-30", "grade": "medium", "disposition": "license"}
			}},
		{name: "import", method: "POST", path: "/v1/imports/patents", status: 200, allowed: patenteeSide, target: fresh, csv: true},
	}
}

// negotiated is the body of a negotiated licence of type typ to the SME.
func (w *authzWorld) negotiated(typ string) func(authzTarget, authzCaller) any {
	return func(_ authzTarget, a authzCaller) any {
		body := map[string]any{"type": typ, "licensee_id": w.sme.id, "effective_on": "2024-06-01", "ends_on": "2025-05-31",
			"fee_paid_fen": 200_000}
		if typ != "ordinary" { // a co-owner alone may grant ordinary licences only (PL 14)
			body["co_owner_consent"] = w.consent(a)
		}
		return body
	}
}

// request is the route's request on t by a.
func (w *authzWorld) request(r authzRoute, t authzTarget, a authzCaller) oasCall {
	c := oasCall{method: r.method, path: t.fill(r.path)}
	switch {
	case r.csv:
		c.raw = fmt.Appendf(nil, "number,title,patentees,ipc,filed_on,granted_on\n%s,一种图像识别方法,%s;%s,G06K 9/62,2020-04-01,2022-06-01\n",
			t.number, w.uni.id, w.co.id)
		c.contentType = "text/csv"
	case r.body != nil:
		c.body = r.body(t, a)
	}
	return a.call(c)
}

// TestAuthzWriteMatrix sends every write route of CONTRACT.md from every
// caller. A caller the contract allows succeeds (on a fact of its own, so
// that one success does not spoil the next); any other answers 401 without
// a valid key and 403 with one, on the same fact, and writes nothing. A
// refused import is the exception the contract makes: 200, with every row
// rejected as forbidden.
func TestAuthzWriteMatrix(t *testing.T) {
	w := newAuthzWorld(t, func(c *Config) { c.RateLimit = 10_000 })
	// The matrix presents dozens of keys that do not authenticate from one
	// address; TestE2EGuessingKeysIsSlowedDown and
	// TestAuthzSigninCountsFailedKeys test the limit on them.
	w.h.server.keyGuesses = newKeyGuesses(1000, 1000)
	for _, r := range w.routes() {
		shared := r.target()
		for _, a := range w.callers {
			t.Run(r.name+"/"+a.name, func(t *testing.T) {
				w.h.t = t
				if slices.Contains(r.allowed, a.name) {
					w.allowed(r, a)
				} else {
					w.refused(r, shared, a)
				}
			})
		}
	}
}

// allowed checks that a may write r.
func (w *authzWorld) allowed(r authzRoute, a authzCaller) {
	before := w.head()
	c := w.request(r, r.target(), a)
	c.want = r.status
	reply := w.h.do(c)
	if r.csv && reply.num("imported") != 1 {
		w.h.t.Errorf("the import by the %s imported nothing: %s", a.name, reply.body)
	}
	if w.head() <= before {
		w.h.t.Errorf("the %s's %s wrote nothing", a.name, r.name)
	}
}

// refused checks that a may not write r on t, and that trying writes
// nothing.
func (w *authzWorld) refused(r authzRoute, t authzTarget, a authzCaller) {
	before := w.head()
	c := w.request(r, t, a)
	c.want, c.code = http.StatusForbidden, "forbidden"
	switch {
	case slices.Contains(unauthenticatedCallers, a.name):
		c.want, c.code = http.StatusUnauthorized, "unauthenticated"
	case r.csv && a.name != callRegulator:
		c.want, c.code = http.StatusOK, ""
	}
	reply := w.h.do(c)
	if c.want == http.StatusOK {
		w.checkRowsForbidden(reply)
	}
	if after := w.head(); after != before {
		w.h.t.Errorf("the %s's refused %s moved the head from %d to %d", a.name, r.name, before, after)
	}
}

// checkRowsForbidden checks an import report whose every row was refused
// as forbidden.
func (w *authzWorld) checkRowsForbidden(r oasReply) {
	rejected, _ := r.obj["rejected"].([]any)
	if r.num("imported") != 0 || len(rejected) == 0 {
		w.h.t.Errorf("an import of another's patents was not refused: %s", r.body)
	}
	for _, row := range rejected {
		if code, _ := row.(map[string]any)["code"].(string); code != "forbidden" {
			w.h.t.Errorf("a row of another's patent was rejected as %q, not forbidden: %s", code, r.body)
		}
	}
}

// TestAuthzReads: without a key, listings, patent detail, tallies and
// rankings (and their downloads) are readable and every other /v1 read
// answers 401; any organisation's key reads the rest; a regulator reads
// everything; a key that does not authenticate answers 401 even on an open
// read.
func TestAuthzReads(t *testing.T) {
	w := newAuthzWorld(t, nil)
	p := w.declared()
	w.h.last = w.head()
	w.h.smokeReads("", w.uni.id)
	w.h.smokeReads(w.reg.key, w.uni.id)
	keyed := []string{"/v1/patents/" + p.number + "/history", "/v1/orgs/" + w.uni.id, "/v1/orgs/" + w.bank.id, "/v1/ledger/head"}
	for _, path := range keyed {
		w.h.do(oasCall{method: "GET", path: path, want: 401, code: "unauthenticated", docRejects: true})
		w.h.do(oasCall{method: "GET", path: path, key: w.reg.key, want: 200})
		w.h.do(oasCall{method: "GET", path: path, key: w.sme2.key, want: 200})
	}
	w.h.do(oasCall{method: "GET", path: "/v1/patents/" + p.number, want: 200})
	w.h.do(oasCall{method: "GET", path: "/v1/patents/" + p.number, key: w.reg.key, want: 200})
	for _, a := range w.callers[1:4] { // the unknown key, the malformed header and the revoked key
		c := a.call(oasCall{method: "GET", path: "/v1/listings", want: 401, code: "unauthenticated"})
		c.docRejects = false
		c.noRequestCheck = true
		w.h.do(c)
	}
}

// TestAuthzBearerScheme: the scheme is case-insensitive and followed by one
// or more spaces and a token (RFC 9110 §11.1, RFC 6750 §2.1); an empty
// token, another scheme, an empty header or more than one Authorization
// header answer 401, on an open read as on any other route.
func TestAuthzBearerScheme(t *testing.T) {
	w := newAuthzWorld(t, nil)
	cases := []struct {
		name    string
		headers []string
		want    int
	}{
		{"Bearer", []string{"Bearer " + oasAdminKey}, 200},
		{"lower case", []string{"bearer " + oasAdminKey}, 200},
		{"upper case, two spaces", []string{"BEARER  " + oasAdminKey}, 200},
		{"no token", []string{"Bearer"}, 401},
		{"a space and no token", []string{"Bearer "}, 401},
		{"a tab instead of a space", []string{"Bearer\t" + oasAdminKey}, 401},
		{"no scheme", []string{oasAdminKey}, 401},
		{"another scheme", []string{"Token " + oasAdminKey}, 401},
		{"an empty header", []string{""}, 401},
		{"two headers", []string{"Bearer " + oasAdminKey, "Bearer " + w.sme.key}, 401},
		{"the same header twice", []string{"Bearer " + oasAdminKey, "Bearer " + oasAdminKey}, 401},
	}
	for _, path := range []string{"/v1/ledger/head", "/v1/listings"} {
		for _, c := range cases {
			status, code := w.get(path, c.headers)
			if status != c.want || (c.want == 401 && code != "unauthenticated") {
				t.Errorf("GET %s with %s: %d %q, want %d", path, c.name, status, code, c.want)
			}
		}
	}
}

// get sends GET path with the Authorization header lines given and returns
// the status and the problem code.
func (w *authzWorld) get(path string, authorization []string) (int, string) {
	w.t.Helper()
	req, err := http.NewRequest("GET", w.h.http.URL+path, nil)
	w.check(err)
	for _, v := range authorization {
		req.Header.Add("Authorization", v)
	}
	resp, err := w.h.client.Do(req)
	w.check(err)
	defer resp.Body.Close()
	var p Problem
	_ = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Code
}

// TestAuthzWebForms: the declaration and withdrawal forms act for the
// signed-in organisation under the API's rules: a patentee's succeed; a
// regulator's, an unrelated organisation's, a bank's, and a session whose
// key has been revoked since, write nothing.
func TestAuthzWebForms(t *testing.T) {
	w := newAuthzWorld(t, nil)
	ctx := context.Background()
	own, decl := w.number(), w.number()
	for _, n := range []string{own, decl} {
		_, err := w.svc.RegisterPatent(ctx, authzAdmin, domain.RegisterPatent{Number: n, Title: "一种固态锂电池电解质",
			PatenteeIDs: []string{w.uni.id}, IPC: []string{"H01M 10/0562"}, FiledOn: mustDay("2020-03-15"), GrantedOn: mustDay("2022-01-10")})
		w.check(err)
	}
	res, err := w.svc.FileDeclaration(ctx, authzAdmin, domain.PatentNumber(decl), domain.FileDeclaration{
		Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 12, DeclaredOn: mustDay("2024-06-01")})
	w.check(err)
	declare := url.Values{"mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	withdraw := url.Values{"declaration_id": {res.ID}, "effective_on": {"2024-06-15"}, "reason": {"重新定价"}}

	spare := w.h.do(oasCall{method: "POST", path: "/v1/orgs/" + w.uni.id + "/keys", key: oasAdminKey, want: 201})
	revokedSession := w.signin(spare.str("key"))
	w.h.do(oasCall{method: "POST", path: "/v1/orgs/" + w.uni.id + "/keys/" + spare.str("key_id") + "/revocation",
		key: oasAdminKey, want: 200})
	for _, s := range []struct {
		name string
		c    *http.Client
		want int
	}{
		{callRegulator, w.signin(w.reg.key), 403},
		{callUnrelated, w.signin(w.sme2.key), 403},
		{callPledgee, w.signin(w.bank.key), 403},
		{callRevoked, revokedSession, 303}, // to the sign-in page
	} {
		for _, f := range []struct {
			path string
			form url.Values
		}{{"/patents/" + own + "/declare", declare}, {"/patents/" + decl + "/withdraw", withdraw}} {
			before := w.head()
			if status, location := w.postForm(s.c, f.path, f.form); status != s.want || (s.want == 303 && !strings.HasPrefix(location, "/signin")) {
				t.Errorf("%s: POST %s answered %d %s, want %d", s.name, f.path, status, location, s.want)
			}
			if w.head() != before {
				t.Errorf("%s: POST %s wrote", s.name, f.path)
			}
		}
	}
	uni := w.signin(w.uni.key)
	for _, path := range []string{"/patents/" + own + "/declare", "/patents/" + decl + "/withdraw"} {
		form := declare
		if strings.HasSuffix(path, "withdraw") {
			form = withdraw
		}
		before := w.head()
		if status, _ := w.postForm(uni, path, form); status != 303 || w.head() != before+1 {
			t.Errorf("the patentee: POST %s answered %d", path, status)
		}
	}
	if status, _, _ := signIn(t, browser(t), w.h.http.URL+"/signin", oasAdminKey); status != 401 {
		t.Errorf("the admin key signed in to the web pages: %d", status)
	}
}

// signin returns a browser signed in with key.
func (w *authzWorld) signin(key string) *http.Client {
	c := browser(w.t)
	if status, _, _ := signIn(w.t, c, w.h.http.URL+"/signin", key); status != 303 {
		w.t.Fatalf("sign-in answered %d", status)
	}
	return c
}

// postForm posts form to path with the CSRF token of the browser's
// session, and returns the status and the Location header.
func (w *authzWorld) postForm(c *http.Client, path string, form url.Values) (int, string) {
	w.t.Helper()
	_, me, _ := get(w.t, c, w.h.http.URL+"/patents/"+strings.Split(path, "/")[2])
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, rest, ok := strings.Cut(me, `name="csrf" value="`); ok {
		f.Set("csrf", rest[:strings.Index(rest, `"`)])
	}
	status, _, h := post(w.t, c, w.h.http.URL+path, f)
	return status, h.Get("Location")
}

// TestAuthzSigninCountsFailedKeys: a key the sign-in form refuses counts
// against the client's address as one the API refuses, so the form is no
// faster a way to guess keys.
func TestAuthzSigninCountsFailedKeys(t *testing.T) {
	h := oasNewHarness(t, nil)
	statuses := map[int]int{}
	c := browser(t)
	for i := range 40 {
		status, _, _ := signIn(t, c, h.http.URL+"/signin", fmt.Sprintf("lk_org_key_guess%d", i))
		statuses[status]++
	}
	if statuses[401] == 0 || statuses[429] == 0 || statuses[401]+statuses[429] != 40 {
		t.Fatalf("40 wrong keys at the sign-in form answered %v", statuses)
	}
}

// lockedBuffer is a buffer the server's goroutines may log to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAuthzKeysStayOutOfLogsAndAnswers: keys, good or bad, sent in the
// header or the sign-in form, appear neither in the server's log (at debug
// level) nor in its answers.
func TestAuthzKeysStayOutOfLogsAndAnswers(t *testing.T) {
	var logs lockedBuffer
	w := newAuthzWorld(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	secretOf := func(key string) string { return key[strings.LastIndex(key, "_")+1:] }
	guess := "lk_" + w.uni.id + "_0000000000000000_" + strings.Repeat("7", 48)
	var answers []string
	for _, c := range []oasCall{
		{method: "POST", path: "/v1/patents/" + w.number() + "/status", key: w.uni.key, want: 404, code: "not_found",
			body: map[string]any{"suspended": false}},
		{method: "GET", path: "/v1/ledger/head", key: guess, want: 401, code: "unauthenticated"},
		{method: "GET", path: "/v1/ledger/head", authorization: "Bearer" + guess, want: 401, code: "unauthenticated", docRejects: true},
		{method: "GET", path: "/v1/ledger/head", authorization: "Basic " + w.sme.key, want: 401, code: "unauthenticated", docRejects: true},
		{method: "POST", path: "/v1/orgs", key: w.reg.key, want: 403, code: "forbidden", body: map[string]any{"name": "x"},
			docRejects: true},
	} {
		answers = append(answers, string(w.h.do(c).body))
	}
	for _, key := range []string{guess, w.sme2.key} {
		_, page, _ := signIn(t, browser(t), w.h.http.URL+"/signin", key)
		answers = append(answers, page)
	}
	for _, secret := range []string{oasAdminKey, secretOf(w.uni.key), secretOf(guess), secretOf(w.sme.key), secretOf(w.sme2.key),
		secretOf(w.reg.key)} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds a key's secret %q:\n%s", secret, logs.String())
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("an answer holds a key's secret %q:\n%s", secret, a)
			}
		}
	}
	if !strings.Contains(logs.String(), "/v1/ledger/head") {
		t.Fatal("the server logged no requests; the test looks at the wrong log")
	}
}

// TestAuthzIdempotencyKeyIsTheCallers: another organisation repeating a
// write with the same Idempotency-Key and body gets its own answer (403),
// not the first caller's result.
func TestAuthzIdempotencyKeyIsTheCallers(t *testing.T) {
	w := newAuthzWorld(t, nil)
	p := w.declared()
	licence := oasCall{method: "POST", path: "/v1/patents/" + p.number + "/licenses", idemKey: "order-1", body: map[string]any{
		"type": "open", "licensee_id": w.sme.id, "effective_on": "2024-06-10", "fee_paid_fen": 0, "declaration_id": p.declID}}
	first := licence
	first.key, first.want = w.sme.key, 201
	w.h.do(first)
	before := w.head()
	for _, key := range []string{w.sme2.key, w.uni.key, w.reg.key} {
		again := licence
		again.key, again.want, again.code = key, 403, "forbidden"
		w.h.do(again)
	}
	if w.head() != before {
		t.Fatal("a repeat by another organisation wrote")
	}
}
