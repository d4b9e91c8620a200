package api

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// dealsByRegionSubject is the download subject of the deals by region.
const dealsByRegionSubject = "deals-by-region"

// regionLevels are the levels of GET /v1/tallies/deals-by-region and the
// digits of a region code each keeps.
var regionLevels = map[string]int{"district": 6, "city": 4, "province": 2}

// maxRegionLimit bounds the limit of the deals by region.
const maxRegionLimit = 10_000

// regionDealsAnswer is the answer of GET /v1/tallies/deals-by-region.
type regionDealsAnswer struct {
	From    domain.Date               `json:"from"`
	To      domain.Date               `json:"to"`
	Level   string                    `json:"level"`
	Regions []projections.RegionDeals `json:"regions"`
}

// dealsByRegion answers GET /v1/tallies/deals-by-region: the deals and
// fees of a range by the region of their licensors, most deals first.
func (s *Server) dealsByRegion(c echo.Context) error {
	var fe domain.FieldErrors
	from, err := requiredDate(c, "from")
	fe.Add("from", err)
	to, err := requiredDate(c, "to")
	fe.Add("to", err)
	level := cmpOr(c.QueryParam("level"), "district")
	digits, ok := regionLevels[level]
	if !ok {
		fe.Addf("level", "want district, city or province")
	}
	limit, err := intQuery(c, "limit", 0, 1, maxRegionLimit)
	fe.Add("limit", err)
	form, err := downloadFormOf(c)
	fe.Add("", err)
	fe.AddUnreported(projections.CheckRange(from, to))
	if err := fe.Err(); err != nil {
		return err
	}
	q := projections.RegionDealsQuery{From: from, To: to, Digits: digits, Limit: int(limit)}
	return answerFigures(s, c, form,
		func(ctx context.Context) (regionDealsAnswer, error) {
			regions, err := s.reads.DealsByRegion(ctx, q)
			return regionDealsAnswer{From: from, To: to, Level: level, Regions: regions}, err
		},
		func(regionDealsAnswer) string {
			n := newDownloadName(dealsByRegionSubject).value("level", level).date("from", from).date("to", to)
			if limit > 0 {
				n.filter("limit", strconv.FormatInt(limit, 10))
			}
			return n.String()
		},
		regionDealsTable)
}

// regionDealsTable lays the deals by region out as the rows of a report:
// a header and one row per region, with its name.
func regionDealsTable(a regionDealsAnswer) [][]any {
	rows := [][]any{{heading("region_code"), heading("region_name"), heading("deals"), heading("fees_fen")}}
	for _, r := range a.Regions {
		rows = append(rows, []any{r.Region, regionNamed(r.Region), r.Deals, fen(r.FeesFen)})
	}
	return rows
}
