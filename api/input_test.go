package api

// Input handling: every refused input answers 400 invalid_argument naming
// the offending field or parameter, and writes nothing.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/patentledger/ledger/domain"
)

// inputPathValues fills the path parameters of a write; decoding comes
// before the command, so they need not name anything that exists.
var inputPathValues = map[string]string{"{license_id}": "L1", "{pledge_id}": "P1", "{declaration_id}": "D1",
	"{campaign}": "2024", "{id}": "org1"}

// inputFields returns the problem's errors[].field values.
func inputFields(r oasReply) []string {
	var out []string
	errs, _ := r.obj["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// inputHead returns the ledger's head position.
func inputHead(h *oasHarness) int64 {
	return h.do(oasCall{method: "GET", path: "/v1/ledger/head", key: oasAdminKey, want: 200}).num("position")
}

// inputRefused sends c, which must answer 400 invalid_argument naming field
// and write nothing.
func inputRefused(t *testing.T, h *oasHarness, c oasCall, field string) {
	t.Helper()
	before := inputHead(h)
	c.want, c.code = 400, "invalid_argument"
	r := h.do(c)
	if !slices.Contains(inputFields(r), field) {
		t.Errorf("%s: errors do not name %s: %s", c.name(), field, r.body)
	}
	if after := inputHead(h); after != before {
		t.Errorf("%s: the head moved from %d to %d", c.name(), before, after)
	}
}

// TestRequiredFields leaves out, nulls and blanks each field the document
// requires of each JSON write body (nested ones like fee.mode included):
// every time the answer is 400 naming the field, and nothing is written.
func TestRequiredFields(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.RateLimit = 1e6 })
	n := 0
	for key, op := range oasOperations(h.doc) {
		method, path, _ := strings.Cut(key, " ")
		if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
			continue
		}
		media := op.RequestBody.Value.Content.Get("application/json")
		for k, v := range inputPathValues {
			path = strings.ReplaceAll(path, k, v)
		}
		path = strings.ReplaceAll(path, "{number}", oasUnknownNumber(t))
		for _, field := range inputRequired(media.Schema.Value, "") {
			for _, variant := range []string{"absent", "null", "blank"} {
				body := inputWithout(t, media.Example, field, variant)
				if body == nil {
					continue
				}
				inputRefused(t, h, oasCall{method: method, path: path, key: oasAdminKey, raw: body,
					docRejects: variant != "blank", noRequestCheck: variant == "blank"}, field)
				n++
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d cases; the document's required lists were not found", n)
	}
}

// inputRequired lists the required fields of an object schema and of its
// nested objects ("fee.mode").
func inputRequired(s *openapi3.Schema, prefix string) []string {
	out := []string{}
	for _, name := range s.Required {
		out = append(out, prefix+name)
	}
	for name, p := range s.Properties {
		if v := p.Value; v.Type.Is("object") || len(v.AllOf) == 1 && v.AllOf[0].Value.Type.Is("object") {
			if len(v.AllOf) == 1 {
				v = v.AllOf[0].Value
			}
			out = append(out, inputRequired(v, prefix+name+".")...)
		}
	}
	return out
}

// inputWithout returns the example body with the field (a dotted path)
// left out (absent), set to null, or set to "  " (blank; nil when the
// example's value is not a string).
func inputWithout(t *testing.T, example any, field, variant string) []byte {
	t.Helper()
	data, _ := json.Marshal(example)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	obj := body
	parts := strings.Split(field, ".")
	for _, p := range parts[:len(parts)-1] {
		obj = obj[p].(map[string]any)
	}
	last := parts[len(parts)-1]
	switch variant {
	case "absent":
		delete(obj, last)
	case "null":
		obj[last] = nil
	case "blank":
		if _, ok := obj[last].(string); !ok {
			return nil
		}
		obj[last] = "  "
	}
	out, _ := json.Marshal(body)
	return out
}

// inputCommands is the command each JSON write body decodes into, by the
// route as echo writes it.
var inputCommands = map[string]any{
	"POST /v1/orgs": domain.RegisterOrg{}, "POST /v1/patents": domain.RegisterPatent{},
	"POST /v1/patents/:number/status": domain.ChangeStatus{}, "POST /v1/patents/:number/declarations": domain.FileDeclaration{},
	"POST /v1/patents/:number/declarations/:declaration_id/withdrawal": domain.WithdrawDeclaration{},
	"POST /v1/patents/:number/licenses":                                domain.GrantLicense{}, "POST /v1/licenses/:license_id/recordal": domain.RecordLicense{},
	"POST /v1/licenses/:license_id/royalties": domain.PayRoyalty{}, "POST /v1/patents/:number/transfers": domain.TransferPatent{},
	"POST /v1/pledges": domain.RegisterPledge{}, "POST /v1/pledges/:pledge_id/consent": domain.ConsentPledge{},
	"POST /v1/pledges/:pledge_id/release": domain.ReleasePledge{}, "POST /v1/patents/:number/reviews": domain.RecordReview{},
	"PUT /v1/patents/:number/reviews/:campaign": domain.RecordReview{},
}

// TestRequiredFieldsAgree checks that every required field of the
// document's write bodies is a JSON field of the command the handler
// decodes into, so that a required list cannot name a field the server
// does not know.
func TestRequiredFieldsAgree(t *testing.T) {
	commands := inputCommands
	schemas := bodySchemas()
	if len(schemas) != len(commands) {
		t.Errorf("the document has %d JSON write bodies, the test knows %d", len(schemas), len(commands))
	}
	for route, cmd := range commands {
		if schemas[route] == nil && route != "POST /v1/patents/:number/status" {
			t.Errorf("%s: no required fields read from the document", route)
		}
		inputCheckFields(t, route, reflect.TypeOf(cmd), schemas[route])
	}
}

// inputCheckFields checks that the required and nested fields of b are
// JSON fields of the struct type typ.
func inputCheckFields(t *testing.T, route string, typ reflect.Type, b *bodySchema) {
	if b == nil {
		return
	}
	fields := jsonFields(typ)
	for _, name := range b.required {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s: required field %s is not a field of %s", route, name, typ)
		}
	}
	for name, nested := range b.nested {
		if i, ok := fields[name]; ok && isPlainStruct(typ.Field(i).Type) {
			inputCheckFields(t, route+" "+name, typ.Field(i).Type, nested)
		}
	}
}

