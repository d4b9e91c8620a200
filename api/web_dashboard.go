package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// dashboard is the data of the regulator's dashboard beside the common page.
type dashboard struct {
	Period   string
	From, To string
	Campaign string
	Periods  []string
	// OtherPeriod is the period asked for when it is none of Periods: the
	// form shows it chosen, and marked invalid, rather than another.
	OtherPeriod string
	Charts      []chart
	Districts   []districtRow
	// DistrictsNote says how the districts are counted: a licence with
	// licensors in several counts in each, so the rows may add up to more
	// than the deals chart's total.
	DistrictsNote string
	Rankings      []projections.Ranking
	Coverage      []coverageRow
	// CoverageCut, when not empty, says the coverage table shows only the
	// universities with the lowest shares.
	CoverageCut string
	// CoverageNote, when not empty, says that no review covers the
	// coverage's day: none recorded by then, or none of the campaign asked.
	CoverageNote string
	Downloads    []downloadLink
	// lang is the page's language, which its downloads are written in.
	lang string
}

// dashboardCoverageRows is how many universities the dashboard's coverage
// table shows, lowest share first; the downloads list every one.
const dashboardCoverageRows = 20

// coverageRow is one university's review coverage on the dashboard's last
// day, or the total's.
type coverageRow struct {
	Name                    string
	ActivePatents, Reviewed int64
	Share                   string // a percentage with two decimals
}

// coverageRowOf returns the row of a university's (or the total's) figures.
func coverageRowOf(name string, f projections.CoverageFigures) coverageRow {
	return coverageRow{Name: name, ActivePatents: f.ActivePatents, Reviewed: f.Reviewed,
		Share: percentBP(f.ShareBP)}
}

// dashboardDistricts is how many districts the dashboard lists: those
// with the most deals in its range.
const dashboardDistricts = 10

// regionLabel names a region code, in the page's language when the
// catalogue has the name, and is the code alone when no name is known.
func regionLabel(t func(string) string, code string) string {
	if name, ok := regionName(t, code); ok {
		return name + " (" + code + ")"
	}
	return code
}

// regionName returns the name of a region code (or of the start of one:
// 44, 4401) in t's language when the catalogue has it, else its GB/T 2260
// name, and whether either knows it.
func regionName(t func(string) string, code string) (string, bool) {
	for _, key := range []string{code, shortRegionCode(code)} {
		if name := t("region." + key); name != "region."+key {
			return name, true
		}
	}
	return domain.RegionName(code)
}

// shortRegionCode returns a city's or province's 6-digit code by its start
// (440100 is 4401, 440000 is 44), as the catalogue names them; any other
// code as it is.
func shortRegionCode(code string) string {
	switch {
	case len(code) == 6 && code[2:] == "0000":
		return code[:2]
	case len(code) == 6 && code[4:] == "00":
		return code[:4]
	}
	return code
}

// districtRow is one district's deals in the dashboard's range.
type districtRow struct {
	Label   string
	Deals   int64
	FeesFen domain.Fen
}

// downloadLink is a link to the same figures as a file.
type downloadLink struct {
	Label, CSV, XLSX string
}

// dashboardSeries are the charts: a tally subject and the column drawn.
var dashboardSeries = []struct{ subject, column, title string }{
	{projections.Deals, "deals", "dash.deals"},
	{projections.Declarations, "declared", "dash.declarations"},
	{projections.Pledges, "registered", "dash.pledges"},
}

// dashboardPage draws deals, declarations and pledges per period, deals by
// district, the patentee ranking and the universities' review coverage,
// with CSV and Excel downloads.
func (s *Server) dashboardPage(c echo.Context) error { return s.dashboardOf(c, nil) }

// dashboardOf renders the dashboard: the figures its query asks for or,
// when the query is at fault or the request was refused before it ran
// (refused), its form with the problem and the values asked, that the
// visitor may correct them.
func (s *Server) dashboardOf(c echo.Context, refused error) error {
	t := translator(pageLang(c))
	p := s.newPage(c, t("nav.dashboard"))
	d, err := s.dashboardQuery(c)
	d.lang, p.Dashboard = p.Lang, d
	if refused != nil {
		err = refused
	}
	if err == nil && s.reads == nil {
		err = &unavailableError{detail: "read models are not running"}
	}
	if err == nil {
		err = s.fillDashboard(c.Request().Context(), d, t)
	}
	if err != nil {
		p.Problem = s.pageProblemOf(c, err, p.Lang)
		return s.renderRefused(c, err, "dashboard", p)
	}
	return s.render(c, http.StatusOK, "dashboard", p)
}

