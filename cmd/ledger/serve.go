package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/gommon/bytes"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
	"github.com/patentledger/ledger/projections/natsbus"
)

// The embedded pipeline serves the API's reads.
var _ api.ReadModels = (*projections.Pipeline)(nil)

// serveFlags are the flags of `ledger serve` beyond the shared settings.
type serveFlags struct {
	demo       bool
	trustProxy bool
	// trustProxyOff says that --trust-proxy (or LEDGER_TRUST_PROXY) was
	// given as false, which --trusted-proxies would contradict.
	trustProxyOff bool
	// trustedProxiesText is --trusted-proxies as given; check parses it
	// into trustedProxies.
	trustedProxiesText string
	trustedProxies     []netip.Prefix
	// rateLimitText is --rate-limit as given; check parses it into
	// rateLimit.
	rateLimitText string
	rateLimit     float64
	bodyLimit     string
	// memoryIndexes loads the read models' in-memory indexes.
	memoryIndexes bool
}

// check parses and checks the values of the flags: the limits must be
// positive amounts. It returns an error naming the flag otherwise.
func (sf *serveFlags) check() error {
	rl, err := strconv.ParseFloat(sf.rateLimitText, 64)
	if err != nil || !(rl > 0) || math.IsInf(rl, 0) {
		return fmt.Errorf("--rate-limit %q (env LEDGER_RATE_LIMIT): want a positive number of requests per second, e.g. 200 or 0.5", sf.rateLimitText)
	}
	sf.rateLimit = rl
	if n, err := bytes.Parse(sf.bodyLimit); err != nil || n <= 0 {
		return fmt.Errorf("--body-limit %q (env LEDGER_BODY_LIMIT): want a positive size, e.g. 1M, 512K or 2MiB", sf.bodyLimit)
	}
	sf.trustedProxies, err = parseTrustedProxies(sf.trustedProxiesText)
	if err == nil && sf.trustProxyOff && len(sf.trustedProxies) > 0 {
		return errors.New("--trust-proxy=false (env LEDGER_TRUST_PROXY) contradicts --trusted-proxies (env LEDGER_TRUSTED_PROXIES), which trusts the proxies it names: drop one of them")
	}
	return err
}

// parseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR ranges (10.0.0.5, 10.0.0.0/8, fd00::/8); an empty one gives none.
func parseTrustedProxies(text string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(item)
		if addr, aerr := netip.ParseAddr(item); aerr == nil {
			addr = addr.Unmap().WithZone("") // a zone names a local interface, not the proxy
			prefix, err = netip.PrefixFrom(addr, addr.BitLen()), nil
		}
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies %q (env LEDGER_TRUSTED_PROXIES): %q is neither an IP address nor a CIDR range, e.g. 10.0.0.5 or 10.0.0.0/8",
				text, item)
		}
		out = append(out, prefix)
	}
	if len(out) == 0 && strings.TrimSpace(text) != "" { // "," names no proxy: no silent --trust-proxy off
		return nil, fmt.Errorf("--trusted-proxies %q (env LEDGER_TRUSTED_PROXIES) names no proxy; give addresses or CIDR ranges, e.g. 10.0.0.5 or 10.0.0.0/8", text)
	}
	return out, nil
}

