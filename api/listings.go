package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// ListingSearch finds listed patents. It returns an invalid_argument
// *domain.Error for a query it cannot run (a bad cursor, say).
type ListingSearch interface {
	Listings(ctx context.Context, q projections.ListingQuery) (projections.ListingPage, error)
	// PatenteeRegions returns the region codes of the organisations that
	// hold patents, in order, which the search page suggests.
	PatenteeRegions(ctx context.Context) ([]string, error)
}

// TallyReader computes tallies, rankings and the review coverage. It
// returns an invalid_argument *domain.Error for a query it cannot run (a
// filter that does not apply).
type TallyReader interface {
	Tally(ctx context.Context, q projections.TallyQuery) (projections.Tally, error)
	Rankings(ctx context.Context, q projections.RankingQuery) ([]projections.Ranking, error)
	ReviewCoverage(ctx context.Context, q projections.ReviewCoverageQuery) (projections.ReviewCoverage, error)
	LatestCampaign(ctx context.Context, asOf domain.Date) (string, error)
	DealsByRegion(ctx context.Context, q projections.RegionDealsQuery) ([]projections.RegionDeals, error)
}

// ReadProgress tells how far the projections have come. WaitFor blocks
// until the named projections have applied position; it returns ctx.Err()
// when ctx ends first and an error matching projections.ErrStopped when one
// of them has stopped. Statuses never blocks.
type ReadProgress interface {
	WaitFor(ctx context.Context, position int64, names ...string) error
	Statuses() []projections.Status
}

// ReadModels is everything the read endpoints need of the projections.
// *projections.Pipeline implements it; all methods are safe for concurrent
// use.
type ReadModels interface {
	ListingSearch
	TallyReader
	ReadProgress
	OrgPortfolio
}

// BusReporter is what read models on a message bus (NATS in distributed
// mode) also tell /healthz: how the node stands on it; ok is false when
// there is no bus to lose.
type BusReporter interface {
	BusStatus() (status projections.BusStatus, ok bool)
}

// OrgPortfolio lists what an organisation holds and has taken, for its own
// page.
type OrgPortfolio interface {
	Portfolio(ctx context.Context, org string, today domain.Date) (projections.Portfolio, error)
}

// maxQueryRunes bounds the full-text query.
const maxQueryRunes = 200

// regionPrefix is a prefix of a 6-digit region code.
var regionPrefix = regexp.MustCompile(`^[0-9]{1,6}$`)

// listings answers GET /v1/listings.
func (s *Server) listings(c echo.Context) error {
	q, err := listingQuery(c, s.svc.Today())
	if err != nil {
		return err
	}
	if err := s.orgFilters(c, map[string]*string{"patentee_id": &q.PatenteeID}); err != nil {
		return err
	}
	if err := s.waitForReadModels(c, projections.ListingsName); err != nil {
		return err
	}
	page, err := s.reads.Listings(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, page)
}

// listingQuery parses the query parameters of GET /v1/listings and checks
// that the listing can be answered; every invalid one is named in one
// invalid_argument error.
func listingQuery(c echo.Context, today domain.Date) (projections.ListingQuery, error) {
	q := projections.ListingQuery{Today: today, Text: strings.TrimSpace(c.QueryParam("q")),
		PatenteeID: c.QueryParam("patentee_id"), Sort: c.QueryParam("sort"), Cursor: c.QueryParam("cursor")}
	var fe domain.FieldErrors
	if utf8.RuneCountInString(q.Text) > maxQueryRunes {
		fe.Addf("q", "is longer than %d characters", maxQueryRunes)
	}
	var err error
	q.IPCPrefix, err = optional(c, "ipc", domain.NormalizeIPCPrefix)
	fe.Add("ipc", err)
	q.Kind, err = optional(c, "kind", domain.ParsePatentKind)
	fe.Add("kind", err)
	q.Region, err = optional(c, "region", parseRegionPrefix)
	fe.Add("region", err)
	q.FeeMode, err = optional(c, "fee_mode", domain.ParseFeeMode)
	fe.Add("fee_mode", err)
	if c.QueryParam("max_fee_fen") != "" {
		v, err := intQuery(c, "max_fee_fen", 0, 0, int64(domain.MaxFen))
		fe.Add("max_fee_fen", err)
		fen := domain.Fen(v)
		q.MaxFeeFen = &fen
	}
	limit, err := intQuery(c, "limit", projections.DefaultListingLimit, 1, projections.MaxListingLimit)
	fe.Add("limit", err)
	q.Limit = int(limit)
	fe.AddUnreported(q.Check())
	return q, fe.Err()
}

// optional parses the query parameter name with parse, or returns the zero
// value when it is absent.
func optional[T any](c echo.Context, name string, parse func(string) (T, error)) (T, error) {
	var zero T
	s := c.QueryParam(name)
	if s == "" {
		return zero, nil
	}
	return parse(s)
}

// parseRegionPrefix checks a region prefix: 1 to 6 digits. A whole city
// code (its first 4 digits + 00) or province code (first 2 + 0000) stands
// for its area, as DOMAIN.md defines them, and becomes the prefix of its
// districts: 440100 is 4401, 440000 is 44. No district code ends in 00.
// Full-width digits are read as digits.
func parseRegionPrefix(s string) (string, error) {
	s = strings.Map(domain.FoldWidth, s) // typed in full-width mode: ４４０１
	if !regionPrefix.MatchString(s) {
		return "", domain.Invalid("region", "must be 1 to 6 digits, the start of a region code such as 4401 or 440106")
	}
	if len(s) == 6 {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "00"), "00")
	}
	return s, nil
}
