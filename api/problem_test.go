package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// TestClientCancelIsNotAServerFailure: a request whose client went away
// (Ctrl-C on `ledger import --server`, a closed browser tab) ends with a
// cancellation of its context; it is answered and counted as 499 and
// logged as information, not as a 500 logged as an error, which would
// fire the alerts on server failures. A cancellation while the request's
// own context is alive stays a 500.
func TestClientCancelIsNotAServerFailure(t *testing.T) {
	canceled := fmt.Errorf("read the log for organisations: sqlite: read log after position 72705: %w", context.Canceled)
	for _, tc := range []struct {
		clientGone bool
		level, msg string
		status     int
	}{
		{true, "INFO", "client closed request", 499},
		{false, "ERROR", "request failed", 500},
	} {
		var logs lockedBuffer
		reg := prometheus.NewRegistry()
		s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: reg})
		ctx, cancel := context.WithCancel(context.Background())
		s.echo.POST("/test/import", func(echo.Context) error {
			if tc.clientGone {
				cancel()
			}
			return canceled
		})
		rec := httptest.NewRecorder()
		s.echo.ServeHTTP(rec, httptest.NewRequest("POST", "/test/import", nil).WithContext(ctx))
		cancel()
		got := logs.String()
		if rec.Code != tc.status || !strings.Contains(got, fmt.Sprintf("level=%s msg=%q", tc.level, tc.msg)) ||
			strings.Contains(got, "level=ERROR") != (tc.level == "ERROR") {
			t.Errorf("client gone %v: status %d, log\n%s\nwant %d and level=%s msg=%q", tc.clientGone, rec.Code, got, tc.status, tc.level, tc.msg)
		}
		if n := requestsCounted(t, reg, "/test/import", tc.status); n != 1 {
			t.Errorf("client gone %v: %d requests counted with status %d, want 1", tc.clientGone, n, tc.status)
		}
	}
}

// requestsCounted returns how many requests to route the latency histogram
// counted with status.
func requestsCounted(t *testing.T, reg *prometheus.Registry, route string, status int) uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, f := range families {
		if f.GetName() != "ledger_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["status"] == fmt.Sprint(status) {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}