// TestExplicitZeroStaysValid sends required fields as explicit zero values
// the domain allows (sme false, price 0): they are present, so accepted.
func TestExplicitZeroStaysValid(t *testing.T) {
	h := oasNewHarness(t, nil)
	uni := h.org("中山大学", "university", "440105", "12440000455350000", false)
	buyer := h.org("广州小微科技有限公司", "enterprise", "440106", "91440101MA5CY0000", true)
	p, _ := oasNumber(t, "202010765432")
	h.do(oasCall{method: "POST", path: "/v1/patents", key: uni.key, want: 201, body: map[string]any{
		"number": p, "title": "一种传感器", "patentee_ids": []string{uni.id}, "ipc": []string{"H01M 10/0562"},
		"filed_on": "2020-03-15", "granted_on": "2022-01-10"}})
	h.do(oasCall{method: "POST", path: "/v1/patents/" + p + "/transfers", key: uni.key, want: 201, body: map[string]any{
		"to_ids": []string{buyer.id}, "effective_on": "2024-06-01", "price_fen": 0}})
}

// TestInvalidUTF8Body sends text that is not UTF-8 (a raw 0xFF byte, lone
// surrogate escapes) in a field, a nested field and a key: 400 naming the
// field (the body when the key is broken), and nothing is written.
func TestInvalidUTF8Body(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := `{"name":%s,"kind":"university","region_code":"440106","credit_code":"12440000455416125F","sme":false}`
	for _, name := range []string{"\"中山\xff大学\"", `"中山\ud800大学"`, `"\udc00"`, `"a\ud800"`, `"\ud800\u0041"`, `"\ud83d\ud83d"`} {
		inputRefused(t, h, oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, raw: []byte(fmt.Sprintf(org, name)),
			noRequestCheck: true}, "name")
	}
	inputRefused(t, h, oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, noRequestCheck: true,
		raw: []byte(strings.Replace(fmt.Sprintf(org, `"x"`), `"sme"`, "\"sme\xff\"", 1))}, "body")
	declaration := `{"fee":{"mode":"lump_sum","lump_sum_fen":1,"royalty_base":"\ud800"},"term_months":12,"declared_on":"2024-06-01"}`
	inputRefused(t, h, oasCall{method: "POST", path: "/v1/patents/" + oasUnknownNumber(t) + "/declarations", key: oasAdminKey,
		noRequestCheck: true, raw: []byte(declaration)}, "fee.royalty_base")

	// A surrogate pair, escaped backslashes and plain Chinese stay valid.
	h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, want: 201,
		raw: []byte(fmt.Sprintf(org, `"中山大学 \ud83d\ude00 \\ud800"`))})
}

