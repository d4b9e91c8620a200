package esdbtest

import (
	"context"
	"errors"
	"io"
	"testing"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// These tests drive the in-process wire-compatibility server (not
// EventStoreDB) through the v4 client, to show that the client accepts
// what it answers.

// start starts a server and a client connected to it.
func start(t *testing.T) (*Server, *esdbclient.Client) {
	t.Helper()
	t.Log("in-process wire-compatibility server built on EventStore-Client-Go's protos; not EventStoreDB")
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	conf, err := esdbclient.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdbclient.NoopLogging()
	c, err := esdbclient.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return srv, c
}

// ev returns a JSON event with a fresh ID.
func ev() esdbclient.EventData {
	return esdbclient.EventData{EventID: uuid.New(), EventType: "test.v1", ContentType: esdbclient.ContentTypeJson,
		Data: []byte(`{"n":1}`), Metadata: []byte(`{"m":2}`)}
}

// appendTo appends evs to stream with expectation exp.
func appendTo(t *testing.T, c *esdbclient.Client, stream string, exp esdbclient.ExpectedRevision, evs ...esdbclient.EventData) (*esdbclient.WriteResult, error) {
	t.Helper()
	return c.AppendToStream(t.Context(), stream, esdbclient.AppendToStreamOptions{ExpectedRevision: exp}, evs...)
}

// wantWrongVersion fails the test unless err is the client's wrong
// expected version error.
func wantWrongVersion(t *testing.T, err error) {
	t.Helper()
	var e *esdbclient.Error
	if !errors.As(err, &e) || e.Code() != esdbclient.ErrorCodeWrongExpectedVersion {
		t.Fatalf("got %v, want a wrong expected version", err)
	}
}

// drain reads every event of rs.
func drain(rs *esdbclient.ReadStream, err error) ([]*esdbclient.RecordedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdbclient.RecordedEvent
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e.Event)
	}
}

// TestWireCompatAppendExpectations checks each expected-revision option
// of Append, holding and failing.
func TestWireCompatAppendExpectations(t *testing.T) {
	_, c := start(t)
	a, b := ev(), ev()
	res, err := appendTo(t, c, "s", esdbclient.NoStream{}, a, b)
	if err != nil || res.NextExpectedVersion != 1 {
		t.Fatalf("append to a new stream = %+v, %v; want revision 1", res, err)
	}
	_, err = appendTo(t, c, "s", esdbclient.NoStream{}, ev())
	wantWrongVersion(t, err)
	_, err = appendTo(t, c, "s", esdbclient.Revision(0), ev())
	wantWrongVersion(t, err)
	_, err = appendTo(t, c, "missing", esdbclient.StreamExists{}, ev())
	wantWrongVersion(t, err)
	if res, err = appendTo(t, c, "s", esdbclient.Revision(1), ev()); err != nil || res.NextExpectedVersion != 2 {
		t.Fatalf("append at the right revision = %+v, %v; want revision 2", res, err)
	}
	if res, err = appendTo(t, c, "s", esdbclient.Any{}, ev()); err != nil || res.NextExpectedVersion != 3 {
		t.Fatalf("append with any = %+v, %v; want revision 3", res, err)
	}
}

