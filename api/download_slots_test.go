package api

import (
	"net/http"
	"testing"
	"time"
)

// TestExcelFilesWaitForAWorkbookSlot: while every workbook slot is taken,
// a request for an Excel file waits, then answers 503 unavailable with a
// Retry-After; a CSV file does not wait; once a slot is free the Excel
// file is built and its slot given back. (Thirty Excel reports of 5,000
// day buckets built at once took a server from 60 MB to 1.2 GB.)
func TestExcelFilesWaitForAWorkbookSlot(t *testing.T) {
	h := oasNewHarness(t, nil)
	s := h.server
	s.workbookPatience = 100 * time.Millisecond
	for range cap(s.workbooks) {
		s.workbooks <- struct{}{}
	}
	const tally = "/v1/tallies/reviews?period=day&from=2024-01-01&to=2024-03-31&layout=report"
	r := h.do(oasCall{method: http.MethodGet, path: tally + "&format=xlsx", want: http.StatusServiceUnavailable, code: "unavailable"})
	if r.header.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q, want 5", r.header.Get("Retry-After"))
	}
	h.do(oasCall{method: http.MethodGet, path: tally + "&format=csv", want: http.StatusOK})
	for range cap(s.workbooks) {
		<-s.workbooks
	}
	r = h.do(oasCall{method: http.MethodGet, path: tally + "&format=xlsx", want: http.StatusOK})
	if r.header.Get("Content-Type") != mimeXLSX || len(s.workbooks) != 0 {
		t.Errorf("with free slots: %q, %d slots still taken; want a workbook and 0", r.header.Get("Content-Type"), len(s.workbooks))
	}
}
