package api

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// searchResult is one listed patent as the search page shows it.
type searchResult struct {
	Number, Title, Kind, DeclaredOn, Locarno string
	IPC                                      []string
	Patentees                                []orgLink
	FeeWords                                 string
	Licenses                                 int64
	// PledgedWithoutConsent: no licence can be taken today (see
	// projections.ListingItem).
	PledgedWithoutConsent bool
	// WithdrawnOn is the day a recorded withdrawal takes effect, "" when
	// none is; Suspended says a suspension is in force today.
	WithdrawnOn string
	Suspended   bool
}

// orgLink is an organisation shown with a link to its listed patents.
type orgLink struct{ ID, Name string }

// searchPage is the data of the listing search page beside the common page.
type searchPage struct {
	Query   map[string]string
	Results []searchResult
	Total   int64
	NextURL string
	// FirstURL leads back to the first page from a later one; From and To
	// number the results shown (21 to 40 of Total).
	FirstURL string
	From, To int64
	Searched bool
	Regions  [][2]string
	Kinds    []domain.PatentKind
	Sorts    []string
	// WithoutPatentee is the same search for every patentee, the link that
	// removes the patentee filter (a patentee's name on a result sets it);
	// "" when there is none.
	WithoutPatentee string
}

// maxRegionSuggestions bounds the regions the search page suggests: past
// it, the cities alone.
const maxRegionSuggestions = 300

// regionSuggestions are the regions the search page's region field
// suggests (regionChoices of the patentees' regions), each as its code and
// its name ("" when none is known). The field takes any region code or the
// start of one.
func (s *Server) regionSuggestions(ctx context.Context, t func(string) string) ([][2]string, error) {
	codes, err := s.reads.PatenteeRegions(ctx)
	if err != nil {
		return nil, err
	}
	choices := regionChoices(codes)
	out := make([][2]string, len(choices))
	for i, code := range choices {
		name, _ := regionName(t, code)
		out[i] = [2]string{code, name}
	}
	return out, nil
}

// regionChoices returns the cities (4 digits) and districts of the sorted
// region codes, a city before its districts (a province's own code, 440000,
// as its province, 44), or the cities alone when there would be more than
// maxRegionSuggestions.
func regionChoices(codes []string) []string {
	var cities, all []string
	for _, code := range codes {
		if len(code) != 6 {
			continue
		}
		city := code[:4]
		if code[2:4] == "00" {
			city = code[:2]
		}
		if len(cities) == 0 || cities[len(cities)-1] != city {
			cities, all = append(cities, city), append(all, city)
		}
		if code[4:] != "00" {
			all = append(all, code)
		}
	}
	if len(all) > maxRegionSuggestions {
		return cities
	}
	return all
}

// searchPageHandler is the listing search (/): the API's filters as a form,
// results with fee terms in words, and paging.
func (s *Server) searchPageHandler(c echo.Context) error { return s.searchPage(c, nil) }

// searchPage renders the search page: the search its query asks for or,
// when the request was refused before it ran (refused), its form with the
// problem, that the visitor may correct it.
func (s *Server) searchPage(c echo.Context, refused error) error {
	p := s.newPage(c, translator(pageLang(c))("nav.search"))
	sp := &searchPage{Query: map[string]string{},
		Kinds: []domain.PatentKind{domain.KindInvention, domain.KindUtilityModel, domain.KindDesign},
		Sorts: []string{"relevance", "newest", "fee"}}
	for _, k := range []string{"q", "ipc", "kind", "region", "fee_mode", "max_fee_yuan", "sort", "patentee_id"} {
		sp.Query[k] = c.QueryParam(k)
	}
	if sp.Query["patentee_id"] != "" {
		rest := c.Request().URL.Query() // a copy: echo's QueryParams is the request's own, which the search reads after
		rest.Del("patentee_id")
		rest.Del("cursor")
		rest.Del("page")
		sp.WithoutPatentee = "/?" + rest.Encode()
	}
	p.Search = sp
	if refused == nil {
		if n, ok := s.patentNamedBy(c.Request().Context(), c.QueryParam("q")); ok {
			return c.Redirect(http.StatusSeeOther, "/patents/"+string(n)+langSuffix(c))
		}
	}
	err := refused
	if s.reads == nil {
		err = cmp.Or(err, error(&unavailableError{detail: "read models are not running"}))
	} else {
		var suggestErr error
		sp.Regions, suggestErr = s.regionSuggestions(c.Request().Context(), translator(p.Lang))
		err = cmp.Or(err, suggestErr)
	}
	if err == nil {
		err = s.runSearch(c, p, sp)
	}
	if err != nil {
		p.Problem = s.pageProblemOf(c, err, p.Lang)
		return s.renderRefused(c, err, "search", p)
	}
	return s.render(c, http.StatusOK, "search", p)
}

