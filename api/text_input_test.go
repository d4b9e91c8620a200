package api

// Free text from clients: one-line fields refuse line breaks, every field
// refuses bidirectional controls, and no answer echoes a long value whole.

import (
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestTitleWithALineBreak registers a patent whose title holds a line
// break: 400 invalid_argument naming title, and no patent.
func TestTitleWithALineBreak(t *testing.T) {
	h := oasNewHarness(t, nil)
	uni := h.org("中山大学", "university", "440105", "12440000455350000", false)
	p, _ := oasNumber(t, "202010765432")
	patent := map[string]any{"number": p, "title": "一种传感器\n及其制备方法", "patentee_ids": []string{uni.id},
		"ipc": []string{"H01M 10/0562"}, "filed_on": "2020-03-15", "granted_on": "2022-01-10"}
	inputRefused(t, h, oasCall{method: "POST", path: "/v1/patents", key: uni.key, body: patent}, "title")
	h.do(oasCall{method: "GET", path: "/v1/patents/" + p, key: uni.key, want: 404, code: "not_found"})
	patent["title"] = "一种传感器及其制备方法"
	h.do(oasCall{method: "POST", path: "/v1/patents", key: uni.key, body: patent, want: 201})
}

// TestNameWithABidiOverride registers an organisation whose name holds a
// right-to-left override: 400 naming name and the character, nothing
// written.
func TestNameWithABidiOverride(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := map[string]any{"name": "中山\u202e学大", "kind": "university", "region_code": "440105",
		"credit_code": oasCredit(t, "12440000455350000"), "sme": false}
	before := inputHead(h)
	r := h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, body: org, want: 400, code: "invalid_argument"})
	if !slices.Contains(inputFields(r), "name") || !strings.Contains(string(r.body), "U+202E") {
		t.Errorf("the problem does not name the field name and U+202E: %s", r.body)
	}
	if after := inputHead(h); after != before {
		t.Errorf("the head moved from %d to %d", before, after)
	}
}

// longPathValues fills every path parameter but {number}.
var longPathValues = func() map[string]string {
	values := maps.Clone(inputPathValues)
	values["{key_id}"] = "K1"
	return values
}()

// longValue is a query or path value of 100,000 characters.
var longValue = strings.Repeat("x", 100_000)

// maxProblemBytes bounds the answer to a request with a long value.
const maxProblemBytes = 2048

// TestLongQueryValueAnswersShortly sends a listing order of 100,000
// characters: 400 naming sort, in a short answer.
func TestLongQueryValueAnswersShortly(t *testing.T) {
	h := oasNewHarness(t, nil)
	r := h.do(oasCall{method: "GET", path: "/v1/listings?sort=" + longValue, want: 400, code: "invalid_argument", docRejects: true})
	if len(r.body) >= maxProblemBytes || !strings.Contains(string(r.body), `"field":"sort"`) {
		t.Errorf("the answer is %d bytes: %s", len(r.body), oasShort(r.body))
	}
}

// TestEveryLongParameterAnswersShortly gives each query and path
// parameter of every /v1 operation, in turn, a value of 100,000
// characters, and a query parameter a name as long: never a 500, and
// never an answer of 2 KB or more.
func TestEveryLongParameterAnswersShortly(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.RateLimit = 1e6 })
	n := 0
	for key, op := range oasOperations(h.doc) {
		method, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		fill := func(name string) string {
			p := strings.ReplaceAll(path, "{number}", oasUnknownNumber(t))
			for k, v := range longPathValues {
				if k == "{"+name+"}" {
					v = longValue
				}
				p = strings.ReplaceAll(p, k, v)
			}
			return p
		}
		longQuery(t, h, method, fill("")+"?"+longValue+"=1")
		n++
		for _, p := range op.Parameters {
			switch p.Value.In {
			case "query":
				longQuery(t, h, method, fill("")+"?"+url.Values{p.Value.Name: {longValue}}.Encode())
			case "path":
				longQuery(t, h, method, fill(p.Value.Name))
			default:
				continue
			}
			n++
		}
	}
	if n < 60 {
		t.Errorf("only %d cases; the document's parameters were not found", n)
	}
}

// longQuery sends a request with the admin's key and checks that its
// answer is no 500 and shorter than maxProblemBytes.
func longQuery(t *testing.T, h *oasHarness, method, path string) {
	t.Helper()
	req, err := http.NewRequest(method, h.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+oasAdminKey)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 500 || len(body) >= maxProblemBytes {
		t.Errorf("%s %.120s: %d, %d bytes: %s", method, path, resp.StatusCode, len(body), oasShort(body))
	}
}

// TestLongUnknownBodyFieldAnswersShortly registers an organisation with a
// body field whose name has 30,000 characters (within the harness's body
// limit): 400 naming the field by its first characters, in a short answer.
func TestLongUnknownBodyFieldAnswersShortly(t *testing.T) {
	h := oasNewHarness(t, nil)
	body := []byte(`{"` + strings.Repeat("x", 30_000) + `":1,"name":"中山大学","kind":"university","region_code":"440105","sme":false}`)
	r := h.do(oasCall{method: "POST", path: "/v1/orgs", key: oasAdminKey, raw: body, want: 400, code: "invalid_argument", docRejects: true})
	if len(r.body) >= maxProblemBytes || !slices.Contains(inputFields(r), strings.Repeat("x", 60)+"…") {
		t.Errorf("the answer is %d bytes: %s", len(r.body), oasShort(r.body))
	}
}
