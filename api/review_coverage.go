package api

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// reviewCoverage answers GET /v1/tallies/review-coverage: per university,
// the share of its patents active on as_of (today's business date by
// default) that a review of the campaign covered by then, by patentee ID
// or lowest share first, every university or the first limit; as JSON,
// CSV or Excel.
func (s *Server) reviewCoverage(c echo.Context) error {
	q := projections.ReviewCoverageQuery{PatenteeID: c.QueryParam("patentee_id"), Sort: c.QueryParam("sort")}
	var fe domain.FieldErrors
	var err error
	q.Campaign, err = domain.ParseCampaign(c.QueryParam("campaign"))
	fe.Add("campaign", err)
	q.AsOf, err = optional(c, "as_of", domain.ParseDate)
	fe.Add("as_of", err)
	q.Region, err = optional(c, "region", parseRegionPrefix)
	fe.Add("region", err)
	limit, err := intQuery(c, "limit", 0, 1, projections.MaxCoverageLimit)
	fe.Add("limit", err)
	q.Limit = int(limit)
	form, err := downloadFormOf(c)
	fe.Add("", err)
	if err := fe.Err(); err != nil {
		return err
	}
	if err := s.orgFilters(c, map[string]*string{"patentee_id": &q.PatenteeID}); err != nil {
		return err
	}
	if q.AsOf.IsZero() {
		q.AsOf = s.svc.Today()
		c.QueryParams().Set("as_of", q.AsOf.String()) // named in a download's header block
	}
	return answerFigures(s, c, form,
		func(ctx context.Context) (projections.ReviewCoverage, error) { return s.reads.ReviewCoverage(ctx, q) },
		func(projections.ReviewCoverage) string { return coverageFileName(q) }, coverageTable)
}

// coverageFileName names a review coverage download: campaign, day, and
// the region, university, order (other than the default) and limit given.
func coverageFileName(q projections.ReviewCoverageQuery) string {
	sort, limit := q.Sort, ""
	if sort == projections.CoverageByPatentee {
		sort = ""
	}
	if q.Limit > 0 {
		limit = strconv.Itoa(q.Limit)
	}
	return newDownloadName(reviewCoverageSubject).value("campaign", q.Campaign).date("as_of", q.AsOf).
		filter("region", q.Region).filter("patentee_id", q.PatenteeID).filter("sort", sort).filter("limit", limit).String()
}

// coverageTable lays a review coverage out as the rows of a report: a
// header, one row per university (its region named beside its code) and
// the total.
func coverageTable(cov projections.ReviewCoverage) [][]any {
	rows := [][]any{{heading("patentee_id"), heading("university"), heading("region_code"), heading("region_name"),
		heading("active_patents"), heading("reviewed"), heading("share_bp")}}
	for _, item := range cov.Items {
		rows = append(rows, []any{item.PatenteeID, item.Name, item.Region, regionNamed(item.Region), item.ActivePatents,
			item.Reviewed, item.ShareBP})
	}
	// The total is over every university, whatever the limit: its row says
	// how many, so that it is not read as the sum of the rows above.
	return append(rows, []any{term("dash.total"), counted{"download.universities_counted", cov.Universities}, "", "",
		cov.Total.ActivePatents, cov.Total.Reviewed, cov.Total.ShareBP})
}
