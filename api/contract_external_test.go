package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The contract tests of this file hold the server, from outside, to
// CONTRACT.md's promises about /healthz and the web pages; those of
// contract_test.go cover every API route.

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

// TestContractHealthWaitsForMinPosition: /healthz is one of CONTRACT.md's
// reads, and "every read accepts min_position=N and answers only once its
// read model has reached N (waiting …, then 503 with Retry-After)": once
// every projection has applied N it answers 200 with their checkpoints at
// N or beyond; a position the ledger has not reached answers 503 with
// Retry-After after the wait, and one that is no position 400 naming it.
// The wait is short, so the first read asks again while it answers 503: on
// a busy machine the projections may take longer than the wait to apply N.
func TestContractHealthWaitsForMinPosition(t *testing.T) {
	const wait = 100 * time.Millisecond
	h := newReadsHarness(t, readsOptions{wait: wait})
	pos := h.declared(1)
	var health struct {
		Projections []struct {
			Name       string `json:"name"`
			Checkpoint int64  `json:"checkpoint"`
		} `json:"projections"`
	}
	h.getReached("/healthz?min_position="+strconv.FormatInt(pos, 10), &health)
	for _, p := range health.Projections {
		if p.Checkpoint < pos {
			t.Errorf("/healthz?min_position=%d answered projection %s at %d", pos, p.Name, p.Checkpoint)
		}
	}
	start := time.Now()
	resp, body := h.get("/healthz?min_position=" + strconv.FormatInt(pos+1000, 10))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || time.Since(start) < wait {
		t.Errorf("a position not reached: %d after %s, Retry-After %q: %s", resp.StatusCode, time.Since(start),
			resp.Header.Get("Retry-After"), body)
	}
	resp, body = h.get("/healthz?min_position=soon")
	var p readsProblem
	if json.Unmarshal(body, &p) != nil || resp.StatusCode != http.StatusBadRequest || len(p.Errors) == 0 ||
		p.Errors[0].Field != "min_position" {
		t.Errorf("min_position=soon: %d %s, want 400 naming min_position", resp.StatusCode, body)
	}
}

// TestContractListingPages: "limit (≤ 100, default 20), cursor": without a
// limit a page holds 20 listings and a cursor to the rest, which the next
// page holds with none after it; a limit of 100 holds them all at once.
func TestContractListingPages(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	const listed = 21
	var last int64
	for i := 1; i <= listed; i++ {
		last = h.declared(i)
	}
	type page struct {
		Items []struct {
			Number string `json:"number"`
		} `json:"items"`
		Total      int     `json:"total"`
		NextCursor *string `json:"next_cursor"`
	}
	var first, rest, all page
	h.getJSON("/v1/listings?min_position="+strconv.FormatInt(last, 10), &first)
	if len(first.Items) != 20 || first.Total != listed || first.NextCursor == nil {
		t.Fatalf("first page: %d items of %d, next cursor %v; want 20 of %d and a cursor", len(first.Items), first.Total,
			first.NextCursor, listed)
	}
	h.getJSON("/v1/listings?cursor="+url.QueryEscape(*first.NextCursor), &rest)
	if len(rest.Items) != listed-20 || rest.NextCursor != nil {
		t.Fatalf("second page: %d items, next cursor %v; want %d and none", len(rest.Items), rest.NextCursor, listed-20)
	}
	h.getJSON("/v1/listings?limit=100", &all)
	seen := map[string]bool{}
	for _, p := range append(first.Items, rest.Items...) {
		seen[p.Number] = true
	}
	if len(all.Items) != listed || all.NextCursor != nil || len(seen) != listed {
		t.Fatalf("limit=100: %d items, next cursor %v; the two pages held %d patents; want %d, none, %d",
			len(all.Items), all.NextCursor, len(seen), listed, listed)
	}
}
