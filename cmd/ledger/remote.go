package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
)

// remote is a running server a command works through: its URL and the
// bearer key it sends.
type remote struct {
	server, key string
}

// addFlags adds --server and --key (LEDGER_SERVER, LEDGER_KEY) to fs; what
// says what the server is used for, whose describes the key it needs. The
// usage shows no default: never the key (or the server) of the environment.
func (r *remote) addFlags(fs *flag.FlagSet, what, whose string) {
	envStringVar(fs, &r.server, "server", "LEDGER_SERVER", "", what+" (env LEDGER_SERVER)")
	envStringVar(fs, &r.key, "key", "LEDGER_KEY", "", "bearer key for --server: "+whose+" (env LEDGER_KEY)")
}

// check reports a --server without a key, a --key given on the command
// line of fs without a server (which the command would ignore, working on
// the data folder instead), a server beside a flag of the local store
// (localFlagsBeside), and a server that is no http(s) address of a
// host, or one with a user name or password, a query or a fragment, which
// would be printed or sent with every request; nil when neither is given.
// A LEDGER_KEY without a server is no mistake: the variable may be set for
// other commands.
func (r remote) check(fs *flag.FlagSet) error {
	if r.server == "" {
		if flagGiven(fs, "key") {
			return fmt.Errorf("--key needs --server (or LEDGER_SERVER); without a server, the command works on the data folder")
		}
		return nil
	}
	if r.key == "" {
		return fmt.Errorf("--server needs --key (or LEDGER_KEY)")
	}
	u, err := url.Parse(r.server)
	switch {
	case err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("--server %q is not a server address; want http://HOST:PORT or https://HOST", redactedURLs(r.server))
	case u.User != nil:
		return fmt.Errorf("--server %q has a user name or password; the server takes the key (--key) alone: give its address without them", redactedURLs(r.server))
	case strings.ContainsAny(r.server, "?#"):
		return fmt.Errorf("--server %q has a query or fragment, which would go with every request; want http://HOST:PORT or https://HOST, and a path if the server is under one", r.server)
	}
	return localFlagsBeside(fs)
}

// localFlagsBeside refuses a flag naming the local store (--data,
// --store, --store-url) given on the command line of fs beside a server,
// which the command would ignore: it works through the server. A server
// that comes from LEDGER_SERVER is no choice made for this command, so the
// message says how to work on the folder instead.
func localFlagsBeside(fs *flag.FlagSet) error {
	for _, name := range []string{"data", "store", "store-url"} {
		switch {
		case !flagGiven(fs, name):
		case flagGiven(fs, "server"):
			return fmt.Errorf("--server and --%s: the command works through the server and never reads a local store; give one of them", name)
		default:
			return fmt.Errorf("--%s given while LEDGER_SERVER is set: the command would work through that server, not on the local store; "+
				"unset LEDGER_SERVER to work on it, or leave out --%s", name, name)
		}
	}
	return nil
}

// flagGiven says whether the flag name was given on the command line fs
// parsed.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
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

// errorAnswerLimit is as much of an answer other than 200 as is read: a
// problem document, or the start of a page that is none (a proxy's).
const errorAnswerLimit = 64 << 10

// errorPageChars is as much of an error answer that is no problem document
// as is shown, in characters.
const errorPageChars = 200

// decodeAnswer sends req and decodes the JSON of a 200 answer of at most
// limit bytes into v, which what names in an error; another status is the
// problem the server answered, of which at most errorAnswerLimit bytes are
// read.
func decodeAnswer(req *http.Request, limit int64, v any, what string) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		limit = errorAnswerLimit
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &rateLimitedError{wait: time.Duration(max(wait, 1)) * time.Second, err: problemError(resp.StatusCode, data)}
	}
	if resp.StatusCode != http.StatusOK {
		return problemError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("the server's answer is not %s: %w", what, err)
	}
	return nil
}

// rateLimitedError is a 429 answer and the wait its Retry-After asks for.
type rateLimitedError struct {
	wait time.Duration
	err  error
}

func (e *rateLimitedError) Error() string { return e.err.Error() }

// maxRateLimitedWaits bounds how often a read of the log waits out a 429
// before it gives up.
const maxRateLimitedWaits = 20

// problemError describes a problem document the server answered, or, for
// an answer that is none (such as a proxy's HTML page), its status and
// the start of the page (errorPage).
func problemError(status int, data []byte) error {
	var p api.Problem
	if json.Unmarshal(data, &p) != nil || p.Code == "" {
		msg := fmt.Sprintf("the server answered %d", status)
		if text := http.StatusText(status); text != "" {
			msg += " " + text
		}
		if page := errorPage(data); page != "" {
			msg += ": " + page
		}
		return errors.New(msg)
	}
	msg := fmt.Sprintf("the server answered %d %s", status, p.Code)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	return errors.New(msg)
}

// errorPage returns the first errorPageChars characters of an error page
// on one line: runs of white space and control characters (which could
// drive a terminal) become one space, bytes that are no UTF-8 are dropped,
// and "…" ends a page that is cut.
func errorPage(data []byte) string {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(data), ""))
	page := strings.Join(strings.Fields(clean), " ")
	chars := 0
	for i := range page { // i runs over the starts of characters
		if chars == errorPageChars {
			return strings.TrimRight(page[:i], " ") + "…"
		}
		chars++
	}
	return page
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
	page, err := l.readPage(ctx, afterPosition, limit)
	if err != nil {
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

// readPage reads a page of the log. It waits out a 429's Retry-After, up
// to maxRateLimitedWaits times, and asks again: the regulator's budget is
// shared with its other clients, and a long check should not stop for it.
func (l remoteLog) readPage(ctx context.Context, afterPosition int64, limit int) ([]api.LogEvent, error) {
	for waits := 0; ; waits++ {
		req, err := l.request(ctx, http.MethodGet, "/v1/ledger/events", nil)
		if err != nil {
			return nil, err
		}
		req.URL.RawQuery = url.Values{"after_position": {strconv.FormatInt(afterPosition, 10)},
			"limit": {strconv.Itoa(min(max(limit, 1), logPageSize))}}.Encode()
		var page []api.LogEvent
		err = decodeAnswer(req, 256<<20, &page, "a page of the log")
		var limited *rateLimitedError
		if !errors.As(err, &limited) || waits == maxRateLimitedWaits {
			return page, err
		}
		select {
		case <-time.After(limited.wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
