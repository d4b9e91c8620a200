// Package esdb is the EventStoreDB event store: a domain.EventStore kept in
// an EventStoreDB (or KurrentDB) node, reached with the v4 Go client
// github.com/EventStore/EventStore-Client-Go/v4 (DESIGN.md §3 and the
// distributed mode of §5). That client module was archived in June 2025;
// its successor, github.com/kurrent-io/KurrentDB-Client-Go, speaks the same
// gRPC protocol with another Go API. The v4 client targets EventStoreDB
// 21.10 and later (22.x, 23.x, 24.x) over gRPC; the adapter uses only
// single-stream appends with expected revisions, forward and backward
// stream reads, and a catch-up subscription to one stream. Only wire
// compatibility with the v4 client has been verified (see Testing).
//
// # Streams
//
// A ledger stream s is the EventStoreDB stream Options.Prefix+s; names
// EventStoreDB reserves ("$…") or the store reserves ("ledger-…") are
// escaped with a leading "~". Ledger version v (from 1) is revision v-1
// (from 0). Every event keeps its ID (a UUID, EventStoreDB's event ID), its
// type and its JSON payload; its metadata is a JSON object with the
// ledger's metadata (recorded_at, actor, correlation_id, causation_id,
// idempotency_key, command_hash, schema_version), EventStoreDB's own
// $correlationId and $causationId, and the ledger's record of the event:
// stream, version, global position, hash and the previous event's hash.
//
// # The global log and the commit
//
// EventStoreDB's $all has commit positions, but not the ledger's dense
// positions 1, 2, 3, … nor its hash chain, and it commits one stream per
// call (DESIGN.md §3.2). So the store keeps its own global log: the stream
// Prefix+"ledger-log", whose revision r holds the ledger event at position
// r+1, a full copy of it. Everything an append writes — all events of all
// its streams — goes to the log in ONE EventStoreDB append, expected to
// find the log at its current last revision. That write is the commit, and
// the recorded intent of a multi-stream append: EventStoreDB writes it
// whole or not at all, its expected revision serialises every writer, in
// every process, so positions stay dense and each hash is computed from the
// event before it. ReadAll, Head and domain.VerifyChain read the log.
//
// The expected versions of the ledger streams are checked before the log
// write, against the streams as they are when the log ends where the
// writer believes it ends; the conditional log write confirms that belief.
// If another process wrote to the log first, the writer catches up and
// checks again, so a conflict is reported only against the true state.
// ExpectAny, ExpectNoStream and ExpectVersion(v) thus hold at the commit;
// the copies into the streams below then use exact revisions (no stream
// for version 1, else revision v-2), whatever the caller expected.
//
// # Materialisation, completion marker and recovery
//
// After the commit, the events are copied into the ID index (one stream
// Prefix+"ledger-id-<uuid>" per event, holding its position) and then, once
// every entry is written, into their streams; the calls of each step run in
// parallel. Each write is idempotent: it expects the exact revision the log
// implies and, when EventStoreDB answers that the stream is already
// further, the store checks that what is there is the same events. Because
// a stream copy is written only after the ID entries of its batch, a copy
// that is there proves its entry is too, so checking an append costs one
// read per stream. How far the log is known to be copied is recorded in
// the completion marker stream Prefix+"ledger-checkpoint", every
// Options.CheckpointEvery positions and at Close, rather than once per
// append, which saves a round trip per append.
//
// A writer can stop between the commit and the copies (a crash, a lost
// connection). Recovery finishes its work: Open checks every log event
// after the last completion marker and copies what is missing; a stream
// read first looks at the log (one small read) and finishes any append
// the streams lack; an append does the same when the log has moved. An
// interrupted append is therefore never seen in part: the log has all of
// it from the commit on, and a stream read shows it whole. Recovery never needs to undo anything: an
// intent reaches the log only after every check passed against the
// serialised log, so it can always be finished. A stream written with
// other tools, behind the ledger's back, makes that fail loudly instead.
//
// # Idempotency
//
// Before writing, the store looks up every event ID in the ID index. When
// the first is stored, the call is answered from the log: the original
// result if every event is stored as given at consecutive positions, else
// an idempotency mismatch; so is a call whose first event is new but a
// later one stored. EventStoreDB's own de-duplication is per stream,
// best-effort for "any", and knows nothing of the original result; the
// store uses it only to make the copies above idempotent. Log events get
// EventStoreDB IDs derived from their hashes, so that its de-duplication
// can never mistake another writer's event at the same position for a
// retry of one's own.
//
// # Concurrency, followers and waiting
//
// One writer goroutine per Store takes every append waiting, plans them in
// order as if the earlier ones were written, and commits them in one log
// write (group commit, DESIGN.md §3.7). A follower reading the log after
// the last position it saw never misses an event: positions are revisions
// of one stream, assigned in commit order. WaitForPosition wakes on the
// store's own commits and follows a catch-up subscription to the log
// stream for other processes' commits; while that subscription is down it
// reads the head every Options.PollInterval.
//
// # Tamper evidence
//
// Each event's hash is SHA-256(previous hash ‖ domain.CanonicalBytes), along
// the log; domain.VerifyChain walks the log and reports the first position
// that does not match. Stream copies carry their hash and the previous
// event's hash, and ReadStream checks each copy against them, returning an
// error matching ErrAltered rather than an altered fact.
//
// # Costs and limits
//
//   - An append costs four round trips in sequence: the ID (and uncached
//     stream version) look-ups, the log write, the ID index entries, the
//     stream copies; plus a catch-up (a log read and one read per stream
//     it touches) when another process wrote first. Every event is written
//     three times (log, ID index, stream). Group commit amortises this
//     under concurrent load; writers in several processes contend on the
//     log stream and retry.
//   - A stream read costs one extra small read of the log.
//   - The log stream, the ID index streams and the ledger streams must not
//     be truncated, given $maxAge/$maxCount/$tb, deleted or scavenged, nor
//     written by other tools.
//   - Event IDs must be UUIDs; they are compared as UUIDs.
//   - One append must fit in one EventStoreDB append (MaxAppendSize, 1 MiB
//     by default); group commit keeps its batches to half of that.
//
// # Testing
//
// The adapter runs the eventstore/storetest conformance suite against a
// real node when LEDGER_TEST_ESDB_URL is set (e.g.
// esdb://127.0.0.1:2113?tls=false), and otherwise against esdbtest, an
// in-process wire-compatibility server built on the client's generated
// protos — not EventStoreDB. Passing there shows that the adapter and the
// v4 client agree on the wire with a server that follows EventStoreDB's
// append and read rules, not how a real node behaves.
package esdb