// runServe runs the HTTP server until ctx is done (SIGINT or SIGTERM), then
// lets in-flight requests finish and closes the store. It exits 0 then, or
// 1, naming them, when it cut requests still running after the grace
// period (shutdownGrace) or when a second signal came during it.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	var sf serveFlags
	fs := cfg.newFlagSet("serve", stderr, "addr", "data", "store", "store-url", "bus", "nats-url", "node", "admin-key")
	fs.BoolVar(&sf.demo, "demo", false, "on an empty data folder, load the demo ledger and print a key per role")
	trustProxy, trustProxyErr := envBoolSetting("LEDGER_TRUST_PROXY", false)
	memoryIndexes, memoryIndexesErr := envBoolSetting("LEDGER_MEMORY_INDEXES", true)
	envBoolVar(fs, &sf.trustProxy, "trust-proxy", trustProxy, false, "take client addresses from X-Forwarded-For (env LEDGER_TRUST_PROXY)")
	envStringVar(fs, &sf.trustedProxiesText, "trusted-proxies", "LEDGER_TRUSTED_PROXIES", "",
		"comma-separated addresses and CIDR ranges of the reverse proxies, the only hops of X-Forwarded-For trusted (implies --trust-proxy) (env LEDGER_TRUSTED_PROXIES)")
	envStringVar(fs, &sf.rateLimitText, "rate-limit", "LEDGER_RATE_LIMIT", "200", "requests per second allowed per organisation (its keys together; the admin key has its own), or per client address without a key (env LEDGER_RATE_LIMIT)")
	envStringVar(fs, &sf.bodyLimit, "body-limit", "LEDGER_BODY_LIMIT", "1M", "largest request body accepted, e.g. 1M or 512K; not for imports (env LEDGER_BODY_LIMIT)")
	envBoolVar(fs, &sf.memoryIndexes, "memory-indexes", memoryIndexes, true,
		"keep the tallies' and listings' indexes in memory (about 3 KB per listed patent); false answers every query in SQL, slower (env LEDGER_MEMORY_INDEXES)")
	if err := parseNoArguments(fs, args); err != nil {
		return usageExit(err)
	}
	envErr := unsetFlagErrors(fs, map[string]error{"trust-proxy": trustProxyErr, "memory-indexes": memoryIndexesErr})
	sf.trustProxyOff = !sf.trustProxy && (flagGiven(fs, "trust-proxy") || os.Getenv("LEDGER_TRUST_PROXY") != "")
	if err := errors.Join(envErr, cfg.checkChoices(fs), sf.check()); err != nil {
		fmt.Fprintf(stderr, "ledger serve: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	err := serve(ctx, cfg, sf, log, stdout)
	var cut *cutError
	switch {
	case errors.As(err, &cut): // stopped after serving, but not cleanly
		fmt.Fprintf(stderr, "ledger serve: %v\n", err)
		return 1
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(stderr, "ledger serve: stopped by a signal while starting; nothing is lost: the next start takes the read models up from where they are")
	case err != nil:
		fmt.Fprintf(stderr, "ledger serve: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg config, sf serveFlags, log *slog.Logger, stdout io.Writer) error {
	release, err := cfg.lockDataFolder("serve")
	if err != nil {
		return err
	}
	defer release()
	tempDir, err := cfg.emptyTempFolder(log)
	if err != nil {
		return err
	}
	// Listen first: a port in use then leaves no new, empty ledger behind.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("--addr %s (env LEDGER_ADDR): %w", cfg.addr, err)
	}
	serving := false
	defer func() {
		if !serving {
			ln.Close()
		}
	}()
	store, err := cfg.openStore(ctx, storeCreate)
	if err != nil {
		return err
	}
	defer closeStore(store, log)
	noteSchemaUpgrade(store, log)
	snapshotsPath := filepath.Join(cfg.data, "snapshots.db")
	snapshots, err := sqlite.OpenSnapshots(ctx, snapshotsPath)
	if err != nil {
		return damagedDerivedFile(err, sqlite.Corrupt(err) || sqlite.NotADatabase(err), "snapshot file", snapshotsPath, "start again")
	}
	defer snapshots.Close()
	// On SQLite no other process claims imports in the store: only a server
	// takes them under an Idempotency-Key, and this one holds the data
	// folder's lock.
	writes := api.NewWriteHealth(log)
	svc, err := domain.NewService(store, domain.ServiceOptions{NewID: newID, Snapshots: snapshots,
		OnSnapshotError: func(err error) { log.Warn("snapshot", "error", err) }, SoleWriter: cfg.store == "sqlite",
		OnAppend: writes.Observe})
	if err != nil {
		return err
	}
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector())
	readOpts := projections.Options{Logger: log, Registerer: metrics, SQLOnly: !sf.memoryIndexes}
	if cfg.bus == "nats" {
		bus, node, err := openBus(ctx, cfg, store, ln.Addr(), log)
		if err != nil {
			return err
		}
		defer bus.Close() // after reads.Close, deferred below
		releaseName, err := bus.ClaimNodeName(ctx, node)
		if err != nil {
			return fmt.Errorf("--node %s (env LEDGER_NODE): %w", node, err)
		}
		defer releaseName()
		readOpts.Bus, readOpts.Node = bus, node
	}
	readsPath := filepath.Join(cfg.data, projections.FileName)
	reads, err := projections.Start(ctx, store, readsPath, readOpts)
	if err != nil {
		return damagedDerivedFile(err, projections.Damaged(err), "read-model file", readsPath, "start again (the read models are rebuilt)")
	}
	defer reads.Close()
	if sf.demo && cfg.adminKey == "" {
		// A demo admin key only for a demo ledger: not one printed for a
		// ledger the folder already holds, on every start left with --demo.
		head, err := store.Head(ctx)
		if err != nil {
			return err
		}
		if head.Position == 0 {
			cfg.adminKey = randomKey()
			fmt.Fprintf(stdout, "demo admin key (this run only): %s\n", cfg.adminKey)
		}
	}
	if n := len(cfg.adminKey); n > 0 && n < minAdminKeyLength {
		log.Warn("the admin key is short: the server's session and form tokens are drawn from it, so anyone who opens the sign-in page can test guesses at it offline; use one of at least 24 random characters",
			"length", n)
	}
	srv := api.New(api.Config{Service: svc, Store: store, AdminKey: cfg.adminKey, Logger: log,
		BodyLimit: sf.bodyLimit, RateLimit: sf.rateLimit, TrustProxy: sf.trustProxy, TrustedProxies: sf.trustedProxies,
		ReadModels: reads, Metrics: metrics, TempDir: tempDir, Writes: writes})
	requests := &inFlight{requests: map[uint64]inFlightRequest{}}
	httpServer := &http.Server{Handler: requests.wrap(srv.Handler()), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "ledger listening on http://%s\n", ln.Addr())
	if sf.demo {
		if err := loadDemoOnce(ctx, svc, "http://"+ln.Addr().String(), stdout); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	serving = true
	go func() { errc <- httpServer.Serve(ln) }()
	warmCtx, stopWarming := context.WithCancel(ctx)
	warmed := make(chan struct{})
	go func() { defer close(warmed); warmOrgIndex(warmCtx, svc, log) }()
	defer func() { stopWarming(); <-warmed }() // before the store closes
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "grace_period", shutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	now := stopAtOnce(ctx)
	go func() {
		select {
		case <-now: // a second signal: stop waiting for the requests
			cancel()
		case <-shutdownCtx.Done():
		}
	}()
	err = httpServer.Shutdown(shutdownCtx)
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err // nil once every request has finished
	}
	cut := &cutError{requests: requests.list(), grace: shutdownGrace}
	select {
	case <-now:
		cut.secondSignal = true
	default:
	}
	_ = httpServer.Close() // cuts the connections still open
	return cut
}

// minAdminKeyLength is the length below which serve warns that the admin
// key is guessable: 24 random characters of a key's alphabet hold about
// 140 bits.
const minAdminKeyLength = 24

// warmOrgIndex reads the organisations of the log into the service's
// index in the background, so that the first registration or import by
// name after a start does not wait for the whole log to be read (seconds
// over a million events).
func warmOrgIndex(ctx context.Context, svc *domain.Service, log *slog.Logger) {
	start := time.Now()
	if _, err := svc.Orgs().OrgsNamed(ctx, ""); err != nil {
		if ctx.Err() == nil {
			log.Warn("organisation index: the log could not be read; the first registration or import by name reads it", "error", err.Error())
		}
		return
	}
	log.Info("organisation index loaded", "took_ms", time.Since(start).Milliseconds())
}

// storeCloseLimit is how long a stopping server waits for its event store
// to close: for the appends it has queued to commit and its connections to
// close. A store that does not answer (a PostgreSQL cut off without a
// word) would hold the exit for its stall timeout and more, past the
// patience of an orchestrator that kills after 30 s; the process exits
// without it then, as after a crash, which the store survives (what it
// did not commit was not acknowledged).
var storeCloseLimit = 5 * time.Second

// closeStore closes store, waiting storeCloseLimit at most, and logs a
// failure or a store left unclosed.
func closeStore(store io.Closer, log *slog.Logger) {
	closed := make(chan error, 1)
	go func() { closed <- store.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			log.Warn("closing the event store", "error", err)
		}
	case <-time.After(storeCloseLimit):
		log.Warn("the event store did not close in time (does its server answer?); exiting without waiting for it",
			"waited", storeCloseLimit.String())
	}
}

