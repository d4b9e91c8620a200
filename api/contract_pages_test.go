package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// pageReference matches the addresses a page makes the browser load or go
// to: src, href, action and srcset attributes and CSS url().
var pageReference = regexp.MustCompile(`(?i)(?:\b(?:src|href|action|srcset|formaction)\s*=\s*["']?|url\(\s*["']?)([^"'\s>)]*)`)

// TestContractPagesNeedNoJavaScriptNorNetwork holds the web pages to
// CONTRACT.md: "they work without JavaScript and need no external network
// (no CDN)". Every page, in both languages, and the stylesheet hold no
// script and refer only to addresses of the server itself, and the content
// security policy lets the browser load nothing from elsewhere.
func TestContractPagesNeedNoJavaScriptNorNetwork(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	pages := []string{"/", "/?q=%E7%94%B5%E6%B1%A0", "/dashboard", "/patents/" + patentNumberOf(t, 1), "/signin", "/static/style.css"}
	for _, page := range pages {
		for _, lang := range []string{"zh", "en"} {
			sep := "?"
			if strings.Contains(page, "?") {
				sep = "&"
			}
			path := page + sep + "lang=" + lang
			resp, body := h.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("GET %s: Content-Security-Policy %q lets the browser load from elsewhere", path, csp)
			}
			lower := strings.ToLower(string(body))
			for _, script := range []string{"<script", "javascript:", " onclick=", " onload=", " onsubmit=", " onchange="} {
				if strings.Contains(lower, script) {
					t.Errorf("GET %s: the page holds %q; pages work without JavaScript", path, script)
				}
			}
			refs := pageReference.FindAllStringSubmatch(string(body), -1)
			for _, ref := range refs {
				if target := ref[1]; !isOwnAddress(target) {
					t.Errorf("GET %s refers to %q, outside the server", path, target)
				}
			}
			if len(refs) == 0 && !strings.HasSuffix(page, ".css") {
				t.Errorf("GET %s: no reference found; the pattern is wrong", path)
			}
		}
	}
}

// isOwnAddress reports whether a page's reference stays on the server: a
// path, a query or a fragment, never a scheme or another host.
func isOwnAddress(ref string) bool {
	if strings.HasPrefix(ref, "//") {
		return false
	}
	return ref == "" || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "?") || strings.HasPrefix(ref, "#") ||
		!strings.Contains(ref, ":")
}
