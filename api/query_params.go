package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// queryParameters returns the query parameters of each operation of the
// OpenAPI document, by method and path as echo writes them
// ("GET /v1/patents/:number"). The document is read on the first request
// (3 ms), not when a command that serves nothing starts.
var queryParameters = sync.OnceValue(func() map[string]map[string]bool { return mustQueryParameters(openAPIDocument) })

// mustQueryParameters reads the query parameters of every operation of an
// OpenAPI document, resolving references to its components; it panics on a
// document it cannot read, which the tests would catch.
func mustQueryParameters(doc []byte) map[string]map[string]bool {
	type parameter struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]parameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		panic(fmt.Sprintf("the OpenAPI document: %v", err))
	}
	out := map[string]map[string]bool{}
	for path, item := range d.Paths {
		for method, raw := range item {
			var op struct {
				Parameters []parameter `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				panic(fmt.Sprintf("the OpenAPI document: %s %s: %v", method, path, err))
			}
			names := map[string]bool{}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "query" {
					names[p.Name] = true
				}
			}
			out[routeKey(method, path)] = names
		}
	}
	return out
}

// openAPIParam matches a path parameter as OpenAPI writes it ("{number}").
var openAPIParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// routeKey names an operation of the OpenAPI document by method and path
// as echo writes them: "get", "/v1/patents/{number}" is
// "GET /v1/patents/:number".
func routeKey(method, path string) string {
	return strings.ToUpper(method) + " " + openAPIParam.ReplaceAllString(path, ":$1")
}

// rejectUnknownQuery answers 400 invalid_argument, naming the parameter,
// for a query parameter that the operation of a /v1 route does not take:
// a mistyped filter (region_code for region) must not silently widen a
// tally; for one given more than once (period=month&period=day), whose
// handler would silently read only the first; and for one that cannot be
// read (a broken %-escape, a ';'), which the query's parser would silently
// drop: ?dry_run=true% must not import for real. The search page and the
// dashboard, whose query is a filter too, are checked alike (their
// parameters are those the OpenAPI document lists, lang included, which
// is every one their own links and forms send), and answer an error page
// naming the parameter, but a browser's request for them is answered
// without the parameters they do not take (dropUnknownQuery), which shared
// links pick up; the other pages take whatever links carry. A
// tally filter that a tally's operation does not list, because it does
// not apply to the tally, is left to the tally, which refuses it as not
// applying beside the query's other faults (see tallyFilters).
func rejectUnknownQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Path(), "/v1/") && !slices.Contains(checkedPages, c.Path()) {
			return next(c)
		}
		if err := unreadableQuery(c.Request().URL.RawQuery); err != nil {
			return err
		}
		if slices.Contains(checkedPages, c.Path()) && acceptsHTML(c.Request()) {
			dropUnknownQuery(c) // a page a browser asks for ignores what it does not take
		}
		if name, n := repeatedQuery(c); n > 1 {
			return domain.Invalid(domain.Shorten(name), "is given %d times; give it once", n)
		}
		known, ok := queryParameters()[c.Request().Method+" "+c.Path()]
		if !ok {
			return next(c)
		}
		tally := isTallyRoute(c.Path())
		unknown := ""
		for name := range c.QueryParams() {
			if !known[name] && !(tally && slices.Contains(tallyFilters, name)) && (unknown == "" || name < unknown) {
				unknown = name // the first in order, so that the answer does not vary
			}
		}
		if unknown != "" {
			return domain.Invalid(domain.Shorten(unknown), "is not a parameter of this route; it takes %s", takes(known))
		}
		return next(c)
	}
}

// checkedPages are the web pages whose query rejectUnknownQuery checks as
// it checks the API's: their parameters filter what the page shows.
var checkedPages = []string{"/", "/dashboard"}

// maxQueryParameters bounds the parameters of a query, empty ones
// included: no route takes more than a few dozen, and the standard
// library's parser reads a query of more than 10,000 as none at all, so
// that ?dry_run=true followed by 10,000 others imported for real.
const maxQueryParameters = 1000

// unreadableQuery returns an invalid_argument *domain.Error naming the
// first parameter of a raw query that cannot be read (or "query" when its
// name cannot be, or when it holds more than maxQueryParameters), nil
// when every one can.
func unreadableQuery(raw string) error {
	if n := strings.Count(raw, "&") + 1; n > maxQueryParameters {
		return domain.Invalid("query", "holds %d parameters (counting empty ones between '&'); a query takes at most %d", n, maxQueryParameters)
	}
	for _, pair := range strings.Split(raw, "&") {
		name, value, _ := strings.Cut(pair, "=")
		decoded, nameErr := url.QueryUnescape(name)
		if nameErr != nil {
			decoded = "query"
		}
		if _, valueErr := url.QueryUnescape(value); nameErr != nil || valueErr != nil {
			return domain.Invalid(domain.Shorten(decoded), "has a malformed %%-escape in %s; write %% itself as %%25", domain.Quote(domain.Shorten(pair)))
		}
		if strings.Contains(pair, ";") {
			return domain.Invalid(domain.Shorten(decoded), "contains ';', which does not separate parameters (use '&'); write ';' itself as %%3B")
		}
	}
	return nil
}

// repeatedQuery returns the first (in name order) query parameter given
// more than once and how many times; n ≤ 1 when there is none.
func repeatedQuery(c echo.Context) (name string, n int) {
	for key, values := range c.QueryParams() {
		if len(values) > 1 && (n <= 1 || key < name) {
			name, n = key, len(values)
		}
	}
	return name, n
}

// takes lists parameter names for a message.
func takes(names map[string]bool) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(names)), ", ")
}

// orgFilters reads each query parameter of filters, an organisation's ID,
// into its target: a UUID written in capitals is read in the ledger's
// lower case, and an ID that names no organisation is refused, naming its
// parameter, since a figure filtered by it would be zero, which looks like
// no activity.
func (s *Server) orgFilters(c echo.Context, filters map[string]*string) error {
	var fe domain.FieldErrors
	for _, name := range slices.Sorted(maps.Keys(filters)) {
		id := c.QueryParam(name)
		if id == "" {
			continue
		}
		if u, err := uuid.Parse(id); err == nil && len(id) == len(u.String()) {
			id = u.String()
		}
		_, err := s.svc.Org(c.Request().Context(), id)
		switch {
		case domain.ErrorCode(err) == domain.CodeNotFound:
			fe.Addf(name, "no organisation %s", domain.Quote(id))
		case err != nil:
			return err
		default:
			*filters[name] = id
		}
	}
	return fe.Err()
}
