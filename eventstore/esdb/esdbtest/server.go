// Package esdbtest is an in-process wire-compatibility server built on
// EventStore-Client-Go's generated protos; it is NOT EventStoreDB.
//
// It exists because no EventStoreDB server can be installed where the
// ledger's tests run (DESIGN.md §5). It registers the client's own
// generated streams.StreamsServer on a real TCP listener on 127.0.0.1 (the
// client has no custom dialer, so bufconn cannot be used) and implements
// just what the esdb adapter and the client need, in memory:
//
//   - Append with EventStoreDB's expected-revision rules (any, no stream,
//     stream exists, exact revision) and its de-duplication: an append whose
//     events are already stored, with the same IDs, right after the expected
//     revision succeeds without writing (for "any", when the first ID is
//     found in the stream and the rest follow it);
//   - Read of one stream and of $all, forwards and backwards, from start,
//     end or a revision/position, with a count, reporting a missing stream
//     as StreamNotFound;
//   - catch-up subscriptions to one stream or to $all (confirmation,
//     catch-up events, caught-up, then live events).
//
// Everything else — Delete, Tombstone, BatchAppend, filters, links, ACLs,
// persistent subscriptions, projections, gossip — answers Unimplemented.
// The client asks for ServerFeatures at connect; the service is not
// registered, so the client sees Unimplemented, which it treats as "no
// features", and uses plain Append. With esdb://127.0.0.1:PORT?tls=false the
// client does not ask for gossip. Nothing is written to disk.
//
// For tests it also lets the caller look at a stream as stored (Events),
// count Append calls (AppendCalls), change one stored byte (FlipDataByte)
// and refuse subscriptions (RefuseSubscriptions).
//
// A test that passes against this server shows wire compatibility with the
// v4 client, not behaviour of a real EventStoreDB or KurrentDB node.
package esdbtest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Event is an event as the server stores it.
type Event struct {
	// Stream is the stream name.
	Stream string
	// Revision is the event's 0-based number in its stream.
	Revision uint64
	// ID is the event's UUID.
	ID uuid.UUID
	// Type is the event type (system metadata "type").
	Type string
	// ContentType is the system metadata "content-type".
	ContentType string
	// Created is when the server stored the event, in .NET ticks (100 ns)
	// since the Unix epoch, as EventStoreDB reports it.
	Created int64
	// Data is the payload.
	Data []byte
	// Metadata is the user-defined (custom) metadata.
	Metadata []byte
	// Position is the event's commit (and prepare) position in $all.
	Position uint64
}

// clone returns a deep copy of e, safe to hand out or to send.
func (e *Event) clone() Event {
	c := *e
	c.Data = append([]byte(nil), e.Data...)
	c.Metadata = append([]byte(nil), e.Metadata...)
	return c
}

// Server is the in-process wire-compatibility server. Its methods are safe
// for concurrent use.
type Server struct {
	lis  net.Listener
	grpc *grpc.Server

	refuseSubs atomic.Bool
	appends    atomic.Int64 // Append calls served

	mu      sync.Mutex
	streams map[string][]*Event
	all     []*Event
	pos     uint64        // last commit position handed out
	changed chan struct{} // closed and replaced after every write
}

// Start listens on 127.0.0.1 on a free port and serves the Streams service
// until Close.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("esdbtest: listen: %w", err)
	}
	s := &Server{lis: lis, streams: map[string][]*Event{}, changed: make(chan struct{})}
	s.grpc = grpc.NewServer(
		// The client pings every 10 s even without calls; gRPC's default
		// policy would answer that with GOAWAY (too_many_pings).
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	)
	streams.RegisterStreamsServer(s.grpc, &service{s: s})
	go func() { _ = s.grpc.Serve(lis) }() // Serve returns when Close stops the server
	return s, nil
}

// URL returns the connection string of the server for the v4 client:
// single node, no TLS, so that the client skips gossip.
func (s *Server) URL() string {
	return "esdb://" + s.lis.Addr().String() + "?tls=false"
}

// Close stops the server, ending every call and subscription.
func (s *Server) Close() {
	s.grpc.Stop()
}

// Events returns copies of the events of stream, in revision order.
func (s *Server) Events(stream string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.streams[stream]))
	for i, e := range s.streams[stream] {
		out[i] = e.clone()
	}
	return out
}

// FlipDataByte changes one stored byte, in place, of the payload of the
// event at revision of stream, as an attacker with access to the server's
// storage could: the bit pattern of byte index is inverted in its low bit.
func (s *Server) FlipDataByte(stream string, revision uint64, index int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.streams[stream]
	if revision >= uint64(len(evs)) {
		return fmt.Errorf("esdbtest: stream %q has no revision %d", stream, revision)
	}
	e := evs[revision]
	if index < 0 || index >= len(e.Data) {
		return fmt.Errorf("esdbtest: event %d of %q has %d data bytes, no byte %d", revision, stream, len(e.Data), index)
	}
	e.Data[index] ^= 0x01
	return nil
}

// AppendCalls returns how many Append calls the server has answered,
// whether they wrote, were found to be repeats, or failed their
// expectation.
func (s *Server) AppendCalls() int64 { return s.appends.Load() }

// RefuseSubscriptions makes every later subscription request fail with
// Unimplemented, as a server or proxy that does not stream would, so that
// tests can exercise a client's polling fallback.
func (s *Server) RefuseSubscriptions() { s.refuseSubs.Store(true) }

// service implements the generated streams.StreamsServer; the methods it
// does not define answer Unimplemented.
type service struct {
	streams.UnimplementedStreamsServer
	s *Server
}
