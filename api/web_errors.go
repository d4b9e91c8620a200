package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// queryPages are the pages whose query is a filter (the search page and
// the dashboard), by their route: each renders itself with a problem met
// before its handler ran, so that its form stays on the page to correct.
func (s *Server) queryPages() map[string]func(echo.Context, error) error {
	return map[string]func(echo.Context, error) error{"/": s.searchPage, "/dashboard": s.dashboardOf}
}

// dropUnknownQuery removes from the request's query the parameters its
// page does not take (the OpenAPI document lists those it does), as they
// were written, so that a parameter it takes keeps any fault it has: a
// browser's request for a query page ignores a shared link's utm_source or
// WeChat's isappinstalled (see rejectUnknownQuery).
func dropUnknownQuery(c echo.Context) {
	known, ok := queryParameters()[http.MethodGet+" "+c.Path()]
	if !ok {
		return
	}
	var kept []string
	for _, pair := range strings.Split(c.Request().URL.RawQuery, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(name); err != nil || known[decoded] {
			kept = append(kept, pair)
		}
	}
	c.Request().URL.RawQuery = strings.Join(kept, "&")
	for name := range c.QueryParams() {
		if !known[name] {
			c.QueryParams().Del(name)
		}
	}
}

// formPage returns where a GET of a form's address, which takes only POST,
// goes rather than to a 405 dead end: a patent's form's (a refused form
// leaves it in the address bar, to be opened again, bookmarked or shared)
// to the patent's page, the sign-out's to /me, or / when signed out; ""
// for any other request.
func (s *Server) formPage(c echo.Context, err error) string {
	var he *echo.HTTPError
	if c.Request().Method != http.MethodGet || !errors.As(err, &he) || he.Code != http.StatusMethodNotAllowed {
		return ""
	}
	if c.Path() == "/signout" {
		if who, _ := s.webSession(c); who.org.ID != "" {
			return "/me" + langSuffix(c)
		}
		return "/" + langSuffix(c)
	}
	if !strings.HasPrefix(c.Path(), "/patents/:number/") { // the router names no parameter of a 405: the path does
		return ""
	}
	parts := strings.Split(c.Request().URL.Path, "/") // "", "patents", the number, the form
	if page := nextPage("/patents/" + parts[2]); page != "" {
		return page + langSuffix(c)
	}
	return ""
}
