package api

// Bad write bodies and headers: each answers 4xx problem JSON naming the
// offending field by its path in the body, and writes nothing.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestBadBodyFieldPaths sends bodies that are well-formed JSON but wrong
// inside a list item, or that give a key twice: 400 invalid_argument
// naming the field's path ("feedback[1].interest", "fee.mode"), before the
// command looks for the patent, and nothing is written.
func TestBadBodyFieldPaths(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.RateLimit = 1e6 })
	n := oasUnknownNumber(t)
	review := func(feedback string) string {
		return `{"campaign":"2024","reviewed_on":"2024-06-30","grade":"high","disposition":"open_license","feedback":` + feedback + `}`
	}
	patent := func(ipc string) string {
		return `{"number":"` + n + `","title":"一种传感器","patentee_ids":["o1"],"ipc":` + ipc + `,"filed_on":"2020-03-15","granted_on":"2022-01-10"}`
	}
	for _, tc := range []struct {
		name, path, body, field string
		docRejects              bool
	}{
		{"an unknown field in a list item", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":"o1","interest":"high","zz":1}]`), "feedback[0].zz", true},
		{"a required field left out of a list item", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":"o1","interest":"high"},{"org_id":"o2"}]`), "feedback[1].interest", true},
		{"a required field blank in a list item", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":" ","interest":"low"}]`), "feedback[0].org_id", false},
		{"a list item that is not an object", "/v1/patents/" + n + "/reviews", review(`[null]`), "feedback[0]", true},
		{"an unknown enum value in a list item", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":"o1","interest":"high"},{"org_id":"o2","interest":"keen"}]`), "feedback[1].interest", true},
		{"a wrong type in a list item's field", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":7,"interest":"high"}]`), "feedback[0].org_id", true},
		{"a list item's organisation given twice", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":"o1","interest":"high"},{"org_id":"o1","interest":"low"}]`), "feedback[1].org_id", false},
		{"a wrong type of list item", "/v1/patents", patent(`["H01M 10/0562", 7]`), "ipc[1]", true},
		{"invalid UTF-8 in a list item", "/v1/patents", patent("[\"H01M 10/0562\", \"H01M\xff\"]"), "ipc[1]", false},
		{"a key given twice", "/v1/orgs",
			`{"name":"中山大学","kind":"university","region_code":"440106","credit_code":"12440000455416125F","sme":true,"sme":false}`, "sme", false},
		{"a key given twice in a nested object", "/v1/patents/" + n + "/declarations",
			`{"fee":{"mode":"free","mode":"lump_sum","lump_sum_fen":100},"term_months":12,"declared_on":"2024-06-01"}`, "fee.mode", false},
		{"a key given twice in a list item", "/v1/patents/" + n + "/reviews",
			review(`[{"org_id":"o1","interest":"high","interest":"low"}]`), "feedback[0].interest", false},
		{"a field with an empty name", "/v1/orgs",
			`{"":1,"name":"中山大学","kind":"university","region_code":"440106","credit_code":"12440000455416125F","sme":true}`, "body", true},
		{"a field with an empty name in a nested object", "/v1/patents/" + n + "/declarations",
			`{"fee":{"mode":"free","":1},"term_months":12,"declared_on":"2024-06-01"}`, "fee", true},
		{"a key given twice, once escaped", "/v1/patents/" + n + "/status", `{"reason":"a","re\u0061son":"b"}`, "reason", false},
		{"a body nested thousands deep", "/v1/pledges",
			`{"a":` + strings.Repeat(`{"k":`, 5000) + "1" + strings.Repeat("}", 5001), "body", false},
		{"a list nested thousands deep", "/v1/orgs", `{"name":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "}", "body", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			inputRefused(t, h, oasCall{method: "POST", path: tc.path, key: oasAdminKey, raw: []byte(tc.body),
				docRejects: tc.docRejects, noRequestCheck: !tc.docRejects}, tc.field)
		})
	}
}

// TestBodyMustBeUTF8JSON: a JSON body declared in another charset answers
// 415 and writes nothing; UTF-8 in any spelling is taken. Every /v1 write,
// one that takes no body included (issuing and revoking a key), answers a
// body of a type it does not read (XML; text/plain too but on the import,
// which reads it as CSV) 415 as its operation in the document says.
func TestBodyMustBeUTF8JSON(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := []byte(`{"name":"中山大学","kind":"university","region_code":"440106","credit_code":"12440000455416125F","sme":false}`)
	before := inputHead(h)
	for _, ct := range []string{"application/json; charset=iso-8859-1", "application/json; charset=gbk"} {
		h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, raw: org, contentType: ct, want: 415,
			code: "unsupported_media_type", noRequestCheck: true})
	}
	writes := 0
	for _, op := range v1Operations(t, h) {
		if op.method != http.MethodPost && op.method != http.MethodPut {
			continue
		}
		for _, ct := range []string{"application/xml", "text/plain"} {
			if ct == "text/plain" && strings.HasPrefix(op.path, "/v1/imports/") {
				continue
			}
			h.do(oasCall{method: op.method, path: op.path, key: oasAdminKey, raw: []byte("<org>x</org>"), contentType: ct,
				want: 415, code: "unsupported_media_type", noRequestCheck: true})
		}
		writes++
	}
	if writes < 17 {
		t.Errorf("only %d writes; the document's writes were not found", writes)
	}
	if after := inputHead(h); after != before {
		t.Errorf("the head moved from %d to %d", before, after)
	}
	h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, raw: org, contentType: "application/json; charset=UTF-8", want: 201})
}

// TestMalformedIdempotencyKey sends Idempotency-Key headers that are there
// but cannot be a key: blank, given twice, with a control character or a
// byte outside printable ASCII. Each answers 400 naming the header and
// writes nothing; a key with an inner space is a key.
func TestMalformedIdempotencyKey(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := `{"name":"中山大学","kind":"university","region_code":"440106","credit_code":"12440000455416125F","sme":false}`
	send := func(keys []string) (int, oasReply) {
		req, _ := http.NewRequest("POST", h.http.URL+"/v1/orgs", strings.NewReader(org))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+oasAdminKey)
		req.Header["Idempotency-Key"] = keys
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		r := oasReply{status: resp.StatusCode, body: body}
		_ = json.Unmarshal(body, &r.obj)
		return resp.StatusCode, r
	}
	for _, keys := range [][]string{{""}, {"   "}, {"order-1", "order-2"}, {"order-1", "order-1"}, {"order\t1"}, {"订单-1"},
		{"order-\xff"}, {strings.Repeat("k", maxIdempotencyKey+1)}} {
		before := inputHead(h)
		status, r := send(keys)
		if status != 400 || r.str("code") != "invalid_argument" || !slices.Contains(inputFields(r), "Idempotency-Key") {
			t.Errorf("Idempotency-Key %q: %d %s", keys, status, r.body)
		}
		if after := inputHead(h); after != before {
			t.Errorf("Idempotency-Key %q: the head moved from %d to %d", keys, before, after)
		}
	}
	if status, r := send([]string{"order 1 of 2024-06-01"}); status != 201 {
		t.Errorf("a key with inner spaces: %d %s", status, r.body)
	}
}

// TestRequiredFieldsOfListItems checks that decodeBody knows the required
// fields of the objects a body's list holds (the feedback of a review), as
// it knows those of the body and its nested objects.
func TestRequiredFieldsOfListItems(t *testing.T) {
	for _, route := range []string{"POST /v1/patents/:number/reviews", "PUT /v1/patents/:number/reviews/:campaign"} {
		items := bodySchemas()[route].child("feedback")
		if items == nil || !slices.Equal(items.required, []string{"org_id", "interest"}) {
			t.Errorf("%s: the feedback items' schema is %+v, want org_id and interest required", route, items)
		}
	}
}

// TestWebFormFieldsGivenOnce posts the declaration form of a signed-in
// patentee with a field given twice and with a malformed % escape: each is
// refused (400, the page naming the field) and writes nothing, where the
// first value used to win and the rest of a malformed form used to be
// read. A form over the body limit answers 413, not that the form expired.
func TestWebFormFieldsGivenOnce(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	if status, _, _ := signIn(t, c, f.url+"/signin", f.uniKey); status != 303 {
		t.Fatalf("sign-in: %d", status)
	}
	page := f.url + "/patents/" + string(f.number)
	_, html, _ := get(t, c, page+"?lang=en")
	token := csrfOf(t, html)
	declare := url.Values{"csrf": {token}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"}}
	for _, tc := range []struct {
		name string
		body io.Reader
		want int
		says string
	}{
		{"a field given twice", strings.NewReader(declare.Encode() + "&mode=lump_sum&lump_sum_fen=100"), 400, "is given 2 times"},
		{"a malformed escape", strings.NewReader(declare.Encode() + "&term_months=%zz"), 400, "Form: has a malformed %-escape in &#34;%zz&#34;"},
		// Chunked, so that only reading it shows it too large.
		{"a body over the limit", io.MultiReader(strings.NewReader(declare.Encode()+"&other_terms="), strings.NewReader(strings.Repeat("x", 1_100_000))),
			413, "Too large"},
	} {
		before := f.head(t)
		resp, err := c.Post(page+"/declare?lang=en", "application/x-www-form-urlencoded", tc.body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", tc.name, resp.StatusCode, tc.want, tc.says, body)
		}
		if after := f.head(t); after != before {
			t.Errorf("%s: the head moved from %d to %d", tc.name, before, after)
		}
	}
	if status, _, _ := post(t, c, page+"/declare", declare); status != 303 {
		t.Errorf("the same form with each field once: %d", status)
	}
}

// TestC1ControlCharacters sends free text holding a C1 control character
// (U+0080, U+0085 next line, U+009B control sequence introducer), which
// terminals act on as they do on C0 ones: 400 naming the field, and
// nothing written.
func TestC1ControlCharacters(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := `{"name":%q,"kind":"university","region_code":"440106","credit_code":"12440000455416125F","sme":false}`
	for _, name := range []string{"中山\u0085大学", "中山\u009b31m大学", "中山\u0080大学"} {
		inputRefused(t, h, oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, raw: []byte(fmt.Sprintf(org, name)),
			noRequestCheck: true}, "name")
	}
	h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, want: 201, raw: []byte(fmt.Sprintf(org, "中山大学"))})
}

// TestDryRunWithoutValue imports a valid list with dry_run given but
// empty ("?dry_run", "?dry_run="): 400 naming dry_run, and nothing
// written, where it used to count as false and import the list.
func TestDryRunWithoutValue(t *testing.T) {
	h := oasNewHarness(t, nil)
	uni := h.org("中山大学", "university", "440105", "12440000455350000", false)
	n, _ := oasNumber(t, "202010765432")
	csv := []byte("number,title,patentees,ipc,filed_on,granted_on\n" + n + ",一种传感器," + uni.id + ",H01M 10/0562,2020-03-15,2022-01-10\n")
	for _, query := range []string{"?dry_run", "?dry_run="} {
		inputRefused(t, h, oasCall{method: "POST", path: "/v1/imports/patents" + query, key: uni.key, raw: csv,
			contentType: "text/csv", noRequestCheck: true}, "dry_run")
	}
	h.do(oasCall{method: "POST", path: "/v1/imports/patents?dry_run=false", key: uni.key, raw: csv, contentType: "text/csv", want: 200})
}

// TestWebSigninFormBodies posts the sign-in form with its token but the
// key given twice, and the sign-in and sign-out forms over the body limit
// (chunked): 400 and 413, no session, where the first key used to be
// tried and an oversized form was taken for an expired one (403).
func TestWebSigninFormBodies(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	_, page, _ := get(t, c, f.url+"/signin?lang=en")
	token := signinCSRFOf(t, page)
	big := func(form string) io.Reader {
		return io.MultiReader(strings.NewReader(form), strings.NewReader(strings.Repeat("x", 1_100_000)))
	}
	for _, tc := range []struct {
		name, path string
		body       io.Reader
		want       int
	}{
		{"the key given twice", "/signin", strings.NewReader(url.Values{"csrf": {token}, "key": {f.uniKey, f.smeKey}}.Encode()), 400},
		{"a sign-in over the limit", "/signin", big("csrf=" + token + "&key=" + f.uniKey + "&pad="), 413},
		{"a sign-out over the limit", "/signout", big("pad="), 413},
	} {
		resp, err := c.Post(f.url+tc.path+"?lang=en", "application/x-www-form-urlencoded", tc.body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || strings.Contains(resp.Header.Get("Set-Cookie"), sessionCookie+"=") &&
			!strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("%s: %d (want %d), Set-Cookie %q", tc.name, resp.StatusCode, tc.want, resp.Header.Get("Set-Cookie"))
		}
	}
	if status, _, _ := signIn(t, c, f.url+"/signin", f.uniKey); status != 303 {
		t.Errorf("a sign-in with the key once: %d", status)
	}
}

// TestManyBadItemsAnswerBounded sends bodies with thousands of bad list
// items and thousands of repeats of one key: 400 naming the first 100
// problems and counting the rest, and each repeated key once, not an
// answer fifty times the size of the body.
func TestManyBadItemsAnswerBounded(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.BodyLimit = "1M" })
	items := strings.TrimSuffix(strings.Repeat("7,", 5000), ",")
	r := h.do(oasCall{method: "POST", path: "/v1/patents", key: oasAdminKey, raw: []byte(`{"ipc":[` + items + `]}`),
		want: 400, code: "invalid_argument", docRejects: true})
	if fields := inputFields(r); len(fields) != 100 || fields[0] != "ipc[0]" || !strings.Contains(r.str("detail"), "more problems") {
		t.Errorf("%d fields, the first %v; detail ends %q", len(fields), fields[:min(1, len(fields))], r.str("detail")[max(0, len(r.str("detail"))-40):])
	}
	repeats := strings.TrimSuffix(strings.Repeat(`"title":"x",`, 5000), ",")
	r = h.do(oasCall{method: "POST", path: "/v1/patents", key: oasAdminKey, raw: []byte(`{` + repeats + `}`),
		want: 400, code: "invalid_argument", docRejects: true})
	if n := strings.Count(string(r.body), `"field":"title"`); n != 1 || len(r.body) > 10_000 {
		t.Errorf("title named %d times in %d bytes", n, len(r.body))
	}
}

// TestUnknownFieldsInNameOrder sends a body of several unknown fields, in
// reverse order, again and again: the errors name them in name order every
// time, then the missing required fields, so that two identical requests
// get identical answers.
func TestUnknownFieldsInNameOrder(t *testing.T) {
	h := oasNewHarness(t, nil)
	raw := []byte(`{"zeta":1,"epsilon":2,"delta":3,"gamma":4,"beta":5,"alpha":6,"name":"中山大学","kind":"university"}`)
	want := []string{"alpha", "beta", "delta", "epsilon", "gamma", "zeta", "region_code", "credit_code", "sme"}
	for range 20 {
		r := h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, raw: raw, want: 400, code: "invalid_argument", noRequestCheck: true})
		if got := inputFields(r); !slices.Equal(got, want) {
			t.Fatalf("errors name %v, want %v", got, want)
		}
	}
}

// TestWritesWithoutABody sends the writes that take no body (issuing and
// revoking a key) a malformed body and one with a field: 400 naming the
// body or the field, and nothing written, where the body used to be
// ignored and the key issued or revoked. Nothing and {} are accepted.
func TestWritesWithoutABody(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := h.org("中山大学", "university", "440105", "12440000455350000", false)
	issue := "/v1/orgs/" + org.id + "/keys"
	key := h.do(oasCall{method: "POST", path: issue, key: oasAdminKey, raw: []byte(" {} "), want: 201}).str("key_id")
	revoke := issue + "/" + key + "/revocation"
	for _, path := range []string{issue, revoke} {
		inputRefused(t, h, oasCall{method: "POST", path: path, key: oasAdminKey, raw: []byte(`{"x":`), noRequestCheck: true}, "body")
		inputRefused(t, h, oasCall{method: "POST", path: path, key: oasAdminKey, raw: []byte(`garbage`), noRequestCheck: true}, "body")
		inputRefused(t, h, oasCall{method: "POST", path: path, key: oasAdminKey, raw: []byte(`{"x":1}`), noRequestCheck: true}, "x")
	}
	h.do(oasCall{method: "POST", path: revoke, key: oasAdminKey, want: 200})
}

// TestJSONDepth: the depth of a body is that of its objects and lists;
// brackets in strings, escaped quotes included, do not count.
func TestJSONDepth(t *testing.T) {
	for body, want := range map[string]int{
		`1`: 0, `{}`: 1, `{"a":[1,{"b":[]}]}`: 4, `{"a":"[[{{"}`: 1, `{"a":"\"[{","b":[[]]}`: 3, `[[],[[]]]`: 3,
		strings.Repeat("[", maxBodyDepth) + strings.Repeat("]", maxBodyDepth): maxBodyDepth,
	} {
		if got := jsonDepth([]byte(body)); got != want {
			t.Errorf("jsonDepth(%.40s) = %d, want %d", body, got, want)
		}
	}
}
