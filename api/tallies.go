package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// Download formats of tallies and rankings.
const (
	formatJSON = "json"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
	mimeXLSX   = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// tally returns the handler of GET /v1/tallies/{subject}.
func (s *Server) tally(subject string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var fe domain.FieldErrors
		q, err := tallyQuery(c, subject)
		fe.Add("", err)
		form, err := downloadFormOf(c)
		fe.Add("", err)
		if err := fe.Err(); err != nil {
			return err
		}
		if err := s.orgFilters(c, map[string]*string{"patentee_id": &q.PatenteeID, "licensee_id": &q.LicenseeID}); err != nil {
			return err
		}
		return answerFigures(s, c, form, func(ctx context.Context) (projections.Tally, error) { return s.reads.Tally(ctx, q) },
			func(projections.Tally) string { return tallyFileName(q) }, tallyTable)
	}
}

// tallyFilters are the query parameters of a tally's filters
// (projections.TallyQuery), in the order a download's file name names
// them. Every tally of projections.Subjects and ExtraSubjects reads each
// of them; its operation in the OpenAPI document lists those that apply to
// it, and it refuses the others (TallyQuery.Check: "does not apply to the
// … tally") beside the query's other faults, which rejectUnknownQuery
// leaves to it.
var tallyFilters = []string{"region", "type", "ipc", "kind", "sme", "patentee_id", "licensee_id", "campaign"}

// isTallyRoute reports whether path, as echo writes it, is the route of a
// tally of projections.Subjects or ExtraSubjects.
func isTallyRoute(path string) bool {
	subject, ok := strings.CutPrefix(path, "/v1/tallies/")
	return ok && (slices.Contains(projections.Subjects, subject) || slices.Contains(projections.ExtraSubjects, subject))
}

// tallyFileName names a tally's download by its subject, period, range
// and the filters it gives, each as the tally reads it (region 440100 is
// 4401), so that files of differently filtered figures (the dashboard's
// districts) get different names.
func tallyFileName(q projections.TallyQuery) string {
	sme := ""
	if q.SME != nil {
		sme = strconv.FormatBool(*q.SME)
	}
	values := map[string]string{"region": q.Region, "type": string(q.Type), "ipc": q.IPCPrefix, "kind": string(q.Kind),
		"sme": sme, "patentee_id": q.PatenteeID, "licensee_id": q.LicenseeID, "campaign": q.Campaign}
	n := newDownloadName(q.Subject).value("period", string(q.Period)).date("from", q.From).date("to", q.To)
	for _, name := range tallyFilters {
		n.filter(name, values[name])
	}
	return n.String()
}

// answerFigures answers the figures compute returns once the tallies
// projection has caught up with the request (min_position): as JSON, or
// for format csv or xlsx as a file named by name, holding the JSON's
// figures (layout=data) or a report laid out by table (layout=report). An
// Excel file is computed and built in one of the server's workbook slots
// (takeWorkbookSlot).
func answerFigures[T any](s *Server, c echo.Context, form downloadForm, compute func(context.Context) (T, error),
	name func(T) string, table func(T) [][]any) error {
	if err := s.waitForReadModels(c, projections.TalliesName); err != nil {
		return err
	}
	release := func() {}
	if form.format == formatXLSX {
		free, err := s.takeWorkbookSlot(c.Request().Context())
		if err != nil {
			return err
		}
		release = sync.OnceFunc(free)
		defer release() // when it fails before the file is built
	}
	figures, err := compute(c.Request().Context())
	if err != nil {
		return err
	}
	switch {
	case form.format == formatJSON:
		return writeJSON(c, http.StatusOK, figures)
	case form.layout == layoutReport:
		// The report's name ends in its layout and language: the data file
		// of the same figures, in fen, has the name without them.
		return download(c, form.format, name(figures)+"-report-"+pageLang(c), s.reportDocument(c, table(figures)), release)
	}
	rows, err := dataTable(figures)
	if err != nil {
		return err
	}
	return download(c, form.format, name(figures), document{table: rows, generated: time.Now()}, release)
}

