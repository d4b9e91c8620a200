package api

import (
	"net/http"
	"net/http/httptest"
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

// sendWatch is a response writer that records whether the workbook slot
// was free when the file began to be sent.
type sendWatch struct {
	*httptest.ResponseRecorder
	slots        chan struct{}
	freeWhenSent bool
	wrote        bool
}

func (w *sendWatch) Write(b []byte) (int, error) {
	if !w.wrote {
		w.wrote, w.freeWhenSent = true, len(w.slots) == 0
	}
	return w.ResponseRecorder.Write(b)
}

// TestWorkbookSlotIsFreedBeforeSending: the slot an Excel file took to be
// built is free before the file is sent, so that two clients reading
// slowly cannot hold every slot (and have every other Excel request wait
// and answer 503) at no cost of their own.
func TestWorkbookSlotIsFreedBeforeSending(t *testing.T) {
	h := oasNewHarness(t, nil)
	s := h.server
	rec := &sendWatch{ResponseRecorder: httptest.NewRecorder(), slots: s.workbooks}
	req := httptest.NewRequest(http.MethodGet, "/v1/tallies/deals?from=2024-01-01&to=2024-03-31&format=xlsx", nil)
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !rec.wrote || !rec.freeWhenSent {
		t.Fatalf("Excel file: %d, sent %v, slot free when sent %v; want 200 and a free slot", rec.Code, rec.wrote, rec.freeWhenSent)
	}
}
