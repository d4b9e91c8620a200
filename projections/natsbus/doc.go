// Package natsbus is the distributed bus of the ledger (`--bus nats`): the
// relay publishes the global log to a NATS JetStream stream through
// watermill-nats (JetStream mode), every node's projections consume it
// into their own read models (from their durable push consumer's deliver
// subject, decoded with watermill-nats's marshaler into watermill
// messages; not through watermill-nats's subscriber, which closes its
// output while a delivery may still be sending on it), and a lease in a
// JetStream key-value bucket lets exactly one node run the relay at a
// time (DESIGN.md §4, §5).
//
// Package projections may import this package; this package does not
// import projections (it repeats the topic and metadata names, and a test
// checks they agree).
//
// # Namespaces
//
// Everything a ledger puts on a NATS server is named after its namespace
// <ns> (Config.Namespace: 1-48 characters of a-z, 0-9, '-', '_'; see
// NamespaceFor to derive one from a store identity). Two ledgers with
// different namespaces share nothing on the server:
//
//	stream                LEDGER_<ns>
//	event subjects        ledger.<ns>.events.<event type>   (the stream holds ledger.<ns>.events.>)
//	node consumers        projections_<node>                (durable, on LEDGER_<ns>)
//	their deliver subject _LEDGER.<ns>.deliver.projections_<node>
//	relay lease           key "relay" in the key-value bucket LEDGER_<ns>_LOCKS
//
// # The feed, for external consumers
//
// The stream LEDGER_<ns> holds one message per event of the ledger's global
// log, in log order: stream sequence order is position order. The subject
// of an event is ledger.<ns>.events. followed by its type, whose dots
// separate subject tokens, so consumers can filter by aggregate or by type:
//
//	ledger.acme.events.>                            every event
//	ledger.acme.events.patent.>                     every patent event
//	ledger.acme.events.patent.license_granted.v1    one type
//	ledger.acme.events.*.*.v1                       version 1 of every type
//
// Headers (all values are strings; positions are decimal integers):
//
//	Nats-Msg-Id              the event ID (a UUID); JetStream drops a message whose
//	                         ID it stored within the duplicate window (2 minutes)
//	_watermill_message_uuid  the event ID again (watermill's message UUID)
//	position                 the event's position in the global log, from 1
//	previous_position        the position of the event published before it, 0 for
//	                         the first; equal to position-1 unless there is a gap
//	event_type               the versioned event type, e.g. patent.license_granted.v1
//	stream                   the event stream (aggregate) the event belongs to
//	correlation_id           the correlation ID of the request that caused it, when
//	                         it has one
//
// The payload is a UTF-8 JSON object (what projections.NewMessage writes):
//
//	{
//	  "position": 42,                 // position in the global log
//	  "stream": "patent-…",           // event stream (aggregate)
//	  "version": 3,                   // number of the event in its stream, from 1
//	  "id": "0190…",                  // event ID (UUID), as in Nats-Msg-Id
//	  "type": "patent.license_granted.v1",
//	  "data": {…},                    // the event's own JSON payload, verbatim
//	  "metadata": {
//	    "recorded_at": "2025-01-02T03:04:05.123456Z", // RFC 3339, UTC
//	    "actor": "…",                 // organisation ID or "admin"; omitted when empty
//	    "correlation_id": "…",        // omitted when empty
//	    "causation_id": "…",          // omitted when empty
//	    "idempotency_key": "…",       // the client's key; omitted when empty
//	    "command_hash": "…",          // omitted when empty
//	    "schema_version": 1           // version of the type's payload schema
//	  },
//	  "hash": "9f86…"                 // hex SHA-256(previous event's hash ‖ canonical
//	                                  // bytes of this event): the log's hash chain
//	}
//
// The schema of "data" is the event type's (DOMAIN.md); a new schema comes
// with a new type version.
//
// Delivery is at least once. A consumer should remember the last position
// it applied, skip a message at or below it (a rare republication after a
// relay fail-over, or a redelivery), and treat a message whose
// previous_position is above it as a gap: events it has not seen, which it
// can read from the ledger. Gaps come from the stream's limits — it keeps
// events for Config.MaxAge (7 days by default) and up to Config.MaxBytes
// (1 GiB), discarding the oldest — and from a relay starting on an empty
// stream. The stream is a feed, not the record: the event store is.
//
// To follow the feed durably, create a consumer of your own on the stream,
// for example with the NATS CLI
//
//	nats consumer add LEDGER_acme my-app --defaults --pull --deliver all --ack explicit --filter 'ledger.acme.events.>'
//
// or read it live, without replay or acknowledgements, with a plain
// subscription to ledger.acme.events.>. Do not publish on
// ledger.<ns>.events.>: the relay alone does (grant external users
// subscribe rights and JetStream consumer rights on LEDGER_<ns> only).
//
// # Inside the ledger
//
// Bus.NewPublisher is the relay's publisher: it sets the subject, the
// headers and Nats-Msg-Id as above, and returns once the stream has stored
// each message. Bus.NewSubscriber is a node's subscriber: one durable push
// consumer per node (explicit acks, a deliver group so a restarted process
// can rebind at once), created to start with the events published from
// then on, which a node's Runner.AddHandlers subscribes once per
// projection; see Subscriber. Projections skip what they have applied and
// read gaps from the store, so at-least-once, in-order delivery is all they
// need.
//
// Bus.RunAsRelay runs the relay while the node holds the relay lease (see
// Lease): the lease has a TTL of 3 s by default and is renewed every TTL/3
// with a revision-checked update; when the holder dies another node takes
// over within about a TTL, and starts after the stream's last event
// (Bus.LastPosition), so the stream holds every event once.
package natsbus
