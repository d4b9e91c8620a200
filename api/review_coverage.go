package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// reviewCoverage answers GET /v1/tallies/review-coverage: per university,
// the share of its patents active on as_of (today's business date by
// default) that a review of the campaign covered by then.
func (s *Server) reviewCoverage(c echo.Context) error {
	q := projections.ReviewCoverageQuery{PatenteeID: c.QueryParam("patentee_id")}
	var fe domain.FieldErrors
	var err error
	q.Campaign, err = domain.ParseCampaign(c.QueryParam("campaign"))
	fe.Add("campaign", err)
	q.AsOf, err = optional(c, "as_of", domain.ParseDate)
	fe.Add("as_of", err)
	q.Region, err = optional(c, "region", parseRegionPrefix)
	fe.Add("region", err)
	if err := fe.Err(); err != nil {
		return err
	}
	if q.AsOf.IsZero() {
		q.AsOf = s.svc.Today()
	}
	if err := s.waitForReadModels(c, projections.TalliesName); err != nil {
		return err
	}
	coverage, err := s.reads.ReviewCoverage(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, coverage)
}
