package api

import (
	"net/http"
	"testing"
)

// TestKeyedAnswersAreNotStored: the API's answers to a request with a key,
// a new key above all, say Cache-Control: no-store, so that no cache on
// the way, nor the client's own, keeps an organisation's data; public
// answers are left to caches (security audit 3, a note).
func TestKeyedAnswersAreNotStored(t *testing.T) {
	h := oasNewHarness(t, nil)
	org := h.do(oasCall{method: http.MethodPost, path: "/v1/orgs", key: oasAdminKey, want: http.StatusCreated, body: map[string]any{
		"name": "华南理工大学", "kind": "university", "region_code": "440106", "credit_code": oasCredit(t, "12440000455416125"), "sme": false}})
	id := org.str("id")
	key := h.do(oasCall{method: http.MethodPost, path: "/v1/orgs/" + id + "/keys", key: oasAdminKey, want: http.StatusCreated})
	read := h.do(oasCall{method: http.MethodGet, path: "/v1/orgs/" + id, key: key.str("key"), want: http.StatusOK})
	refused := h.do(oasCall{method: http.MethodGet, path: "/v1/orgs/" + id, key: "lk_wrong", want: http.StatusUnauthorized, code: "unauthenticated"})
	public := h.do(oasCall{method: http.MethodGet, path: "/v1/listings", want: http.StatusOK})
	for name, c := range map[string]struct {
		r    oasReply
		want string
	}{"a new key": {key, "no-store"}, "a keyed read": {read, "no-store"}, "a refused key": {refused, "no-store"}, "a public read": {public, ""}} {
		if got := c.r.header.Get("Cache-Control"); got != c.want {
			t.Errorf("%s: Cache-Control %q, want %q", name, got, c.want)
		}
	}
}
