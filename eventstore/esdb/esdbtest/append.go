package esdbtest

import (
	"errors"
	"io"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// expectation is an append's expected-revision option.
type expectation struct {
	kind     int // one of expectAny … expectRevision
	revision uint64
}

const (
	expectAny = iota
	expectNoStream
	expectExists
	expectRevision
)

// Append receives the options message, then the proposed events, and
// writes them atomically under EventStoreDB's expected-revision rules.
func (v *service) Append(stream streams.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil || len(opts.GetStreamIdentifier().GetStreamName()) == 0 {
		return status.Error(codes.InvalidArgument, "the first append message must carry the options and a stream name")
	}
	exp, err := expectationOf(opts)
	if err != nil {
		return err
	}
	evs, err := receiveEvents(stream)
	if err != nil {
		return err
	}
	return stream.SendAndClose(v.s.append(string(opts.GetStreamIdentifier().GetStreamName()), exp, evs))
}

// expectationOf reads the expected-revision option of an append.
func expectationOf(opts *streams.AppendReq_Options) (expectation, error) {
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		return expectation{kind: expectAny}, nil
	case *streams.AppendReq_Options_NoStream:
		return expectation{kind: expectNoStream}, nil
	case *streams.AppendReq_Options_StreamExists:
		return expectation{kind: expectExists}, nil
	case *streams.AppendReq_Options_Revision:
		return expectation{kind: expectRevision, revision: o.Revision}, nil
	}
	return expectation{}, status.Error(codes.InvalidArgument, "append without an expected revision")
}

// receiveEvents reads proposed messages until the client closes its side.
func receiveEvents(stream streams.Streams_AppendServer) ([]*Event, error) {
	var evs []*Event
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return nil, err
		}
		e, err := proposed(req.GetProposedMessage())
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
}

// proposed converts a proposed message into an event not yet placed.
func proposed(m *streams.AppendReq_ProposedMessage) (*Event, error) {
	if m == nil {
		return nil, status.Error(codes.InvalidArgument, "expected a proposed message")
	}
	id, err := fromProtoUUID(m.GetId())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "event id: %v", err)
	}
	md := m.GetMetadata()
	if md["type"] == "" {
		return nil, status.Error(codes.InvalidArgument, "event without a type")
	}
	return &Event{ID: id, Type: md["type"], ContentType: md["content-type"],
		Data: append([]byte(nil), m.GetData()...), Metadata: append([]byte(nil), m.GetCustomMetadata()...)}, nil
}

// fromProtoUUID decodes a UUID in either wire form.
func fromProtoUUID(u *shared.UUID) (uuid.UUID, error) {
	if st := u.GetStructured(); st != nil {
		var b [16]byte
		putInt64(b[:8], st.GetMostSignificantBits())
		putInt64(b[8:], st.GetLeastSignificantBits())
		return uuid.UUID(b), nil
	}
	return uuid.Parse(u.GetString_())
}

// putInt64 writes v big-endian into b.
func putInt64(b []byte, v int64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// append applies the expected-revision rules and writes evs to stream.
func (s *Server) append(stream string, exp expectation, evs []*Event) *streams.AppendResp {
	s.appends.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.streams[stream]
	if exp.kind == expectAny { // "any" de-duplicates before it writes
		if last, ok := duplicate(cur, exp, evs); ok {
			return success(cur[last])
		}
	}
	if next, ok := expectationHolds(cur, exp); ok {
		return s.write(stream, next, evs)
	}
	if last, ok := duplicate(cur, exp, evs); ok {
		return success(cur[last])
	}
	return wrongExpectedVersion(cur, exp)
}

// expectationHolds reports whether exp holds for the stream's events cur,
// and the revision the next event would get.
func expectationHolds(cur []*Event, exp expectation) (uint64, bool) {
	n := uint64(len(cur))
	switch exp.kind {
	case expectNoStream:
		return n, n == 0
	case expectExists:
		return n, n > 0
	case expectRevision:
		return n, n > 0 && exp.revision == n-1
	}
	return n, true
}

// duplicate implements EventStoreDB's idempotent-append check: evs are
// already stored, with the same IDs, right after the expected revision (for
// "any": wherever the first ID is found). It returns the index of the last
// of them.
func duplicate(cur []*Event, exp expectation, evs []*Event) (int, bool) {
	if len(evs) == 0 {
		return 0, false
	}
	start := -1
	switch exp.kind {
	case expectNoStream:
		start = 0
	case expectRevision:
		start = int(exp.revision) + 1
	case expectAny:
		start = indexOf(cur, evs[0].ID)
	}
	if start < 0 || start+len(evs) > len(cur) {
		return 0, false
	}
	for i, e := range evs {
		if cur[start+i].ID != e.ID {
			return 0, false
		}
	}
	return start + len(evs) - 1, true
}

// indexOf returns the index of the event with id in evs, or -1.
func indexOf(evs []*Event, id uuid.UUID) int {
	for i, e := range evs {
		if e.ID == id {
			return i
		}
	}
	return -1
}

// write places evs at the end of stream (at revision next on) and of $all,
// wakes subscriptions, and returns the success response. An append of no
// events writes nothing, as EventStoreDB does.
func (s *Server) write(stream string, next uint64, evs []*Event) *streams.AppendResp {
	created := time.Now().UnixNano() / 100
	for i, e := range evs {
		s.pos += uint64(64 + len(e.Data) + len(e.Metadata)) // like a log's byte offset
		e.Stream, e.Revision, e.Created, e.Position = stream, next+uint64(i), created, s.pos
		s.streams[stream] = append(s.streams[stream], e)
		s.all = append(s.all, e)
	}
	close(s.changed)
	s.changed = make(chan struct{})
	cur := s.streams[stream]
	if len(cur) == 0 {
		return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: &streams.AppendResp_Success{
			CurrentRevisionOption: &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
			PositionOption:        &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}}
	}
	return success(cur[len(cur)-1])
}

// success answers an append whose last event is last.
func success(last *Event) *streams.AppendResp {
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: &streams.AppendResp_Success{
		CurrentRevisionOption: &streams.AppendResp_Success_CurrentRevision{CurrentRevision: last.Revision},
		PositionOption: &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition: last.Position, PreparePosition: last.Position}},
	}}}
}

// wrongExpectedVersion answers an append whose expectation failed.
func wrongExpectedVersion(cur []*Event, exp expectation) *streams.AppendResp {
	w := &streams.AppendResp_WrongExpectedVersion{}
	if len(cur) == 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(len(cur) - 1)}
	}
	switch exp.kind {
	case expectNoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	case expectRevision:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
	default:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}