// patentNamedBy returns the patent a search text names by its number, as
// an SME copies it from a notice (ZL201910714755.0, 201910714755.0, or the
// 12 digits without the check character), when the ledger holds it: the
// search, over titles and abstracts, would not find it.
func (s *Server) patentNamedBy(ctx context.Context, text string) (domain.PatentNumber, bool) {
	text = strings.TrimSpace(text)
	n, err := domain.ParsePatentNumber(text)
	if digits := strings.TrimPrefix(strings.ToUpper(text), "ZL"); err != nil && len(digits) == 12 {
		c, cerr := domain.PatentCheckChar(digits)
		n, err = domain.PatentNumber("ZL"+digits+"."+string(c)), cerr
	}
	if err != nil {
		return "", false
	}
	_, err = s.svc.LoadPatent(ctx, n)
	return n, err == nil
}

// runSearch runs the search the page's form asks for. The form offers
// relevance beside the default order; without a search text it means the
// default (newest first) rather than the API's refusal.
func (s *Server) runSearch(c echo.Context, p *page, sp *searchPage) error {
	if c.QueryParam("sort") == "relevance" && strings.TrimSpace(c.QueryParam("q")) == "" {
		c.QueryParams().Del("sort")
	}
	var fe domain.FieldErrors // every field at fault, named at once
	if v := strings.TrimSpace(c.QueryParam("max_fee_yuan")); v != "" {
		if amount, err := domain.ParseYuan(v); err != nil {
			fe.Add("max_fee_yuan", err)
		} else {
			c.QueryParams().Set("max_fee_fen", strconv.FormatInt(int64(amount), 10)) // before the query and its cursor are checked
		}
	}
	q, err := listingQuery(c, s.svc.Today())
	if err != nil && domain.ErrorCode(err) != domain.CodeInvalidArgument {
		return err
	}
	fe.Add("", err)
	if err := fe.Err(); err != nil {
		return err
	}
	if err := s.orgFilters(c, map[string]*string{"patentee_id": &q.PatenteeID}); err != nil {
		return err
	}
	page, err := searchPageNumber(c, q.Cursor)
	if err != nil {
		return err
	}
	res, err := s.reads.Listings(c.Request().Context(), q)
	if err != nil {
		return err
	}
	sp.Searched, sp.Total = true, res.Total
	for _, it := range res.Items {
		sp.Results = append(sp.Results, s.searchResult(c, p.Lang, it))
	}
	sp.numberPage(c, page, int64(q.Limit), res.NextCursor)
	return nil
}

// maxSearchPage bounds the page number a search page's link carries.
const maxSearchPage = 1_000_000

// searchPageNumber returns the number of the page a search page's cursor
// leads to, which its next link carries as page; 1 without a cursor. The
// number only labels the results shown: the cursor alone says where the
// page starts.
func searchPageNumber(c echo.Context, cursor string) (int64, error) {
	page, err := intQuery(c, "page", 1, 1, maxSearchPage)
	if cursor == "" {
		return 1, err
	}
	return page, err
}

// numberPage sets the search page's links to the next and the first page
// and the numbers of the results shown, page being the page's number and
// limit its size.
func (sp *searchPage) numberPage(c echo.Context, page, limit int64, nextCursor *string) {
	if len(sp.Results) > 0 {
		sp.From = (page-1)*limit + 1
		sp.To = sp.From + int64(len(sp.Results)) - 1
	}
	query := c.Request().URL.Query()
	if nextCursor != nil && page < maxSearchPage {
		query.Set("cursor", *nextCursor)
		query.Set("page", strconv.FormatInt(page+1, 10))
		sp.NextURL = "/?" + query.Encode()
	}
	if c.QueryParam("cursor") != "" {
		query.Del("cursor")
		query.Del("page")
		sp.FirstURL = "/?" + query.Encode()
	}
}

func (s *Server) searchResult(c echo.Context, lang string, it projections.ListingItem) searchResult {
	r := searchResult{Number: it.Number, Title: it.Title, Kind: it.Kind, DeclaredOn: it.DeclaredOn, Locarno: it.Locarno, Licenses: it.Licenses,
		PledgedWithoutConsent: it.PledgedWithoutConsent, Suspended: it.Suspended}
	if it.WithdrawnOn != nil {
		r.WithdrawnOn = *it.WithdrawnOn
	}
	var fee domain.FeeTerms
	var ids []string
	_ = json.Unmarshal(it.IPC, &r.IPC)
	_ = json.Unmarshal(it.PatenteeIDs, &ids)
	if json.Unmarshal(it.Fee, &fee) == nil {
		r.FeeWords = fee.Describe(lang)
	}
	for _, id := range ids {
		r.Patentees = append(r.Patentees, orgLink{ID: id, Name: s.orgName(c.Request().Context(), id)})
	}
	return r
}
