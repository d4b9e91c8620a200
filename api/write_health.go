package api

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patentledger/ledger/domain"
)

// WriteHealth follows whether the event store takes this node's writes, for
// /healthz and /metrics: an append the store refused as unavailable (its
// disk full, it cannot be reached, it takes no writes now) marks the writes
// failing, and the next append it takes marks them going through again. A
// node on which nobody writes keeps what the last append met. Give Observe
// to domain.ServiceOptions.OnAppend and the WriteHealth to Config.Writes.
type WriteHealth struct {
	log *slog.Logger

	mu sync.Mutex
	// since is when the first of the appends failing in a row failed; zero
	// while writes go through.
	since time.Time
	// detail is what the last failed append's client was told.
	detail string
}

// NewWriteHealth returns a WriteHealth that logs, to log, when writes start
// failing and when they go through again (not every failed append).
func NewWriteHealth(log *slog.Logger) *WriteHealth {
	if log == nil {
		log = slog.Default()
	}
	return &WriteHealth{log: log}
}

// Observe takes the outcome of an append: nil when the store took it, its
// error otherwise. Errors that do not say the store is unavailable (a
// conflict, a refused command, a canceled request) change nothing.
func (w *WriteHealth) Observe(err error) {
	var unavailable *domain.Error
	failed := err != nil && errors.Is(err, domain.ErrUnavailable) && errors.As(err, &unavailable)
	if err != nil && !failed {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case failed && w.since.IsZero():
		w.since, w.detail = time.Now(), unavailable.Message
		w.log.Warn("writes: the event store refuses appends; writes answer 503 until it takes one again", "error", err)
	case failed:
		w.detail = unavailable.Message
	case !w.since.IsZero():
		w.log.Info("writes: the event store takes appends again", "failed_for_seconds", time.Since(w.since).Round(time.Second).Seconds())
		w.since, w.detail = time.Time{}, ""
	}
}

// WriteStatus is the writes part of /healthz.
type WriteStatus struct {
	// Failing is true from an append the store refused as unavailable to
	// the next one it takes.
	Failing bool `json:"failing"`
	// Since is when the first of the failing appends failed.
	Since *time.Time `json:"since,omitempty"`
	// Detail is what the last failed append's client was told.
	Detail string `json:"detail,omitempty"`
}

// Status returns whether writes fail now, since when and why.
func (w *WriteHealth) Status() WriteStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.since.IsZero() {
		return WriteStatus{}
	}
	since := w.since.UTC()
	return WriteStatus{Failing: true, Since: &since, Detail: w.detail}
}

// register adds ledger_store_writes_failing to reg, unless reg has it
// already (from an earlier server on the same registry).
func (w *WriteHealth) register(reg prometheus.Registerer) error {
	err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ledger_store_writes_failing",
		Help: "1 from an append the event store refused as unavailable (disk full, unreachable, taking no writes) " +
			"to the next append it takes, 0 otherwise; /healthz says since when and why."},
		func() float64 {
			if w.Status().Failing {
				return 1
			}
			return 0
		}))
	if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return nil
	}
	return err
}

// writeStatus returns the server's WriteHealth status; writes not followed
// read as not failing.
func (s *Server) writeStatus() WriteStatus {
	if s.writes == nil {
		return WriteStatus{}
	}
	return s.writes.Status()
}
