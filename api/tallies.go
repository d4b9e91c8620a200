package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

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
		q, err := tallyQuery(c, subject)
		if err != nil {
			return err
		}
		format, err := downloadFormat(c)
		if err != nil {
			return err
		}
		if err := s.waitForReadModels(c, projections.TalliesName); err != nil {
			return err
		}
		t, err := s.reads.Tally(c.Request().Context(), q)
		if err != nil {
			return err
		}
		if format == formatJSON {
			return writeJSON(c, http.StatusOK, t)
		}
		name := fmt.Sprintf("%s-%s-%s-%s", subject, t.Period, t.From, t.To)
		return sendTable(c, format, name, tallyTable(t))
	}
}

// tallyQuery parses the query parameters of a tally; each invalid one is an
// invalid_argument error naming it.
func tallyQuery(c echo.Context, subject string) (projections.TallyQuery, error) {
	q := projections.TallyQuery{Subject: subject, Period: projections.Period(c.QueryParam("period")),
		PatenteeID: c.QueryParam("patentee_id"), LicenseeID: c.QueryParam("licensee_id"), Campaign: c.QueryParam("campaign")}
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
	if c.QueryParam("sme") != "" {
		sme, err := strconv.ParseBool(c.QueryParam("sme"))
		if err != nil {
			fe.Addf("sme", "must be true or false")
		}
		q.SME = &sme
	}
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
	format, err := downloadFormat(c)
	fe.Add("format", err)
	if err := fe.Err(); err != nil {
		return err
	}
	if err := s.waitForReadModels(c, projections.TalliesName); err != nil {
		return err
	}
	ranks, err := s.reads.Rankings(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if format == formatJSON {
		return writeJSON(c, http.StatusOK, ranks)
	}
	return sendTable(c, format, "ranking-"+q.Metric, rankingTable(ranks))
}

// downloadFormat parses the format query parameter.
func downloadFormat(c echo.Context) (string, error) {
	switch f := c.QueryParam("format"); f {
	case "", formatJSON:
		return formatJSON, nil
	case formatCSV, formatXLSX:
		return f, nil
	}
	return "", domain.Invalid("format", "want json, csv or xlsx")
}

// tallyTable lays a tally out as rows: a header, one row per bucket and the
// total. Nested columns are joined with '_' ("by_grade_high").
func tallyTable(t projections.Tally) [][]any {
	header := []any{"period"}
	for _, col := range t.Columns {
		header = append(header, strings.ReplaceAll(col, ".", "_"))
	}
	rows := [][]any{header}
	for _, b := range append(t.Buckets, t.Total) {
		row := []any{b.Label}
		for _, v := range b.Values {
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

// rankingTable lays a ranking out as rows with a header.
func rankingTable(ranks []projections.Ranking) [][]any {
	rows := [][]any{{"rank", "patentee_id", "name", "value"}}
	for i, r := range ranks {
		rows = append(rows, []any{int64(i + 1), r.PatenteeID, r.Name, r.Value})
	}
	return rows
}

// sendTable answers rows as a CSV or Excel attachment named name.
func sendTable(c echo.Context, format, name string, rows [][]any) error {
	var body bytes.Buffer
	contentType := "text/csv; charset=utf-8"
	var err error
	if format == formatXLSX {
		contentType = mimeXLSX
		err = writeXLSX(&body, rows)
	} else {
		err = writeCSV(&body, rows)
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name+"."+format))
	return c.Blob(http.StatusOK, contentType, body.Bytes())
}

// writeCSV writes rows as CSV.
func writeCSV(w *bytes.Buffer, rows [][]any) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = fmt.Sprint(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeXLSX writes rows to the first sheet of an Excel workbook, numbers as
// numbers.
func writeXLSX(w *bytes.Buffer, rows [][]any) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return err
		}
	}
	return f.Write(w)
}
