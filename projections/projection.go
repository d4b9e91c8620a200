// Package projections builds the read models of the ledger from its global
// log (DESIGN.md §4): the relay publishes every event through watermill, and
// the runner applies each to the projections, whose rows and checkpoints
// live in one SQLite file. It also answers the queries on those read models:
// listings with full-text search, tallies and rankings.
package projections

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// Projection is one read model. The runner calls Apply for every event of
// the global log in position order, inside a write transaction that also
// stores the projection's checkpoint, so each event takes effect exactly
// once. Apply is never called concurrently for one projection.
type Projection interface {
	// Name identifies the projection: in checkpoints, health, metrics and
	// `ledger rebuild NAME`.
	Name() string
	// Schema returns the statements that create the projection's tables
	// and indexes in an empty file. When they change, the projection's
	// fingerprint changes and the runner rebuilds it.
	Schema() []string
	// Tables lists the tables Schema creates, dropped on a rebuild.
	Tables() []string
	// Apply folds one event into the projection's rows. Events the
	// projection does not use return nil. An error rolls the transaction
	// back; the runner retries and, failing that, stops the projection.
	Apply(tx *Tx, e domain.RecordedEvent, ev domain.Event) error
}

// fingerprint identifies the schema of p.
func fingerprint(p Projection) string {
	sum := sha256.Sum256([]byte(strings.Join(p.Schema(), "\x00")))
	return hex.EncodeToString(sum[:8])
}

// Names of the projections this package provides.
const (
	ListingsName = "listings"
	TalliesName  = "tallies"
)

// All returns every projection of the ledger, in the order they apply.
func All() []Projection {
	return []Projection{Listings{}, Tallies{}}
}