// v1Operation is an operation of the document under /v1, its path
// parameters filled in (inputPathValues, a patent number never stored),
// and the query parameters it takes.
type v1Operation struct {
	method, path string
	query        []*openapi3.Parameter
}

// v1Operations returns the document's /v1 operations.
func v1Operations(t *testing.T, h *oasHarness) []v1Operation {
	var out []v1Operation
	for key, op := range oasOperations(h.doc) {
		method, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		for k, v := range inputPathValues {
			path = strings.ReplaceAll(path, k, v)
		}
		o := v1Operation{method: method, path: strings.ReplaceAll(path, "{number}", oasUnknownNumber(t))}
		for _, p := range op.Parameters {
			if p.Value.In == "query" {
				o.query = append(o.query, p.Value)
			}
		}
		out = append(out, o)
	}
	return out
}

// TestRepeatedQueryParameter gives, on every /v1 operation, a query
// parameter the operation takes twice: 400 naming it, nothing written.
func TestRepeatedQueryParameter(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.RateLimit = 1e6 })
	n := 0
	for _, op := range v1Operations(t, h) {
		for _, p := range op.query {
			value := "1"
			if ex := p.Schema.Value.Example; ex != nil {
				value = fmt.Sprint(ex)
			}
			q := url.Values{p.Name: {value, value}}
			inputRefused(t, h, oasCall{method: op.method, path: op.path + "?" + q.Encode(), key: oasAdminKey, noRequestCheck: true}, p.Name)
			n++
		}
	}
	if n < 40 {
		t.Errorf("only %d cases; the document's query parameters were not found", n)
	}
}

// TestUnreadableQueryParameter gives, on every /v1 operation, a query
// parameter the operation takes with a broken %-escape and with a ';' in
// it, which the query's parser would silently drop (?dry_run=true% would
// import for real): 400 naming it, nothing written. A name that cannot be
// read is named "query", as is a query of too many parameters.
func TestUnreadableQueryParameter(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.RateLimit = 1e6 })
	n := 0
	for _, op := range v1Operations(t, h) {
		for _, p := range op.query {
			for _, raw := range []string{p.Name + "=true%", p.Name + "=1%2", p.Name + "=1;x=2"} {
				inputRefused(t, h, oasCall{method: op.method, path: op.path + "?" + raw, key: oasAdminKey, noRequestCheck: true}, p.Name)
			}
			n++
		}
		inputRefused(t, h, oasCall{method: op.method, path: op.path + "?%zz=1", key: oasAdminKey, noRequestCheck: true}, "query")
		// More than 10,000 parameters read as none to the standard library:
		// ?dry_run=true and 10,000 more imported for real.
		for _, p := range op.query {
			inputRefused(t, h, oasCall{method: op.method, path: op.path + "?" + p.Name + "=1" + strings.Repeat("&", 10_000),
				key: oasAdminKey, noRequestCheck: true}, "query")
		}
	}
	if n < 40 {
		t.Errorf("only %d cases; the document's query parameters were not found", n)
	}
}

