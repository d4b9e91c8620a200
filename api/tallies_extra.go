package api

import (
	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/projections"
)

// extraTally returns the handler of GET /v1/tallies/{subject} for the
// tallies of projections.ExtraSubjects (recordals, multi-licensee,
// fee-reductions, time-to-first-licence, fees). They share the query, the
// answer and the downloads of the other tallies; fee-reductions has year
// buckets only, so its period defaults to year (any other is refused with
// invalid_argument naming period).
func (s *Server) extraTally(subject string) echo.HandlerFunc {
	inner := s.tally(subject)
	return func(c echo.Context) error {
		if subject == projections.FeeReductions && c.QueryParam("period") == "" {
			c.QueryParams().Set("period", string(projections.Year))
		}
		return inner(c)
	}
}
