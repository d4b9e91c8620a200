package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
)

// remote is a running server a command works through: its URL and the
// bearer key it sends.
type remote struct {
	server, key string
}

// addFlags adds --server and --key (LEDGER_SERVER, LEDGER_KEY) to fs; what
// says what the server is used for, whose describes the key it needs.
func (r *remote) addFlags(fs *flag.FlagSet, what, whose string) {
	fs.StringVar(&r.server, "server", os.Getenv("LEDGER_SERVER"), what+" (env LEDGER_SERVER)")
	fs.StringVar(&r.key, "key", os.Getenv("LEDGER_KEY"), "bearer key for --server: "+whose+" (env LEDGER_KEY)")
}

// check reports a --server without --key, or one that is no http(s)
// address; nil when no server is given.
func (r remote) check() error {
	if r.server == "" {
		return nil
	}
	if r.key == "" {
		return fmt.Errorf("--server needs --key (or LEDGER_KEY)")
	}
	if u, err := url.Parse(r.server); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("--server %q is not a server address; want http://HOST:PORT or https://HOST", r.server)
	}
	return nil
}

// request returns a request of method to path on the server, carrying the
// key.
func (r remote) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	target, err := url.JoinPath(r.server, path)
	if err != nil {
		return nil, fmt.Errorf("--server %q: %w", r.server, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	return req, nil
}

// decodeAnswer sends req and decodes the JSON of a 200 answer of at most
// limit bytes into v, which what names in an error; another status is the
// problem the server answered.
func decodeAnswer(req *http.Request, limit int64, v any, what string) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return problemError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("the server's answer is not %s: %w", what, err)
	}
	return nil
}

// problemError describes a problem document the server answered.
func problemError(status int, data []byte) error {
	var p api.Problem
	if json.Unmarshal(data, &p) != nil || p.Code == "" {
		return fmt.Errorf("the server answered %d: %s", status, bytes.TrimSpace(data))
	}
	msg := fmt.Sprintf("the server answered %d %s", status, p.Code)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	return errors.New(msg)
}

// remoteLog reads a server's global log through GET /v1/ledger/events: a
// domain.LogReader, so that the hash chain can be verified by a client
// that has the server's answers and nothing else.
type remoteLog struct{ remote }

// logPageSize is the page the server gives at most.
const logPageSize = 1000

// ReadAll reads up to limit events after afterPosition (at most a page of
// the server's).
func (l remoteLog) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]domain.RecordedEvent, error) {
	req, err := l.request(ctx, http.MethodGet, "/v1/ledger/events", nil)
	if err != nil {
		return nil, err
	}
	req.URL.RawQuery = url.Values{"after_position": {strconv.FormatInt(afterPosition, 10)},
		"limit": {strconv.Itoa(min(max(limit, 1), logPageSize))}}.Encode()
	var page []api.LogEvent
	if err := decodeAnswer(req, 256<<20, &page, "a page of the log"); err != nil {
		return nil, err
	}
	events := make([]domain.RecordedEvent, len(page))
	for i, e := range page {
		if events[i], err = e.RecordedEvent(); err != nil {
			return nil, fmt.Errorf("the server's event at position %d: %w", e.Position, err)
		}
	}
	return events, nil
}
