package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsRegistry is where the server registers its metrics and what GET
// /metrics exposes. *prometheus.Registry implements it.
type MetricsRegistry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// instrument returns the middleware that observes every request's latency
// in a histogram registered with reg (a new registry when nil), and keeps
// reg for GET /metrics. Requests are labelled by route pattern, not path,
// so that the series stay few.
func (s *Server) instrument(reg MetricsRegistry) echo.MiddlewareFunc {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metricsGatherer = reg
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ledger_http_request_duration_seconds",
		Help:    "Latency of HTTP requests, by method, route pattern and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	if err := reg.Register(latency); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			latency = are.ExistingCollector.(*prometheus.HistogramVec)
		}
	}
	if s.writes != nil {
		if err := s.writes.register(reg); err != nil {
			panic(err) // a name of the server's own clashes: a programming error
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			latency.WithLabelValues(requestMethod(c), route, strconv.Itoa(c.Response().Status)).
				Observe(time.Since(start).Seconds())
			return err
		}
	}
}

// metrics answers GET /metrics in the Prometheus text format.
func (s *Server) metrics(c echo.Context) error {
	promhttp.HandlerFor(s.metricsGatherer, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}
