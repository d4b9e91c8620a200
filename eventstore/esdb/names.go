package esdb

import (
	"strings"

	"github.com/google/uuid"
)

// Names of the streams the store keeps for itself, after the prefix. Every
// name starting with "ledger-" is reserved: a ledger stream with such a
// name is escaped (see names.stream).
const (
	logStream        = "ledger-log"
	checkpointStream = "ledger-checkpoint"
	idStreamPrefix   = "ledger-id-"
	reservedPrefix   = "ledger-"
	escape           = "~"
)

// names maps the ledger's stream names to EventStoreDB stream names.
type names struct{ prefix string }

// log returns the name of the global log stream.
func (n names) log() string { return n.prefix + logStream }

// checkpoint returns the name of the stream that records how far the log
// is known to be materialised.
func (n names) checkpoint() string { return n.prefix + checkpointStream }

// id returns the name of the index stream of event ID id.
func (n names) id(id uuid.UUID) string { return n.prefix + idStreamPrefix + id.String() }

// stream returns the EventStoreDB name of the ledger stream s. Names that
// EventStoreDB reserves ("$…": system and metadata streams), that the store
// reserves ("ledger-…") or that start with the escape are escaped with a
// leading "~"; the mapping is one-to-one and never yields a reserved name.
func (n names) stream(s string) string {
	if strings.HasPrefix(s, "$") || strings.HasPrefix(s, reservedPrefix) || strings.HasPrefix(s, escape) {
		return n.prefix + escape + s
	}
	return n.prefix + s
}