// TestReviewTallyCampaign checks that the reviews tally refuses a campaign
// the review writes and the review coverage refuse, and takes a good one.
func TestReviewTallyCampaign(t *testing.T) {
	h := oasNewHarness(t, nil)
	for _, path := range []string{"/v1/tallies/reviews?from=2024-01-01&to=2024-12-31&campaign=bad%20campaign",
		"/v1/tallies/review-coverage?campaign=bad%20campaign"} {
		inputRefused(t, h, oasCall{method: "GET", path: path, docRejects: true}, "campaign")
	}
	h.do(oasCall{method: "GET", path: "/v1/tallies/reviews?from=2024-01-01&to=2024-12-31&campaign=2024", want: 200})
}

// TestFeeFieldPaths checks that every error about fee terms names its
// field as fee.<name>, as invalid input (400) and as invalid_fee_terms (409).
func TestFeeFieldPaths(t *testing.T) {
	h := oasNewHarness(t, nil)
	uni := h.org("中山大学", "university", "440105", "12440000455350000", false)
	p, _ := oasNumber(t, "202010765432")
	h.do(oasCall{method: "POST", path: "/v1/patents", key: uni.key, want: 201, body: map[string]any{
		"number": p, "title": "一种传感器", "patentee_ids": []string{uni.id}, "ipc": []string{"H01M 10/0562"},
		"filed_on": "2020-03-15", "granted_on": "2022-01-10"}})
	declare := func(fee map[string]any, want int, docRejects bool, fields ...string) {
		t.Helper()
		before := inputHead(h)
		c := oasCall{method: "POST", path: "/v1/patents/" + p + "/declarations", key: uni.key, want: want, docRejects: docRejects,
			body: map[string]any{"fee": fee, "term_months": 12, "declared_on": "2024-06-01"}}
		c.code, c.rule = "invalid_argument", ""
		if want == 409 {
			c.code, c.rule = "rule_violation", "invalid_fee_terms"
		}
		got := inputFields(h.do(c))
		slices.Sort(got)
		if !slices.Equal(got, fields) {
			t.Errorf("fee %v: fields %v, want %v", fee, got, fields)
		}
		if inputHead(h) != before {
			t.Errorf("fee %v: written", fee)
		}
	}
	declare(map[string]any{"mode": "royalty", "royalty_bp": 300, "royalty_base": "gross"}, 400, true, "fee.royalty_base")
	declare(map[string]any{"mode": "barter"}, 400, true, "fee.mode")
	declare(map[string]any{"mode": "lump_sum", "royalty_bp": 300}, 409, false, "fee.lump_sum_fen", "fee.royalty_bp")
	declare(map[string]any{"mode": "instalment", "instalment_fen": 100, "instalments": 1}, 409, true, "fee.instalments")
}

// TestFeeTermNamesAreOnlyFeeTerms backs feeFieldPaths: no request body
// property and no query parameter of the document other than the fee
// terms' own uses one of their names, so a bare one can only be a fee field.
func TestFeeTermNamesAreOnlyFeeTerms(t *testing.T) {
	doc := oasLoad(t)
	for name, s := range doc.Components.Schemas {
		for prop := range s.Value.Properties {
			if _, fee := feeTermNames[prop]; fee && name != "FeeTerms" && inputIsRequestSchema(doc, name) {
				t.Errorf("request schema %s has a property %s, a fee-terms name", name, prop)
			}
		}
	}
	for key, op := range oasOperations(doc) {
		for _, p := range op.Parameters {
			if _, fee := feeTermNames[p.Value.Name]; fee {
				t.Errorf("%s takes a parameter %s, a fee-terms name", key, p.Value.Name)
			}
		}
	}
}

