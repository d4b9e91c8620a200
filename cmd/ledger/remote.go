package main

import (
	"context"
	"encoding/json"
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

// remoteLog reads a server's global log through GET /v1/ledger/events: a
// domain.LogReader, so that the hash chain can be verified by a client
// that has the server's answers and nothing else.
type remoteLog struct {
	remote
	client *http.Client
}

// logPageSize is the page the server gives at most.
const logPageSize = 1000

// ReadAll reads up to limit events after afterPosition (at most a page of
// the server's).
func (l remoteLog) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]domain.RecordedEvent, error) {
	target, err := url.JoinPath(l.server, "/v1/ledger/events")
	if err != nil {
		return nil, fmt.Errorf("--server %q: %w", l.server, err)
	}
	target += "?" + url.Values{"after_position": {strconv.FormatInt(afterPosition, 10)},
		"limit": {strconv.Itoa(min(max(limit, 1), logPageSize))}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemError(resp.StatusCode, data)
	}
	var page []api.LogEvent
	if err := json.Unmarshal(data, &page); err != nil {
		return nil, fmt.Errorf("the server's answer is not a page of the log: %w", err)
	}
	events := make([]domain.RecordedEvent, len(page))
	for i, e := range page {
		if events[i], err = e.RecordedEvent(); err != nil {
			return nil, fmt.Errorf("the server's event at position %d: %w", e.Position, err)
		}
	}
	return events, nil
}
