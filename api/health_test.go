package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// headFailingStore is a store whose head cannot be read while down is set.
type headFailingStore struct {
	domain.EventStore
	down atomic.Bool
}

func (s *headFailingStore) Head(ctx context.Context) (domain.Head, error) {
	if s.down.Load() {
		return domain.Head{}, errors.New("dial tcp 10.0.0.7:5432: connection refused")
	}
	return s.EventStore.Head(ctx)
}

// TestHealthLogsAStoreOutageOnceWhenItStartsAndOnceWhenItEnds: probes
// during an outage all answer 503, but the log says so once, and once more
// when the store answers again, not once a probe.
func TestHealthLogsAStoreOutageOnceWhenItStartsAndOnceWhenItEnds(t *testing.T) {
	var logs lockedBuffer
	var store *headFailingStore
	h := oasNewHarness(t, func(c *Config) {
		store = &headFailingStore{EventStore: c.Store}
		c.Store = store
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	h.do(oasCall{method: "GET", path: "/healthz", want: 200})
	store.down.Store(true)
	for range 5 {
		h.do(oasCall{method: "GET", path: "/healthz", want: 503, code: "unavailable"})
	}
	store.down.Store(false)
	for range 3 {
		h.do(oasCall{method: "GET", path: "/healthz", want: 200})
	}
	store.down.Store(true)
	h.do(oasCall{method: "GET", path: "/healthz", want: 503, code: "unavailable"})
	out := logs.String()
	if n := strings.Count(out, "event store cannot be read"); n != 2 {
		t.Errorf("two outages were logged %d times:\n%s", n, out)
	}
	if n := strings.Count(out, "event store can be read again"); n != 1 {
		t.Errorf("one recovery was logged %d times:\n%s", n, out)
	}
	if strings.Contains(out, "request failed") {
		t.Errorf("each probe was logged as a failed request as well:\n%s", out)
	}
	if !strings.Contains(out, "10.0.0.7:5432") {
		t.Errorf("the log does not say why the store cannot be read:\n%s", out)
	}
}

// stalledHeadStore is a store whose head is answered only once the
// asker gives up, as a paused or overloaded node's store read is.
type stalledHeadStore struct {
	domain.EventStore
	stalled atomic.Bool
}

func (s *stalledHeadStore) Head(ctx context.Context) (domain.Head, error) {
	if s.stalled.Load() {
		<-ctx.Done()
		return domain.Head{}, fmt.Errorf("postgres: read head: %w", ctx.Err())
	}
	return s.EventStore.Head(ctx)
}

// TestHealthProbeThatGivesUpIsNoStoreOutage: a probe that gave up before
// its answer (a timeout on a paused node) was answered 503 and logged as
// the event store being unreadable while PostgreSQL was up: a false alarm
// for whoever alerts on either. It is a client that closed its request
// (499, logged as information).
func TestHealthProbeThatGivesUpIsNoStoreOutage(t *testing.T) {
	var logs lockedBuffer
	var store *stalledHeadStore
	h := oasNewHarness(t, func(c *Config) {
		store = &stalledHeadStore{EventStore: c.Store}
		c.Store = store
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	store.stalled.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", "/healthz", nil)
	rec := httptest.NewRecorder()
	time.AfterFunc(50*time.Millisecond, cancel)
	h.server.Handler().ServeHTTP(rec, req)
	out := logs.String()
	if rec.Code != statusClientClosedRequest || strings.Contains(out, "event store cannot be read") || !strings.Contains(out, "client closed request") {
		t.Errorf("a probe that gave up: %d, log:\n%s", rec.Code, out)
	}
}

// TestFailedRequestsAreLoggedAtTheirLevel: an internal error is logged as
// an error, a store that cannot be reached as a warning, and a client's
// mistake not at all.
func TestFailedRequestsAreLoggedAtTheirLevel(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("disk I/O error"), "level=ERROR"},
		{fmt.Errorf("append: %w: connection refused", domain.ErrUnavailable), "level=WARN"},
		{domain.Invalid("title", "title is required"), ""},
	} {
		var logs lockedBuffer
		s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		rec := httptest.NewRecorder()
		s.handleError(tc.err, s.echo.NewContext(httptest.NewRequest("POST", "/v1/patents", nil), rec))
		got := logs.String()
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want+` msg="request failed"`) {
			t.Errorf("%v was logged as %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestRequestLinesSayMethodAndCode: a request's log line names a HEAD as
// HEAD (the routes answer it as a GET), and a refused request's line the
// problem's code and rule the client was told, to find it by them.
func TestRequestLinesSayMethodAndCode(t *testing.T) {
	var logs lockedBuffer
	h := oasNewHarness(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	for _, req := range []*http.Request{httptest.NewRequest("HEAD", "/healthz", nil),
		httptest.NewRequest("GET", "/v1/listings?sort=sideways", nil)} {
		h.server.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	out := logs.String()
	for _, want := range []string{`"method":"HEAD","path":"/healthz","status":200`,
		`"method":"GET","path":"/v1/listings","status":400`, `"code":"invalid_argument"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in the request log:\n%s", want, out)
		}
	}
	for line := range strings.Lines(out) {
		if strings.Contains(line, `"path":"/healthz"`) && strings.Contains(line, `"code"`) {
			t.Errorf("a request that succeeded names a problem code: %s", line)
		}
	}
}

// fullStore is a store whose appends are refused as unavailable, as a full
// disk's are, while full is set.
type fullStore struct {
	domain.EventStore
	full atomic.Bool
}

func (s *fullStore) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	if s.full.Load() {
		return domain.AppendResult{}, domain.Unavailable("the disk that holds the event store is full; writes resume once space is freed on it")
	}
	return s.EventStore.Append(ctx, appends...)
}

// TestHealthSaysWhenWritesFail: a store that refuses appends still serves
// reads, so /healthz stays 200, but it says that writes fail, since when
// and why, and ledger_store_writes_failing is 1, until an append goes
// through again; the log says so once when it starts and once when it
// ends, and a refused command (a conflict) changes nothing.
func TestHealthSaysWhenWritesFail(t *testing.T) {
	var logs lockedBuffer
	var store *fullStore
	h := oasNewHarness(t, func(c *Config) {
		store = &fullStore{EventStore: c.Store}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		c.Writes = NewWriteHealth(c.Logger)
		svc, err := domain.NewService(store, domain.ServiceOptions{NewID: uuid.NewString, OnAppend: c.Writes.Observe})
		if err != nil {
			t.Fatal(err)
		}
		c.Service = svc
	})
	writes := func() map[string]any {
		t.Helper()
		r := h.do(oasCall{method: "GET", path: "/healthz", want: 200})
		w, _ := r.obj["writes"].(map[string]any)
		return w
	}
	failing := func() string {
		t.Helper()
		r := h.do(oasCall{method: "GET", path: "/metrics", want: 200})
		for line := range strings.Lines(string(r.body)) {
			if v, ok := strings.CutPrefix(line, "ledger_store_writes_failing "); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("/metrics has no ledger_store_writes_failing:\n%s", r.body)
		return ""
	}
	org := func(name, credit string, want int, code string) oasCall {
		return oasCall{method: http.MethodPost, path: "/v1/orgs", key: oasAdminKey, want: want, code: code, body: map[string]any{
			"name": name, "kind": "university", "region_code": "440106", "credit_code": oasCredit(t, credit), "sme": false}}
	}
	if w := writes(); w["failing"] != false || len(w) != 1 || failing() != "0" {
		t.Fatalf("before any write: writes %v, metric %s", w, failing())
	}
	store.full.Store(true)
	before := time.Now().UTC().Truncate(time.Second)
	for range 3 {
		h.do(org("华南理工大学", "12440000455416125", http.StatusServiceUnavailable, "unavailable"))
	}
	w := writes()
	since, _ := time.Parse(time.RFC3339, fmt.Sprint(w["since"]))
	if w["failing"] != true || since.Before(before) || since.After(time.Now()) ||
		w["detail"] != "the disk that holds the event store is full; writes resume once space is freed on it" || failing() != "1" {
		t.Fatalf("writes refused: %v, metric %s", w, failing())
	}
	store.full.Store(false)
	h.do(org("华南理工大学", "12440000455416125", http.StatusCreated, ""))
	if w := writes(); w["failing"] != false || w["since"] != nil || failing() != "0" {
		t.Fatalf("after a write went through: writes %v, metric %s", w, failing())
	}
	store.full.Store(true)
	h.do(org("中山大学", "12440000455350371", http.StatusServiceUnavailable, "unavailable"))
	store.full.Store(false)
	again := org("华南理工大学", "12440000455416125", http.StatusConflict, "rule_violation")
	again.rule = "org_already_registered"
	h.do(again)
	if w := writes(); w["failing"] != true {
		t.Fatalf("a refused command cleared the failing writes: %v", w)
	}
	out := logs.String()
	if n := strings.Count(out, "the event store refuses appends"); n != 2 {
		t.Errorf("two runs of failing writes were logged %d times:\n%s", n, out)
	}
	if n := strings.Count(out, "the event store takes appends again"); n != 1 {
		t.Errorf("one recovery was logged %d times:\n%s", n, out)
	}
}

// TestWebFormOnAStoreThatTakesNoWritesSaysWhenToRetry: a web form the store
// refuses as unavailable (its disk full) answers 503 with Retry-After, as
// the API does, and writes nothing (re-check 6: the page had no
// Retry-After).
func TestWebFormOnAStoreThatTakesNoWritesSaysWhenToRetry(t *testing.T) {
	var store *fullStore
	w := newAuthzWorld(t, func(c *Config) {
		store = &fullStore{EventStore: c.Store}
		svc, err := domain.NewService(store, domain.ServiceOptions{Clock: func() time.Time { return oasToday }, NewID: uuid.NewString})
		if err != nil {
			t.Fatal(err)
		}
		c.Service = svc
	})
	target := w.patent()
	uni := w.signin(w.uni.key)
	page := w.h.http.URL + "/patents/" + target.number
	_, html, _ := get(t, uni, page)
	form := url.Values{"csrf": {csrfOf(t, html)}, "mode": {"free"}, "term_months": {"12"}, "declared_on": {"2024-06-01"},
		"co_owner_consent": {w.co.id}}
	store.full.Store(true)
	before := w.head()
	status, body, header := post(t, uni, page+"/declare?lang=en", form)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") != storeRetryAfter || w.head() != before {
		t.Fatalf("a declaration form on a full disk: %d, Retry-After %q, head %d→%d\n%s", status, header.Get("Retry-After"), before, w.head(), body)
	}
	store.full.Store(false)
	if status, _, _ := post(t, uni, page+"/declare?lang=en", form); status != http.StatusSeeOther || w.head() == before {
		t.Fatalf("the same form once the disk has room: %d, head %d→%d", status, before, w.head())
	}
}