// dashboardQuery reads the period, range and review campaign, defaulting
// to months from the start of the year before last until today (the
// campaign defaults in fillDashboard).
func (s *Server) dashboardQuery(c echo.Context) (*dashboard, error) {
	today := s.svc.Today()
	d := &dashboard{Period: c.QueryParam("period"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		Campaign: c.QueryParam("campaign"),
		Periods:  []string{string(projections.Month), string(projections.Quarter), string(projections.Year)}}
	if d.Period == "" {
		d.Period = string(projections.Month)
	}
	if d.From == "" {
		d.From = domain.NewDate(today.Year()-2, 1, 1).String()
	}
	if d.To == "" {
		d.To = today.String()
	}
	var fe domain.FieldErrors
	if !slices.Contains(d.Periods, d.Period) {
		d.OtherPeriod = d.Period
		fe.Addf("period", "must be month, quarter or year")
	}
	from, err := domain.ParseDate(d.From)
	fe.Add("from", err)
	to, err := domain.ParseDate(d.To)
	fe.Add("to", err)
	if err == nil && to.Before(from) {
		fe.Addf("to", "%s is before from %s", to, from)
	}
	if d.Campaign != "" {
		_, err = domain.ParseCampaign(d.Campaign)
		fe.Add("campaign", err)
	}
	return d, fe.Err()
}

// fillDashboard queries the figures of a valid dashboard query: the
// charts, the districts, the ranking and, for the campaign asked or the
// latest one by the range's end, the universities with the lowest review
// coverage on that day.
func (s *Server) fillDashboard(ctx context.Context, d *dashboard, t func(string) string) error {
	from, _ := domain.ParseDate(d.From)
	to, _ := domain.ParseDate(d.To)
	q := url.Values{"period": {d.Period}, "from": {d.From}, "to": {d.To}}
	for _, series := range dashboardSeries {
		tally, err := s.reads.Tally(ctx, projections.TallyQuery{Subject: series.subject, Period: projections.Period(d.Period), From: from, To: to})
		if err != nil {
			return err
		}
		d.Charts = append(d.Charts, chartOf(tally, series.column, series.subject, t(series.title), func(total int64) string {
			return fmt.Sprintf(t("chart.desc"), t(series.title), t("period."+d.Period), d.From, d.To, total)
		}))
		d.Downloads = append(d.Downloads, d.downloadLinks(t(series.title), "/v1/tallies/"+series.subject, q))
	}
	regions, err := s.reads.DealsByRegion(ctx, projections.RegionDealsQuery{From: from, To: to, Digits: 6, Limit: dashboardDistricts})
	if err != nil {
		return err
	}
	d.Downloads = append(d.Downloads, d.downloadLinks(t("dash.districts"), "/v1/tallies/"+dealsByRegionSubject,
		url.Values{"from": {d.From}, "to": {d.To}}))
	d.DistrictsNote = fmt.Sprintf(t("dash.districts_note"), dashboardDistricts)
	for _, r := range regions {
		label := regionLabel(t, r.Region)
		d.Districts = append(d.Districts, districtRow{Label: label, Deals: r.Deals, FeesFen: domain.Fen(r.FeesFen)})
		d.Downloads = append(d.Downloads, d.downloadLinks(t("dash.deals")+" · "+label, "/v1/tallies/deals",
			url.Values{"period": {d.Period}, "from": {d.From}, "to": {d.To}, "region": {r.Region}}))
	}
	ranks, err := s.reads.Rankings(ctx, projections.RankingQuery{Metric: projections.MetricLicenses, From: from, To: to, Limit: 10})
	if err != nil {
		return err
	}
	d.Rankings = ranks
	d.Downloads = append(d.Downloads, d.downloadLinks(t("dash.ranking"), "/v1/rankings/patentees",
		url.Values{"metric": {projections.MetricLicenses}, "from": {d.From}, "to": {d.To}}))
	if d.Campaign == "" {
		if d.Campaign, err = s.reads.LatestCampaign(ctx, to); err != nil {
			return err
		}
	}
	if d.Campaign == "" {
		d.CoverageNote = fmt.Sprintf(t("dash.no_campaign"), d.To) // no review by then: no coverage table
		return nil
	}
	coverage, err := s.reads.ReviewCoverage(ctx, projections.ReviewCoverageQuery{Campaign: d.Campaign, AsOf: to,
		Sort: projections.CoverageByShare, Limit: dashboardCoverageRows})
	if err != nil {
		return err
	}
	for _, item := range coverage.Items {
		d.Coverage = append(d.Coverage, coverageRowOf(item.Name, item.CoverageFigures))
	}
	if coverage.Total.Reviewed == 0 {
		d.CoverageNote = fmt.Sprintf(t("dash.no_reviews"), d.Campaign, d.To)
	}
	if len(coverage.Items) < coverage.Universities {
		d.CoverageCut = fmt.Sprintf(t("dash.coverage_lowest"), len(coverage.Items), coverage.Universities)
	}
	d.Coverage = append(d.Coverage, coverageRowOf(t("dash.total"), coverage.Total))
	d.Downloads = append(d.Downloads, d.downloadLinks(t("dash.coverage"), "/v1/tallies/"+reviewCoverageSubject,
		url.Values{"campaign": {d.Campaign}, "as_of": {d.To}, "sort": {projections.CoverageByShare}})) // every university, in the page's order
	return nil
}

// column returns the value of the named column in a bucket.
func column(t projections.Tally, b projections.Bucket, name string) int64 {
	if i := slices.Index(t.Columns, name); i >= 0 && i < len(b.Values) {
		return b.Values[i]
	}
	return 0
}

func chartOf(t projections.Tally, col, id, title string, describe func(total int64) string) chart {
	labels := make([]string, len(t.Buckets))
	values := make([]int64, len(t.Buckets))
	for i, b := range t.Buckets {
		labels[i], values[i] = b.Label, column(t, b, col)
	}
	return newChart(id, title, labels, values, describe)
}

// downloadLinks links the CSV and Excel reports of path with query q, in
// the page's language.
func (d *dashboard) downloadLinks(label, path string, q url.Values) downloadLink {
	csvQ, xlsxQ := url.Values{}, url.Values{}
	for k, v := range q {
		csvQ[k], xlsxQ[k] = v, v
	}
	for k, v := range map[string]string{"layout": layoutReport, "lang": d.lang} {
		csvQ.Set(k, v)
		xlsxQ.Set(k, v)
	}
	csvQ.Set("format", "csv")
	xlsxQ.Set("format", "xlsx")
	return downloadLink{Label: label, CSV: path + "?" + csvQ.Encode(), XLSX: path + "?" + xlsxQ.Encode()}
}
