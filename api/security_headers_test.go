package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEveryAnswerCarriesTheSecurityHeaders: pages, API answers, problem
// documents and static files forbid framing and content sniffing and
// carry the content security policy.
func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for _, path := range []string{"/", "/signin", "/patents/ZL202010000000.0", "/v1/listings", "/v1/listings?limit=0",
		"/static/style.css", "/healthz", "/no/such/page"} {
		resp, _ := h.get(path)
		for header, want := range map[string]string{
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
			"Content-Security-Policy": "frame-ancestors 'none'",
		} {
			if got := resp.Header.Get(header); !strings.Contains(got, want) {
				t.Errorf("GET %s (%d): %s is %q, want %q", path, resp.StatusCode, header, got, want)
			}
		}
		if resp.StatusCode >= http.StatusInternalServerError {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
}
