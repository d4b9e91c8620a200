package esdbtest

import (
	"encoding/binary"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Read serves reads of one stream or of $all, and catch-up subscriptions
// to either.
func (v *service) Read(req *streams.ReadReq, out streams.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read without options")
	}
	if _, ok := o.GetFilterOption().(*streams.ReadReq_Options_Filter); ok {
		return status.Error(codes.Unimplemented, "esdbtest: server-side filters are not implemented")
	}
	r := reader{s: v.s, out: out, asString: o.GetUuidOption().GetString_() != nil}
	backwards := o.GetReadDirection() == streams.ReadReq_Options_Backwards
	subscribe := o.GetSubscription() != nil
	if subscribe && v.s.refuseSubs.Load() {
		return status.Error(codes.Unimplemented, "esdbtest: subscriptions are refused")
	}
	switch so := o.GetStreamOption().(type) {
	case *streams.ReadReq_Options_Stream:
		if subscribe {
			return r.subscribe(r.streamSource(so.Stream))
		}
		return r.readStream(so.Stream, backwards, o.GetCount())
	case *streams.ReadReq_Options_All:
		if subscribe {
			return r.subscribe(r.allSource(so.All))
		}
		return r.send(v.s.readAll(so.All, backwards, o.GetCount()))
	}
	return status.Error(codes.InvalidArgument, "read of neither a stream nor $all")
}

// reader sends the answer of one Read call.
type reader struct {
	s        *Server
	out      streams.Streams_ReadServer
	asString bool // the client asked for UUIDs as strings
}

// readStream answers a read of one stream.
func (r reader) readStream(o *streams.ReadReq_Options_StreamOptions, backwards bool, count uint64) error {
	name := o.GetStreamIdentifier().GetStreamName()
	evs, found := r.s.readStream(string(name), o, backwards, count)
	if !found {
		return r.out.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
			StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: name}}}})
	}
	return r.send(evs)
}

// send sends evs, one message each.
func (r reader) send(evs []Event) error {
	for i := range evs {
		if err := r.out.Send(r.eventResp(&evs[i])); err != nil {
			return err
		}
	}
	return nil
}

// readStream returns copies of up to count events of stream from the
// option's start in the given direction, and whether the stream exists.
func (s *Server) readStream(name string, o *streams.ReadReq_Options_StreamOptions, backwards bool, count uint64) ([]Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.streams[name]
	if len(evs) == 0 {
		return nil, false
	}
	start := len(evs) // End
	switch x := o.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Start:
		start = 0
	case *streams.ReadReq_Options_StreamOptions_Revision:
		start = int(min(x.Revision, uint64(len(evs))))
	}
	if backwards {
		return collectBackwards(evs, min(start, len(evs)-1), count), true
	}
	return collect(evs, start, count), true
}

// readAll returns copies of up to count events of $all from the option's
// start in the given direction. Reading forwards from a position includes
// the event at it; reading backwards from a position starts before it.
func (s *Server) readAll(o *streams.ReadReq_Options_AllOptions, backwards bool, count uint64) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := len(s.all) // End
	switch x := o.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Start:
		start = 0
	case *streams.ReadReq_Options_AllOptions_Position:
		start = s.firstAtOrAfter(x.Position.GetCommitPosition())
	}
	if backwards {
		return collectBackwards(s.all, start-1, count)
	}
	return collect(s.all, start, count)
}

// firstAtOrAfter returns the index in $all of the first event at or after
// commit position p.
func (s *Server) firstAtOrAfter(p uint64) int {
	for i, e := range s.all {
		if e.Position >= p {
			return i
		}
	}
	return len(s.all)
}

// collect copies up to count events of evs from index start on.
func collect(evs []*Event, start int, count uint64) []Event {
	var out []Event
	for i := start; i < len(evs) && uint64(len(out)) < count; i++ {
		out = append(out, evs[i].clone())
	}
	return out
}

// collectBackwards copies up to count events of evs from index start down.
func collectBackwards(evs []*Event, start int, count uint64) []Event {
	var out []Event
	for i := start; i >= 0 && uint64(len(out)) < count; i-- {
		out = append(out, evs[i].clone())
	}
	return out
}

// eventResp builds the read message of one event.
func (r reader) eventResp(e *Event) *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               r.protoUUID(e.ID),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(e.Stream)},
			StreamRevision:   e.Revision,
			PreparePosition:  e.Position,
			CommitPosition:   e.Position,
			Metadata: map[string]string{"type": e.Type, "content-type": e.ContentType,
				"created": strconv.FormatInt(e.Created, 10)},
			CustomMetadata: e.Metadata,
			Data:           e.Data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.Position},
	}}}
}

// protoUUID encodes id in the form the client asked for.
func (r reader) protoUUID(id uuid.UUID) *shared.UUID {
	if r.asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}
