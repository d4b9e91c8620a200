package esdbtest

import (
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
)

// source returns copies of the events of one subscription from index next
// on, and a channel closed at the next write.
type source func(next int) ([]Event, <-chan struct{})

// subscribe serves a catch-up subscription: a confirmation, the events
// already stored after the start, a caught-up message, then every new event
// until the client cancels or the server stops.
func (r reader) subscribe(src func() (int, source)) error {
	confirm := &streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}
	if err := r.out.Send(confirm); err != nil {
		return err
	}
	next, read := src()
	caughtUp := false
	for {
		evs, changed := read(next)
		if err := r.send(evs); err != nil {
			return err
		}
		next += len(evs)
		if !caughtUp {
			caughtUp = true
			msg := &streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}
			if err := r.out.Send(msg); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-r.out.Context().Done():
			return r.out.Context().Err()
		}
	}
}

// streamSource returns the start index and the source of a subscription to
// one stream. Subscribing from a revision delivers the events after it.
func (r reader) streamSource(o *streams.ReadReq_Options_StreamOptions) func() (int, source) {
	name := string(o.GetStreamIdentifier().GetStreamName())
	return func() (int, source) {
		s := r.s
		s.mu.Lock()
		start := len(s.streams[name]) // End
		switch x := o.GetRevisionOption().(type) {
		case *streams.ReadReq_Options_StreamOptions_Start:
			start = 0
		case *streams.ReadReq_Options_StreamOptions_Revision:
			start = int(x.Revision) + 1
		}
		s.mu.Unlock()
		return start, func(next int) ([]Event, <-chan struct{}) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return collect(s.streams[name], next, uint64(len(s.streams[name]))), s.changed
		}
	}
}

// allSource returns the start index and the source of a subscription to
// $all. Subscribing from a position delivers the events after it.
func (r reader) allSource(o *streams.ReadReq_Options_AllOptions) func() (int, source) {
	return func() (int, source) {
		s := r.s
		s.mu.Lock()
		start := len(s.all) // End
		switch x := o.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Start:
			start = 0
		case *streams.ReadReq_Options_AllOptions_Position:
			start = s.firstAtOrAfter(x.Position.GetCommitPosition() + 1)
		}
		s.mu.Unlock()
		return start, func(next int) ([]Event, <-chan struct{}) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return collect(s.all, next, uint64(len(s.all))), s.changed
		}
	}
}