// TestWireCompatDeduplication checks that a repeated append with the same
// event IDs succeeds without writing, with "no stream" and with "any", and
// that a partial repeat fails.
func TestWireCompatDeduplication(t *testing.T) {
	srv, c := start(t)
	a, b := ev(), ev()
	if _, err := appendTo(t, c, "s", esdbclient.NoStream{}, a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := appendTo(t, c, "s", esdbclient.Revision(1), ev()); err != nil {
		t.Fatal(err)
	}
	for name, exp := range map[string]esdbclient.ExpectedRevision{
		"no stream": esdbclient.NoStream{}, "any": esdbclient.Any{},
	} {
		res, err := appendTo(t, c, "s", exp, a, b)
		if err != nil || res.NextExpectedVersion != 1 {
			t.Fatalf("repeat with %s = %+v, %v; want success at revision 1", name, res, err)
		}
	}
	_, err := appendTo(t, c, "s", esdbclient.NoStream{}, a, ev())
	wantWrongVersion(t, err)
	if n := len(srv.Events("s")); n != 3 {
		t.Fatalf("stream holds %d events, want 3", n)
	}
}

// TestWireCompatReads checks stream reads forwards and backwards, a read
// of a missing stream, and $all reads from the start and from a position.
func TestWireCompatReads(t *testing.T) {
	_, c := start(t)
	for _, s := range []string{"a", "b", "a", "a"} {
		if _, err := appendTo(t, c, s, esdbclient.Any{}, ev()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := drain(c.ReadStream(t.Context(), "a", esdbclient.ReadStreamOptions{From: esdbclient.Revision(1)}, 5))
	if err != nil || len(got) != 2 || got[0].EventNumber != 1 || string(got[0].UserMetadata) != `{"m":2}` {
		t.Fatalf("read a from 1 = %d events, %v", len(got), err)
	}
	got, err = drain(c.ReadStream(t.Context(), "a", esdbclient.ReadStreamOptions{Direction: esdbclient.Backwards, From: esdbclient.End{}}, 1))
	if err != nil || len(got) != 1 || got[0].EventNumber != 2 {
		t.Fatalf("read a backwards = %v, %v; want revision 2", got, err)
	}
	var e *esdbclient.Error
	if _, err = drain(c.ReadStream(t.Context(), "none", esdbclient.ReadStreamOptions{}, 5)); !errors.As(err, &e) || e.Code() != esdbclient.ErrorCodeResourceNotFound {
		t.Fatalf("read of a missing stream = %v, want resource not found", err)
	}
	all, err := drain(c.ReadAll(t.Context(), esdbclient.ReadAllOptions{}, 10))
	if err != nil || len(all) != 4 || all[1].StreamID != "b" {
		t.Fatalf("read $all = %d events, %v", len(all), err)
	}
	from, err := drain(c.ReadAll(t.Context(), esdbclient.ReadAllOptions{From: all[2].Position}, 1))
	if err != nil || len(from) != 1 || from[0].EventID != all[2].EventID {
		t.Fatalf("read $all from a position = %v, %v; want the event at it", from, err)
	}
}

// TestWireCompatSubscriptions checks catch-up subscriptions to a stream
// (from a revision, exclusive) and to $all (from the start), then live.
func TestWireCompatSubscriptions(t *testing.T) {
	_, c := start(t)
	for range 3 {
		if _, err := appendTo(t, c, "s", esdbclient.Any{}, ev()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub, err := c.SubscribeToStream(ctx, "s", esdbclient.SubscribeToStreamOptions{From: esdbclient.Revision(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	all, err := c.SubscribeToAll(ctx, esdbclient.SubscribeToAllOptions{From: esdbclient.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	wantRevisions(t, sub, 1, 2)
	wantRevisions(t, all, 0, 1, 2)
	if _, err := appendTo(t, c, "s", esdbclient.Any{}, ev()); err != nil {
		t.Fatal(err)
	}
	wantRevisions(t, sub, 3)
	wantRevisions(t, all, 3)
}

// wantRevisions fails the test unless sub delivers events at the given
// revisions next, skipping caught-up and checkpoint messages.
func wantRevisions(t *testing.T, sub *esdbclient.Subscription, revs ...uint64) {
	t.Helper()
	for _, want := range revs {
		for {
			m := sub.Recv()
			if m.SubscriptionDropped != nil {
				t.Fatalf("subscription dropped: %v", m.SubscriptionDropped.Error)
			}
			if m.EventAppeared == nil {
				continue
			}
			if got := m.EventAppeared.Event.EventNumber; got != want {
				t.Fatalf("subscription delivered revision %d, want %d", got, want)
			}
			break
		}
	}
}
