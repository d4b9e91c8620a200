package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/net/html"
)

// startDemoServer runs `ledger serve --demo` on a temp data folder and
// returns once the demo is loaded, with the API key it printed for each
// role (university, sme, bank, regulator).
func startDemoServer(t *testing.T) (*server, map[string]string) {
	t.Helper()
	data := t.TempDir()
	keys, role := map[string]string{}, ""
	s := startServerReading(t, data, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data", data}, func(line string) bool {
		line = strings.TrimSpace(line)
		fields := strings.Fields(line)
		switch {
		case len(fields) > 1 && slices.Contains([]string{"university", "sme", "bank", "regulator"}, fields[0]):
			role = fields[0]
		case role != "" && strings.HasPrefix(line, "lk_"):
			keys[role], role = line, ""
		}
		return len(keys) < 4
	})
	if len(keys) < 4 {
		t.Fatalf("the demo server printed the keys %v", keys)
	}
	return s, keys
}

// signedIn returns a client signed in to s's web pages with key (none for
// "").
func signedIn(t *testing.T, s *server, key string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if key == "" {
		return c
	}
	form := getPage(t, c, s.base+"/signin?lang=en")
	_, rest, _ := strings.Cut(form, `name="csrf" value="`)
	token, _, _ := strings.Cut(rest, `"`)
	resp, err := c.PostForm(s.base+"/signin?lang=en", url.Values{"key": {key}, "csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/me" {
		t.Fatalf("sign-in ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	return c
}

// getPage returns the body of a page c gets, asking for HTML as a browser.
func getPage(t *testing.T, c *http.Client, address string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, address, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// chineseOutsideChinese returns the texts of page holding Han characters
// that are not inside an element whose lang is Chinese, each with the
// element holding it: a screen reader would read them with the voice of
// the page's language (WCAG 3.1.2). The page's title, which is plain text
// and cannot mark a part, is left out.
func chineseOutsideChinese(page string) []string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return []string{"unparsable page: " + err.Error()}
	}
	var found []string
	var walk func(n *html.Node, lang string)
	walk = func(n *html.Node, lang string) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "lang" {
					lang = a.Val
				}
			}
		}
		if n.Type == html.TextNode && !strings.HasPrefix(lang, "zh") && n.Parent.Data != "title" &&
			strings.ContainsFunc(n.Data, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			found = append(found, "<"+n.Parent.Data+">"+strings.TrimSpace(n.Data))
		}
		for c := range n.ChildNodes() {
			walk(c, lang)
		}
	}
	walk(doc, "")
	return found
}

// sameSitePages returns the addresses of the pages page links to on the
// same site (not downloads, not sign-out), in English.
func sameSitePages(base, page string) []string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil
	}
	var links []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		for _, a := range n.Attr {
			if a.Key != "href" || !strings.HasPrefix(a.Val, "/") || strings.HasPrefix(a.Val, "//") ||
				strings.Contains(a.Val, "format=") || strings.HasPrefix(a.Val, "/signout") {
				continue
			}
			u, err := url.Parse(a.Val)
			if err != nil {
				continue
			}
			q := u.Query()
			q.Set("lang", "en")
			u.RawQuery = q.Encode()
			links = append(links, base+u.String())
		}
	}
	return links
}

// TestDemoEnglishPagesMarkEveryChineseText walks the English web pages of
// the demo ledger as each role sees them, following the links of each page
// (up to 60 pages a role): every text holding Han characters, an
// organisation's name, a title, a district, must sit in an element marked
// Chinese, so that a screen reader reads it with a Chinese voice
// (WCAG 3.1.2). The bank's pledges named their pledgors unmarked.
func TestDemoEnglishPagesMarkEveryChineseText(t *testing.T) {
	s, keys := startDemoServer(t)
	refused := false
	for _, role := range []string{"", "university", "sme", "bank", "regulator"} {
		c := signedIn(t, s, keys[role])
		start := s.base + "/?lang=en"
		if role != "" {
			start = s.base + "/me?lang=en"
		}
		queue, seen := []string{start, s.base + "/?q=%E7%94%B5%E6%B1%A0&lang=en", s.base + "/dashboard?lang=en"}, map[string]bool{}
		for len(queue) > 0 && len(seen) < 60 {
			address := queue[0]
			queue = queue[1:]
			if seen[address] {
				continue
			}
			seen[address] = true
			page := getPage(t, c, address)
			for _, text := range chineseOutsideChinese(page) {
				t.Errorf("%s %s: Chinese text not marked Chinese: %s", orAnyone(role), strings.TrimPrefix(address, s.base), text)
			}
			queue = append(queue, sameSitePages(s.base, page)...)
			if role == "university" && !refused && strings.Contains(page, `name="co_owner_consent"`) {
				refused = true
				refusal := refuseCoOwnedDeclaration(t, c, s.base, page)
				for _, text := range chineseOutsideChinese(refusal) {
					t.Errorf("the refused declaration of %s: Chinese text not marked Chinese: %s", strings.TrimPrefix(address, s.base), text)
				}
			}
		}
		t.Logf("%s: %d pages", orAnyone(role), len(seen))
		if len(seen) < 20 {
			t.Errorf("%s: only %d pages reached", orAnyone(role), len(seen))
		}
	}
	if !refused {
		t.Error("the university reached no co-owned patent's declaration form")
	}
}

// declareAction finds the address a page's declaration form posts to.
var declareAction = regexp.MustCompile(`<form method="post" action="(/patents/[^"]+/declare[^"]*)"`)

// refuseCoOwnedDeclaration sends the declaration form of page, a co-owned
// patent's, without the co-owners' consent, and returns the page that
// refuses it, in English.
func refuseCoOwnedDeclaration(t *testing.T, c *http.Client, base, page string) string {
	t.Helper()
	hidden := func(name string) string {
		_, rest, _ := strings.Cut(page, `name="`+name+`" value="`)
		value, _, _ := strings.Cut(rest, `"`)
		return html.UnescapeString(value)
	}
	action := declareAction.FindStringSubmatch(page)
	if action == nil {
		t.Fatalf("a co-owned patent's page has no declaration form:\n%s", page)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	resp, err := c.PostForm(base+html.UnescapeString(action[1]), url.Values{"csrf": {hidden("csrf")}, "idempotency_key": {hidden("idempotency_key")},
		"mode": {"free"}, "term_months": {"12"}, "declared_on": {today}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "has not consented") {
		t.Fatalf("a declaration without the co-owners' consent: %d\n%s", resp.StatusCode, body)
	}
	return string(body)
}

// orAnyone names a role, or a visitor for "".
func orAnyone(role string) string {
	if role == "" {
		return "a visitor"
	}
	return role
}