// shutdownGrace is how long a server stopped by a signal lets in-flight
// requests run before it cuts them; a variable for the tests.
var shutdownGrace = 15 * time.Second

// cutError is how a shutdown ended that cut requests: still running when
// the grace period ended, or when a second signal came during it.
type cutError struct {
	requests     []string // as inFlight.list names them
	grace        time.Duration
	secondSignal bool
}

// Error says how serve stopped and names the requests it cut.
func (e *cutError) Error() string {
	n := len(e.requests)
	if n == 0 { // connections busy, but no handler running: an answer being sent
		if e.secondSignal {
			return fmt.Sprintf("stopped at once by a second signal during the %s grace period; the connections still open were closed", e.grace)
		}
		return fmt.Sprintf("stopped by a signal; the connections still open after the %s grace period were closed", e.grace)
	}
	requests, were := "requests", "were"
	if n == 1 {
		requests, were = "request", "was"
	}
	msg := fmt.Sprintf("stopped by a signal, but %d %s %s still running after the %s grace period and %s cut", n, requests, were, e.grace, were)
	if e.secondSignal {
		msg = fmt.Sprintf("stopped at once by a second signal during the %s grace period; %d %s %s cut", e.grace, n, requests, were)
	}
	const listed = 10
	list := strings.Join(e.requests[:min(n, listed)], ", ")
	if n > listed {
		list += fmt.Sprintf(" and %d more", n-listed)
	}
	if n == 1 {
		return msg + ": " + list + ". Its client got no answer, or part of one; if it was a write, it may have been stored or not"
	}
	return msg + ": " + list + ". Their clients got no answer, or part of one; a write among them may have been stored or not"
}

