package projections

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patentledger/ledger/domain"
)

// collector exports the progress of the read side on every scrape.
type collector struct {
	store                          domain.EventStore
	runner                         *Runner
	relay                          *Relay
	head, checkpoint, lag, healthy *prometheus.Desc
	storeUp, indexLoaded           *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

// NewCollector returns a Prometheus collector of whether store answers,
// its head, each
// projection's checkpoint, lag (head − checkpoint) and health, whether
// each in-memory index is loaded, and the events the relay published.
func NewCollector(store domain.EventStore, runner *Runner, relay *Relay) prometheus.Collector {
	byProjection := []string{"projection"}
	return &collector{store: store, runner: runner, relay: relay,
		head: prometheus.NewDesc("ledger_store_head_position", "Position of the last event in the global log.", nil, nil),
		storeUp: prometheus.NewDesc("ledger_store_up",
			"1 when the event store answered the scrape's read of its head within 2 s, 0 when it did not (the head and lags are then left out).", nil, nil),
		checkpoint: prometheus.NewDesc("ledger_projection_checkpoint",
			"Position of the last event a projection applied.", byProjection, nil),
		lag: prometheus.NewDesc("ledger_projection_lag_events",
			"Events in the global log a projection has not applied yet (head − checkpoint).", byProjection, nil),
		healthy: prometheus.NewDesc("ledger_projection_healthy",
			"1 while a projection applies events; 0 once it stopped on one it cannot apply or met a damaged read-model file "+
				"(the operator mends it), and while it waits for its disk to take writes again (it goes on by itself; /healthz says which).",
			byProjection, nil),
		indexLoaded: prometheus.NewDesc("ledger_memory_index_loaded",
			"1 while an in-memory index (tallies, search) is loaded and answers its queries, 0 while they run in SQL.",
			[]string{"index"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.storeUp, c.head, c.checkpoint, c.lag, c.healthy, c.indexLoaded} {
		ch <- d
	}
	c.relay.events.Describe(ch)
}

// Collect implements prometheus.Collector. When the head cannot be read,
// the store is down and the head and lag are left out.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	head, err := c.store.Head(ctx)
	ch <- prometheus.MustNewConstMetric(c.storeUp, prometheus.GaugeValue, boolFloat(err == nil))
	if err == nil {
		ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(head.Position))
	}
	for _, s := range c.runner.Statuses() {
		ch <- prometheus.MustNewConstMetric(c.checkpoint, prometheus.GaugeValue, float64(s.Checkpoint), s.Name)
		ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, boolFloat(s.Healthy), s.Name)
		if err == nil {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(max(0, head.Position-s.Checkpoint)), s.Name)
		}
	}
	db := c.runner.db
	ch <- prometheus.MustNewConstMetric(c.indexLoaded, prometheus.GaugeValue, boolFloat(db.tallies.isLoaded()), TalliesName)
	ch <- prometheus.MustNewConstMetric(c.indexLoaded, prometheus.GaugeValue, boolFloat(db.search.isLoaded()), "search")
	c.relay.events.Collect(ch)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