// inputIsRequestSchema reports whether the named schema is the JSON body of
// a request.
func inputIsRequestSchema(doc *openapi3.T, name string) bool {
	for _, op := range oasOperations(doc) {
		if op.RequestBody == nil {
			continue
		}
		if media := op.RequestBody.Value.Content.Get("application/json"); media != nil && media.Schema.Ref == "#/components/schemas/"+name {
			return true
		}
	}
	return false
}

// TestHistoryPages follows the Link rel="next" headers through a history
// longer than a page (1025 events, pages of 1000 and of 10): every event
// once, in order, and no Link on the last page, even a full one.
func TestHistoryPages(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.RateLimit = 1e6 })
	uni := h.org("中山大学", "university", "440105", "12440000455350000", false)
	p, _ := oasNumber(t, "202010765432")
	h.do(oasCall{method: "POST", path: "/v1/patents", key: uni.key, want: 201, body: map[string]any{
		"number": p, "title": "一种传感器", "patentee_ids": []string{uni.id}, "ipc": []string{"H01M 10/0562"},
		"filed_on": "2020-03-15", "granted_on": "2022-01-10"}})
	const events = 1025
	ctx := context.Background()
	req := domain.Request{Actor: domain.AdminActor}
	for i := 1; i < events; i++ {
		suspended := i%2 == 1
		if _, err := h.server.svc.ChangeStatus(ctx, req, domain.PatentNumber(p), domain.ChangeStatus{Suspended: &suspended}); err != nil {
			t.Fatal(err)
		}
	}
	for _, first := range []string{"", "?limit=10"} {
		var versions []int64
		pages := 0
		for path := "/v1/patents/" + p + "/history" + first; path != ""; pages++ {
			r := h.do(oasCall{method: "GET", path: path, key: oasAdminKey, want: 200})
			var page []historyEntry
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				versions = append(versions, e.Version)
			}
			path = inputNextLink(t, r.header.Get("Link"))
		}
		if len(versions) != events || versions[0] != 1 || versions[events-1] != events || !slices.IsSorted(versions) {
			t.Errorf("%s: %d events over %d pages, want %d in order", first, len(versions), pages, events)
		}
	}
	last := h.do(oasCall{method: "GET", path: "/v1/patents/" + p + "/history?after_version=1015&limit=10", key: oasAdminKey, want: 200})
	if link := last.header.Get("Link"); link != "" {
		t.Errorf("the last page, though full, has Link %q", link)
	}

	// The patent's web page pages its history the same way.
	first := string(h.do(oasCall{method: "GET", path: "/patents/" + p + "?lang=en", want: 200}).body)
	next := `rel="next" href="?history_after=1000&amp;lang=en"`
	if n := strings.Count(first, `class="pos"`); n != 1000 || !strings.Contains(first, next) || strings.Contains(first, "starts at version") {
		t.Errorf("web page: %d events, next link %v", n, strings.Contains(first, next))
	}
	rest := string(h.do(oasCall{method: "GET", path: "/patents/" + p + "?history_after=1000&lang=en", want: 200}).body)
	if n := strings.Count(rest, `class="pos"`); n != 25 || strings.Contains(rest, `rel="next"`) ||
		!strings.Contains(rest, "This page starts at version 1001") {
		t.Errorf("web page after version 1000: %d events", n)
	}
	h.do(oasCall{method: "GET", path: "/patents/" + p + "?history_after=-1", want: 400, docRejects: true})
}

// inputNextLink returns the target of a Link rel="next" header; "" when
// there is none.
func inputNextLink(t *testing.T, link string) string {
	t.Helper()
	if link == "" {
		return ""
	}
	target, ok := strings.CutSuffix(link, `>; rel="next"`)
	if !ok || !strings.HasPrefix(target, "</v1/patents/") {
		t.Fatalf("Link %q", link)
	}
	return target[1:]
}