// inFlight keeps the requests a server is answering, so that a shutdown
// that cuts some can name them.
type inFlight struct {
	mu       sync.Mutex
	next     uint64
	requests map[uint64]inFlightRequest
}

// inFlightRequest is a request being answered: its method and path, and
// when it came.
type inFlightRequest struct {
	what  string
	start time.Time
}

// wrap returns h keeping each request in f while h answers it.
func (f *inFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.EscapedPath() // no character that could drive a terminal
		if len(path) > 100 {
			path = path[:100] + "…"
		}
		f.mu.Lock()
		id := f.next
		f.next++
		f.requests[id] = inFlightRequest{what: r.Method + " " + path, start: time.Now()}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.requests, id)
			f.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// list names the requests in f, the longest running first, each with how
// long it has run: "GET /v1/listings (running 15.2s)".
func (f *inFlight) list() []string {
	f.mu.Lock()
	requests := slices.Collect(maps.Values(f.requests))
	f.mu.Unlock()
	slices.SortFunc(requests, func(a, b inFlightRequest) int { return a.start.Compare(b.start) })
	names := make([]string, len(requests))
	for i, r := range requests {
		names[i] = fmt.Sprintf("%s (running %s)", r.what, time.Since(r.start).Round(100*time.Millisecond))
	}
	return names
}

// busNamespace returns the NATS namespace of the ledger in store: named
// after the ID the store keeps ("ledger-<ID>"), the same on every node of
// the ledger and different for every other ledger, however their store
// URLs or data folders are spelt; for a store that keeps none
// (EventStoreDB), after cfg.storeIdentity.
func busNamespace(cfg config, store domain.EventStore) (string, error) {
	if s, ok := store.(domain.LedgerIdentified); ok && s.LedgerID() != "" {
		return natsbus.NamespaceFor("ledger-" + s.LedgerID()), nil
	}
	identity, err := cfg.storeIdentity()
	if err != nil {
		return "", err
	}
	return natsbus.NamespaceFor(identity), nil
}

