package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzReadRoutes sends arbitrary query strings to the public read routes
// and web pages: a client's mistake never answers 500, and every refusal
// of the API is problem JSON with a code.
func FuzzReadRoutes(f *testing.F) {
	h := newReadsHarness(f, readsOptions{wait: 20 * time.Millisecond})
	h.declared(1)
	routes := []string{"/v1/listings", "/v1/tallies/deals", "/v1/tallies/declarations", "/v1/tallies/pledges",
		"/v1/tallies/transfers", "/v1/tallies/reviews", "/v1/tallies/recordals", "/v1/tallies/multi-licensee",
		"/v1/tallies/fee-reductions", "/v1/tallies/time-to-first-licence", "/v1/tallies/fees", "/v1/tallies/review-coverage",
		"/v1/rankings/patentees",
		"/v1/patents/ZL202010000001.6", "/v1/ledger/head", "/", "/dashboard", "/v1/tallies/deals-by-region",
		"/patents/ZL202010000001.6"}
	for _, seed := range []string{
		"q=%E7%94%B5%E6%B1%A0&ipc=H01M&sort=fee&limit=3", "period=month&from=2024-01-01&to=2024-12-31&region=44",
		"period=year&from=2024-01-01&to=2024-12-31&format=xlsx&lang=en", "metric=conversion_bp&limit=100",
		"period=day&from=1999-01-01&to=2099-01-01", "cursor=%00&min_position=1", "from=2024-02-30&sme=maybe",
		"format=csv&period=week&from=2024-12-30&to=2025-01-05&ipc=H01M%2010%2F05&kind=invention",
		"campaign=2024&as_of=2024-12-31&region=44&patentee_id=x", "campaign=2024&sort=share&limit=1&format=csv",
		"from=2024-01-01&to=2024-12-31&level=city&limit=2&format=xlsx", "history_after=1&lang=en",
		"period=quarter&from=2024-01-01&to=2024-12-31&format=csv&layout=report", "format=xlsx&layout=data&limit=1",
	} {
		f.Add(uint8(0), seed)
		f.Add(uint8(1), seed)
		f.Add(uint8(10), seed)
		f.Add(uint8(11), seed)
		f.Add(uint8(12), seed)
		f.Add(uint8(17), seed)
		f.Add(uint8(18), seed)
	}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		values, err := url.ParseQuery(query)
		if err != nil {
			return // not a query string
		}
		path := routes[int(route)%len(routes)] + "?" + values.Encode() // as an HTTP client sends it
		resp, err := http.Get(h.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable:
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		case resp.StatusCode >= 400 && strings.HasPrefix(path, "/v1/"):
			var p struct {
				Code string `json:"code"`
			}
			if json.Unmarshal(body, &p) != nil || p.Code == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("GET %s: %d %s is not problem JSON", path, resp.StatusCode, body)
			}
		}
	})
}
