package api

// The contract tests hold the server to promises of CONTRACT.md's HTTP API
// conventions that apply to every route alike, each checked on every route
// the server registers:
//
//   - TestContractEveryWriteRepeatsUnderItsIdempotencyKey: "a repeat with
//     the same key and body returns the first answer; the same key with a
//     different body answers 422 idempotency_mismatch".
//   - TestContractEveryReadWaitsForMinPosition: "every read accepts
//     min_position=N and answers only once its read model has reached N
//     (waiting up to 5 s, then 503 with Retry-After)".
//   - TestContractLostRaceAnswers409Conflict: "409 conflict: a concurrent
//     write won; safe to retry".
//   - TestContractInternalProblemHasADetail: "Errors are
//     application/problem+json: {"type","title","status","detail","code"}",
//     a failure of the server's own too.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// TestContractEveryWriteRepeatsUnderItsIdempotencyKey sends every write
// route of CONTRACT.md (the routes of the authorisation matrix) twice with
// one Idempotency-Key and body: the repeat answers the first answer, status,
// body and Ledger-Position alike, and writes nothing. The same key with a
// body that differs in one field then answers 422 idempotency_mismatch and
// writes nothing.
func TestContractEveryWriteRepeatsUnderItsIdempotencyKey(t *testing.T) {
	w := newAuthzWorld(t, func(c *Config) { c.RateLimit = 10_000 })
	admin := authzCaller{name: callAdmin, key: oasAdminKey}
	for i, r := range w.routes() {
		t.Run(r.name, func(t *testing.T) {
			w.h.t = t
			c := w.request(r, r.target(), admin)
			c.idemKey, c.want = fmt.Sprintf("contract-%d", i), r.status
			first := w.h.do(c)
			head := w.head()
			again := w.h.do(c)
			if string(again.body) != string(first.body) || again.header.Get("Ledger-Position") != first.header.Get("Ledger-Position") {
				t.Errorf("the repeat answered %s (Ledger-Position %q), want the first answer %s (%q)", again.body,
					again.header.Get("Ledger-Position"), first.body, first.header.Get("Ledger-Position"))
			}
			if w.head() != head {
				t.Errorf("the repeat moved the head from %d to %d", head, w.head())
			}
			other, ok := withOneFieldChanged(t, c)
			if !ok {
				return // no body: nothing else to send under the key
			}
			other.want, other.code = http.StatusUnprocessableEntity, "idempotency_mismatch"
			w.h.do(other)
			if w.head() != head {
				t.Errorf("the request with another body moved the head from %d to %d", head, w.head())
			}
		})
	}
}

// withOneFieldChanged returns c with a body that differs from c's in one
// field, and false when c has no body: a date a day earlier, else a flag
// negated (an organisation's sme, a patent's annual_fee_overdue), or a CSV
// import with another title.
func withOneFieldChanged(t *testing.T, c oasCall) (oasCall, bool) {
	if c.raw != nil {
		c.raw = []byte(strings.Replace(string(c.raw), "一种图像识别方法", "一种图像分割方法", 1))
		return c, true
	}
	body, ok := c.body.(map[string]any)
	if !ok {
		return c, false
	}
	body = maps.Clone(body)
	c.body = body
	keys := slices.Sorted(maps.Keys(body))
	for _, k := range keys {
		if s, isString := body[k].(string); isString && strings.HasSuffix(k, "_on") {
			body[k] = mustDay(s).AddDays(-1).String()
			return c, true
		}
	}
	for _, k := range keys {
		if b, isBool := body[k].(bool); isBool {
			body[k] = !b
			return c, true
		}
	}
	t.Fatalf("%s %s: no date or flag to change in %v", c.method, c.path, body)
	return c, false
}

// TestContractEveryReadWaitsForMinPosition sends every /v1 read the server
// registers (each download format too) min_position one past the head: each
// answers 503 unavailable with Retry-After once the wait limit has passed,
// and 400 naming min_position for a value that is no position.
func TestContractEveryReadWaitsForMinPosition(t *testing.T) {
	const wait = 50 * time.Millisecond
	w := newAuthzWorld(t, func(c *Config) { c.ReadWaitLimit, c.RateLimit = wait, 10_000 })
	p := w.declared()
	ahead := strconv.FormatInt(w.head()+1, 10)
	paths := strings.NewReplacer("{number}", p.number, "{id}", w.uni.id)
	reads := 0
	for _, route := range readsWithMinPosition(t, w.h) {
		for _, query := range route.queries {
			target := paths.Replace(route.path) + "?" + withQuery(query, "min_position", ahead)
			start := time.Now()
			r := w.h.do(oasCall{method: http.MethodGet, path: target, key: w.reg.key, want: http.StatusServiceUnavailable, code: "unavailable"})
			if r.header.Get("Retry-After") == "" || time.Since(start) < wait {
				t.Errorf("GET %s answered after %s with Retry-After %q, want a wait of %s and a Retry-After",
					target, time.Since(start), r.header.Get("Retry-After"), wait)
			}
			bad := paths.Replace(route.path) + "?" + withQuery(query, "min_position", "soon")
			r = w.h.do(oasCall{method: http.MethodGet, path: bad, key: w.reg.key, want: http.StatusBadRequest,
				code: "invalid_argument", docRejects: true})
			if !strings.Contains(string(r.body), `"field":"min_position"`) {
				t.Errorf("GET %s: %s, want the error to name min_position", bad, r.body)
			}
			reads++
		}
	}
	if reads < 20 {
		t.Fatalf("only %d reads were sent; the route list is wrong", reads)
	}
}