// schemaUpgrader is a store that says whether opening it raised its
// schema version (the SQLite and PostgreSQL stores).
type schemaUpgrader interface{ SchemaUpgrade() (from, to int) }

// schemaUpgradeNote says what opening a store that raised its schema
// version means (README § Upgrading).
const schemaUpgradeNote = "the event store's schema was upgraded: builds before this one can no longer open it, and going back needs a copy made before the upgrade"

// schemaUpgraded reports whether opening store raised its schema version,
// and from and to which.
func schemaUpgraded(store domain.EventStore) (from, to int, raised bool) {
	u, ok := store.(schemaUpgrader)
	if !ok {
		return 0, 0, false
	}
	from, to = u.SchemaUpgrade()
	return from, to, from > 0 && from < to
}

// noteSchemaUpgrade logs that opening store raised its schema version.
func noteSchemaUpgrade(store domain.EventStore, log *slog.Logger) {
	if from, to, raised := schemaUpgraded(store); raised {
		log.Info(schemaUpgradeNote, "from_version", from, "to_version", to)
	}
}

// openBus connects to the NATS bus of cfg (--bus nats) in the namespace of
// the ledger in store (busNamespace), and returns it with this node's
// name: --node, or the host name and the port of addr.
func openBus(ctx context.Context, cfg config, store domain.EventStore, addr net.Addr, log *slog.Logger) (*natsbus.Bus, string, error) {
	ns, err := busNamespace(cfg, store)
	if err != nil {
		return nil, "", err
	}
	node := cfg.node
	if node == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "ledger"
		}
		port := "0"
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			port = p
		}
		node = host + "-" + port
	}
	bus, err := natsbus.Open(ctx, natsbus.Config{URL: cfg.natsURL, Namespace: ns, Logger: log})
	if err != nil {
		return nil, "", fmt.Errorf("--bus nats: %w (is a NATS server with JetStream running at --nats-url %s, env LEDGER_NATS_URL?)",
			err, redactedURLs(cfg.natsURL))
	}
	log.Info("NATS bus", "url", redactedURLs(cfg.natsURL), "namespace", ns, "node", node)
	return bus, node, nil
}

// envBoolSetting returns the boolean value of an environment variable: the
// forms of strconv.ParseBool, yes/no and on/off, in any case. It returns def
// when the variable is unset or empty, and def with an error naming the
// variable when it holds something else.
func envBoolSetting(name string, def bool) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	switch lower := strings.ToLower(v); lower {
	case "yes", "on":
		return true, nil
	case "no", "off":
		return false, nil
	default:
		if b, err := strconv.ParseBool(lower); err == nil {
			return b, nil
		}
	}
	return def, fmt.Errorf("%s=%q: want true or false (also 1/0, yes/no, on/off)", name, v)
}

// newID returns a time-ordered UUID (version 7): new events then land at the
// end of the store's ID index instead of on random pages.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// loadDemoOnce loads the demo ledger into an empty store; on a store that
// already holds events it says so and loads nothing. Interrupted (ctx
// done), it says what the data folder holds and returns nil: the server
// then shuts down as on any signal.
func loadDemoOnce(ctx context.Context, svc *domain.Service, baseURL string, out io.Writer) error {
	_, err := loadDemo(ctx, svc, baseURL, out)
	switch {
	case errors.Is(err, errDemoNotEmpty):
		fmt.Fprintln(out, "demo: the data folder already holds a ledger; nothing loaded (start with an empty --data folder for a fresh demo)")
		return nil
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(out, "demo: interrupted; the data folder may hold part of the demo ledger, without its keys (start with an empty --data folder for the whole demo)")
		return nil
	}
	return err
}

// randomKey returns a fresh random bearer key.
func randomKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "adm_" + hex.EncodeToString(b)
}