// tallyQuery parses the query parameters of a tally and checks that the
// tally can be answered; every invalid one is named in one
// invalid_argument error.
func tallyQuery(c echo.Context, subject string) (projections.TallyQuery, error) {
	q := projections.TallyQuery{Subject: subject, Period: projections.Period(c.QueryParam("period")),
		PatenteeID: c.QueryParam("patentee_id"), LicenseeID: c.QueryParam("licensee_id")}
	if q.Period == "" {
		q.Period = projections.Month
	}
	var fe domain.FieldErrors
	var err error
	q.From, err = requiredDate(c, "from")
	fe.Add("from", err)
	q.To, err = requiredDate(c, "to")
	fe.Add("to", err)
	q.Type, err = optional(c, "type", func(s string) (domain.LicenseType, error) { return domain.ParseEnum(s, domain.LicenseTypes) })
	fe.Add("type", err)
	q.Region, err = optional(c, "region", parseRegionPrefix)
	fe.Add("region", err)
	q.IPCPrefix, err = optional(c, "ipc", domain.NormalizeIPCPrefix)
	fe.Add("ipc", err)
	q.Kind, err = optional(c, "kind", domain.ParsePatentKind)
	fe.Add("kind", err)
	q.Campaign, err = optional(c, "campaign", domain.ParseCampaign)
	fe.Add("campaign", err)
	if c.QueryParam("sme") != "" {
		sme, err := strconv.ParseBool(c.QueryParam("sme"))
		if err != nil {
			fe.Addf("sme", "must be true or false")
		}
		q.SME = &sme
	}
	fe.AddUnreported(q.Check())
	return q, fe.Err()
}

// requiredDate parses a required date query parameter.
func requiredDate(c echo.Context, name string) (domain.Date, error) {
	if c.QueryParam(name) == "" {
		return domain.Date{}, domain.Invalid(name, "is required (YYYY-MM-DD)")
	}
	return domain.ParseDate(c.QueryParam(name))
}

// rankings answers GET /v1/rankings/patentees.
func (s *Server) rankings(c echo.Context) error {
	q := projections.RankingQuery{Metric: c.QueryParam("metric")}
	if q.Metric == "" {
		q.Metric = projections.MetricLicenses
	}
	var fe domain.FieldErrors
	var err error
	q.From, err = optional(c, "from", domain.ParseDate)
	fe.Add("from", err)
	q.To, err = optional(c, "to", domain.ParseDate)
	fe.Add("to", err)
	limit, err := intQuery(c, "limit", projections.DefaultRankingLimit, 1, projections.MaxRankingLimit)
	fe.Add("limit", err)
	q.Limit = int(limit)
	form, err := downloadFormOf(c)
	fe.Add("", err)
	fe.AddUnreported(q.Check())
	if err := fe.Err(); err != nil {
		return err
	}
	return answerFigures(s, c, form, func(ctx context.Context) ([]projections.Ranking, error) { return s.reads.Rankings(ctx, q) },
		func([]projections.Ranking) string { return rankingFileName(q) },
		func(ranks []projections.Ranking) [][]any { return rankingTableFor(q.Metric, ranks) })
}

// downloadForm is the form of a tally's or ranking's answer: its format
// (json, csv or xlsx) and, for a file, its layout (data or report).
type downloadForm struct{ format, layout string }

// downloadFormOf parses the format, layout and lang query parameters of a
// /v1 route that answers files; an error names each invalid one, so that a
// query's other faults can be named beside them in one answer. lang is zh
// or en, as the OpenAPI document's enum says (a report's language; the web
// pages, which are not /v1, take any lang and fall back on
// Accept-Language).
func downloadFormOf(c echo.Context) (downloadForm, error) {
	var fe domain.FieldErrors
	form := downloadForm{format: formatJSON}
	switch f := c.QueryParam("format"); f {
	case "", formatJSON:
	case formatCSV, formatXLSX:
		form.format = f
	default:
		fe.Addf("format", "want json, csv or xlsx")
	}
	var err error
	form.layout, err = downloadLayout(c)
	fe.Add("layout", err)
	_, err = optional(c, "lang", func(s string) (string, error) { return domain.ParseEnum(s, []string{langZH, langEN}) })
	fe.Add("lang", err)
	return form, fe.Err()
}

// bucketLabel is the first cell of a bucket's row: a day bucket's date,
// or the label of a longer period ("2024-W10", "2024-Q1").
func bucketLabel(p projections.Period, label string) any {
	if d, err := domain.ParseDate(label); p == projections.Day && err == nil {
		return day(d)
	}
	return label
}

// tallyTable lays a tally out as rows for download: a header of column
// headings (translated there; an untranslated nested column is joined with
// '_', "by_grade_high"), one row per bucket and the total. Values of *_fen
// columns are money (yuan in the file), the others counts (int64).
func tallyTable(t projections.Tally) [][]any {
	header := []any{heading("period")}
	for _, col := range t.Columns {
		header = append(header, heading(col))
	}
	rows := [][]any{header}
	addRow := func(label any, b projections.Bucket) {
		row := []any{label}
		for i, v := range b.Values {
			col := ""
			if i < len(t.Columns) {
				col = t.Columns[i]
			}
			row = append(row, amountCell(col, v))
		}
		rows = append(rows, row)
	}
	for _, b := range t.Buckets {
		addRow(bucketLabel(t.Period, b.Label), b)
	}
	addRow(term("dash.total"), t.Total)
	return rows
}