// minPositionRead is a documented, registered GET route under /v1 and the
// queries to send it (see oasQueries).
type minPositionRead struct {
	path    string
	queries []url.Values
}

// readsWithMinPosition lists the /v1 reads; each must document
// min_position (TestOpenAPIDocument checks that).
func readsWithMinPosition(t *testing.T, h *oasHarness) []minPositionRead {
	registered := oasRegisteredRoutes(h.server.Echo())
	ops := oasOperations(h.doc)
	var out []minPositionRead
	for _, route := range oasSortedKeys(ops) {
		method, path, _ := strings.Cut(route, " ")
		if method == http.MethodGet && strings.HasPrefix(path, "/v1/") && registered[route] {
			out = append(out, minPositionRead{path: path, queries: oasQueries(t, route, ops[route], "")})
		}
	}
	return out
}

// withQuery returns q with name set to value, encoded.
func withQuery(q url.Values, name, value string) string {
	q = maps.Clone(q)
	q.Set(name, value)
	return q.Encode()
}

// losingStore is an event store on which a concurrent write wins each of
// the first losses appends: they fail as an expected version that no
// longer holds does, and write nothing.
type losingStore struct {
	domain.EventStore
	losses int
}

func (s *losingStore) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	if s.losses > 0 {
		s.losses--
		return domain.AppendResult{}, fmt.Errorf("stream moved on: %w", domain.ErrConflict)
	}
	return s.EventStore.Append(ctx, appends...)
}

// TestContractLostRaceAnswers409Conflict: a write whose every attempt loses
// to a concurrent write answers 409 conflict and writes nothing; sent
// again, it succeeds.
func TestContractLostRaceAnswers409Conflict(t *testing.T) {
	const attempts = 3
	var store *losingStore
	h := oasNewHarness(t, func(c *Config) {
		store = &losingStore{EventStore: c.Store}
		svc, err := domain.NewService(store, domain.ServiceOptions{Clock: func() time.Time { return oasToday }, MaxAttempts: attempts,
			NewID: uuid.NewString})
		if err != nil {
			t.Fatal(err)
		}
		c.Service = svc
	})
	org := oasCall{method: http.MethodPost, path: "/v1/orgs", key: oasAdminKey, body: map[string]any{"name": "华南理工大学",
		"kind": "university", "region_code": "440106", "credit_code": oasCredit(t, "12440000455416125"), "sme": false}}
	store.losses = attempts
	lost := org
	lost.want, lost.code = http.StatusConflict, "conflict"
	h.do(lost)
	if head, err := store.Head(context.Background()); err != nil || head.Position != 0 {
		t.Fatalf("the lost write left the head at %d (%v)", head.Position, err)
	}
	org.want = http.StatusCreated
	h.do(org)
}

// TestContractUnknownDeclarationIsNotFound: an open licence naming a
// declaration that does not exist answers 404 not_found naming
// declaration_id, as a withdrawal of one does ("no such … declaration");
// one naming another patent's declaration breaks the rule
// declaration_not_in_effect (DOMAIN.md); neither writes.
func TestContractUnknownDeclarationIsNotFound(t *testing.T) {
	w := newAuthzWorld(t, nil)
	p, other := w.declared(), w.declared()
	digits := strings.NewReplacer("ZL", "", ".", "").Replace(p.number)
	before := w.head()
	for _, c := range []struct {
		declID, code, rule string
		docRejects         bool // no declaration ID in form
	}{
		{"D" + digits + "-0000000000000009", "not_found", "", false},
		{"D1", "not_found", "", true},
		{other.declID, "rule_violation", "declaration_not_in_effect", false},
	} {
		want := http.StatusNotFound
		if c.rule != "" {
			want = http.StatusConflict
		}
		r := w.h.do(oasCall{method: http.MethodPost, path: "/v1/patents/" + p.number + "/licenses", key: w.sme.key,
			body: map[string]any{"type": "open", "licensee_id": w.sme.id, "effective_on": "2024-06-10", "fee_paid_fen": 0,
				"declaration_id": c.declID}, want: want, code: c.code, rule: c.rule, docRejects: c.docRejects})
		if c.rule == "" && !strings.Contains(string(r.body), `"field":"declaration_id"`) {
			t.Errorf("declaration %s: %s, want the error to name declaration_id", c.declID, r.body)
		}
	}
	if w.head() != before {
		t.Errorf("refused licences moved the head from %d to %d", before, w.head())
	}
}

// unreadableHeadStore is an event store whose head cannot be read, for a
// reason that is no client's mistake nor an outage.
type unreadableHeadStore struct{ domain.EventStore }

func (unreadableHeadStore) Head(context.Context) (domain.Head, error) {
	return domain.Head{}, errors.New("disk I/O error")
}

// TestContractInternalProblemHasADetail: a failure of the server's own
// answers 500 internal with every member of a problem, detail included,
// and the request ID it names.
func TestContractInternalProblemHasADetail(t *testing.T) {
	h := oasNewHarness(t, func(c *Config) { c.Store = unreadableHeadStore{c.Store} })
	r := h.do(oasCall{method: http.MethodGet, path: "/v1/ledger/head", key: oasAdminKey, want: http.StatusInternalServerError, code: "internal"})
	var members map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &members); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"type", "title", "status", "detail", "code"} {
		if len(members[m]) == 0 || string(members[m]) == `""` {
			t.Errorf("the problem has no %s: %s", m, r.body)
		}
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Errorf("the answer names no request ID for the detail to point to")
	}
}
