// Package api is the HTTP interface of the ledger (CONTRACT.md): an echo v4
// server with the writes and reads of the public contract, authentication by
// bearer keys, RFC 9457 problem responses and the OpenAPI document.
package api

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/time/rate"

	"github.com/patentledger/ledger/domain"
)

// Config configures a Server.
type Config struct {
	// Service executes commands; required.
	Service *domain.Service
	// Store serves history and the ledger head; required.
	Store domain.EventStore
	// AdminKey is the bearer key with the admin role; empty disables it.
	AdminKey string
	// Logger receives structured logs; slog.Default() when nil.
	Logger *slog.Logger
	// BodyLimit caps request bodies, e.g. "1M" (the default).
	BodyLimit string
	// RateLimit is the sustained requests per second allowed per key, or
	// per client address for requests without a key; 0 means 200. Burst is
	// the allowed burst; 0 means 2 × RateLimit.
	RateLimit float64
	Burst     int
	// TrustProxy makes the client address come from X-Forwarded-For, as
	// set by a reverse proxy on loopback or a private network; otherwise
	// the header is ignored and the peer address is used.
	TrustProxy bool
	// TrustedProxies, when not empty, are the only addresses taken for
	// proxies in X-Forwarded-For (TrustProxy is then implied): the client
	// address is the last one before them, so that a client on a private
	// network cannot name its own by adding to the header, as it can when
	// TrustProxy trusts every private address.
	TrustedProxies []netip.Prefix
	// ReadWaitLimit bounds how long a read with min_position waits; 5 s
	// when zero.
	ReadWaitLimit time.Duration
	// ReadModels serve listings, tallies, rankings and the projections'
	// health; without them those reads answer 503.
	ReadModels ReadModels
	// Metrics gets the HTTP latency histogram and is served at /metrics;
	// a registry of the server's own when nil.
	Metrics MetricsRegistry
	// TempDir is the folder of imports' temporary files (an upload spooled
	// before its rows are read, a workbook's unzipped sheets); the
	// system's temporary folder when empty. `ledger serve` gives a folder
	// of the data folder that it empties when it starts, so that a server
	// killed during an import leaves no file behind for good.
	TempDir string
	// Writes, when set, follows whether the store takes appends (fed by
	// domain.ServiceOptions.OnAppend): /healthz and /metrics report it.
	Writes *WriteHealth
}

// Server is the HTTP server of the ledger.
type Server struct {
	echo      *echo.Echo
	svc       *domain.Service
	store     domain.EventStore
	orgs      Orgs
	adminKey  string
	keySecret []byte
	sessions  *sealer
	// signedOut holds the web sessions signed out before they expire.
	signedOut signedOut
	// keyGuesses limits the keys that fail per client address.
	keyGuesses *keyGuesses
	log        *slog.Logger
	readWait   time.Duration
	reads      ReadModels
	// storeUnreadable is set while /healthz finds the store unreadable, so
	// an outage is logged once when it starts and once when it ends, not
	// on every probe.
	storeUnreadable atomic.Bool
	// writes follows whether the store takes appends (Config.Writes); nil
	// when not followed.
	writes *WriteHealth
	// workbooks holds a token for each Excel file being built; a request
	// waits workbookPatience for one.
	workbooks        chan struct{}
	workbookPatience time.Duration
	// imports counts the imports each organisation runs (importSlots).
	imports importSlots
	// tempDir holds imports' temporary files (Config.TempDir).
	tempDir string

	metricsGatherer prometheus.Gatherer
	// bodyLimit caps request bodies but imports' (Config.BodyLimit), as
	// configured: a 413 names it.
	bodyLimit string
}

// New returns a server for cfg with every route registered.
func New(cfg Config) *Server {
	s := &Server{echo: echo.New(), svc: cfg.Service, store: cfg.Store, orgs: cfg.Service,
		adminKey: cfg.AdminKey, log: cfg.Logger, readWait: cfg.ReadWaitLimit, reads: cfg.ReadModels,
		workbooks: newWorkbookSlots(), workbookPatience: workbookWait, bodyLimit: orDefault(cfg.BodyLimit, "1M"),
		imports: importSlots{running: map[string]int{}}, tempDir: cfg.TempDir, writes: cfg.Writes}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.readWait <= 0 {
		s.readWait = 5 * time.Second
	}
	s.keySecret = keyDerivationSecret(cfg.AdminKey)
	s.sessions = newSealer(s.keySecret)
	s.keyGuesses = newKeyGuesses(failedKeyRate, failedKeyBurst)
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	switch {
	case len(cfg.TrustedProxies) > 0:
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trustOnly(cfg.TrustedProxies)...)
	case cfg.TrustProxy:
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(dropUnusableRequestID)
	e.Use(noStoreForKeys)
	e.Use(middleware.RequestID())
	e.Use(middleware.SecureWithConfig(securityHeaders))
	e.Use(s.instrument(cfg.Metrics))
	e.Use(s.logRequests)
	e.Use(middleware.Recover())
	e.Use(refuseCrossOrigin(http.NewCrossOriginProtection())) // logged, measured and answered with the headers above
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: s.bodyLimit,
		// Imports take whole spreadsheets; their route sets its own limit.
		Skipper: func(c echo.Context) bool { return c.Path() == importRoute }}))
	e.Use(s.authenticate)
	e.Use(rateLimiter(cfg.RateLimit, cfg.Burst))
	e.Use(rejectUnknownQuery)
	e.Use(allowHead)
	s.routes()
	return s
}

// allowHead lists HEAD beside GET in the Allow header that echo's router
// sends in answer to OPTIONS and with a 405: Handler answers HEAD as GET on
// every route that answers GET, but the router knows only the methods
// registered. It answers OPTIONS itself (204, as the router would).
func allowHead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string)
		if !ok || allow == "" {
			return next(c)
		}
		methods := strings.Split(allow, ", ")
		if i := slices.Index(methods, http.MethodGet); i >= 0 && !slices.Contains(methods, http.MethodHead) {
			allow = strings.Join(slices.Insert(methods, i+1, http.MethodHead), ", ")
			c.Set(echo.ContextKeyHeaderAllow, allow) // the 405 handler sends it
		}
		if c.Request().Method == http.MethodOptions {
			c.Response().Header().Set(echo.HeaderAllow, allow)
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

// securityHeaders are sent with every answer. The web pages load nothing
// but their own stylesheet, run no script and post only to themselves, so
// the policy allows just that; no other site may frame them (a signed-in
// declaration form under another site's overlay would be clickjacking).
// Browsers' old XSS filter is not asked for: it is gone or harmful.
var securityHeaders = middleware.SecureConfig{
	ContentTypeNosniff: "nosniff",
	XFrameOptions:      "DENY",
	ContentSecurityPolicy: "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
		"object-src 'none'",
	ReferrerPolicy: "same-origin",
}

// Handler returns the server's HTTP handler. It answers a HEAD request as
// the GET of the same resource, as HTTP asks of every server (RFC 9110
// §9.3.2): the routes see a GET, and the HTTP server, which still holds
// the HEAD request, sends the status and headers without the body.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(context.WithValue(r.Context(), headRequest{}, true))
			r.Method = http.MethodGet
		}
		s.echo.ServeHTTP(w, r)
	})
}

// headRequest marks, in a request's context, a HEAD request that the
// routes see as a GET (Handler), for its log line and metrics.
type headRequest struct{}

// requestMethod names the method a request came with for its log line and
// metrics (methodLabel), HEAD for one the routes saw as a GET.
func requestMethod(c echo.Context) string {
	if head, _ := c.Request().Context().Value(headRequest{}).(bool); head {
		return http.MethodHead
	}
	return methodLabel(c.Request().Method)
}

// Echo returns the echo instance, for listing routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// trustOnly returns echo's options trusting the proxies of ranges and no
// other address, loopback and private ones included.
func trustOnly(ranges []netip.Prefix) []echo.TrustOption {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, r := range ranges {
		r = r.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: net.IP(r.Addr().AsSlice()), Mask: net.CIDRMask(r.Bits(), r.Addr().BitLen())}))
	}
	return opts
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Requests with a key that does not authenticate are limited per address
// to failedKeyRate per second after a burst of failedKeyBurst.
const (
	failedKeyRate  = 2
	failedKeyBurst = 20
)

// keyDerivationSecret is the server's secret: the HMAC key under which
// repeatable API keys are derived, and the root of the session and CSRF
// keys. It is fixed for a given admin key, so that every node of a cluster
// and every restart share it, and random when there is none. It is drawn
// from the admin key with scrypt: the tokens a sign-in page hands anyone
// let them test guesses at the admin key offline, and scrypt makes each
// guess cost tens of milliseconds instead of a SHA-256's nanoseconds. A
// short admin key stays guessable all the same (serve warns of it).
func keyDerivationSecret(adminKey string) []byte {
	if adminKey == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	}
	if secret, ok := derivedSecrets.Load(adminKey); ok {
		return secret.([]byte)
	}
	secret, err := scrypt.Key([]byte(adminKey), []byte("patent-ledger api key derivation"), 1<<15, 8, 1, 32)
	if err != nil {
		panic(err) // only for parameters out of range, which these are not
	}
	derivedSecrets.Store(adminKey, secret)
	return secret
}

// derivedSecrets keeps the secret of each admin key a process has derived,
// since scrypt is slow by design (tests start many servers on one key).
var derivedSecrets sync.Map // admin key → []byte

// clientBlock returns what the per-address limits count a client by: its
// IPv4 address, or the /64 of its IPv6 address, since one IPv6 client
// usually holds a whole /64 and could take a new address per request.
func clientBlock(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if addr = addr.Unmap(); addr.Is4() {
		return addr.String()
	}
	block, _ := addr.WithZone("").Prefix(64)
	return block.String()
}

// rateLimiter limits requests per key, or per client address without one.
func rateLimiter(perSecond float64, burst int) echo.MiddlewareFunc {
	if perSecond <= 0 {
		perSecond = 200
	}
	if burst <= 0 {
		burst = int(2 * perSecond)
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(perSecond), Burst: burst, ExpiresIn: 3 * time.Minute})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: store,
		IdentifierExtractor: func(c echo.Context) (string, error) {
			p := principalOfContext(c)
			switch {
			case p.admin:
				return "admin", nil
			case p.org.ID != "":
				return "org:" + p.org.ID, nil
			}
			return "ip:" + clientBlock(c.RealIP()), nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "1")
			return echo.NewHTTPError(http.StatusTooManyRequests)
		},
	})
}

// maxRequestIDLength bounds a client's X-Request-ID that the server keeps.
const maxRequestIDLength = 128

// dropUnusableRequestID drops a client's X-Request-ID that is longer than
// maxRequestIDLength or holds other than printable ASCII, so that
// RequestID gives the request a fresh one: the ID is answered, logged and
// recorded as the correlation ID of the events the request writes, which
// a client must not fill with a megabyte or with control characters.
func dropUnusableRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); len(id) > maxRequestIDLength ||
			strings.IndexFunc(id, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// noStoreForKeys marks the API's answers to a request with a key (or any
// Authorization) Cache-Control: no-store: they are that organisation's,
// and a new key is answered once; no cache between the client and the
// server, nor the client's own, may keep them. Answers to requests without
// one (the public listings and tallies) are left to caches.
func noStoreForKeys(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Header.Get(echo.HeaderAuthorization) != "" && strings.HasPrefix(r.URL.Path, "/v1/") {
			c.Response().Header().Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// refuseCrossOrigin refuses, with 403 forbidden, a write a browser sends
// from another site (its Sec-Fetch-Site, or else its Origin against the
// Host, says so; see http.CrossOriginProtection): beside the web forms'
// tokens, a second guard against cross-site request forgery. Programs,
// which send neither header, and reads are let through.
func refuseCrossOrigin(cop *http.CrossOriginProtection) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return domain.Forbidden("a write sent by a page of another site is refused (cross-site request forgery)")
			}
			return next(c)
		}
	}
}

// methodLabel names a request's method for a metric label or a log line:
// one of HTTP's methods, or "other", so that made-up methods (Go takes one
// of nearly a megabyte) add no metric series and no long log lines.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// maxLoggedPath is as much of a request's path as its log line holds.
const maxLoggedPath = 256

// logRequests writes one structured log line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		path := req.URL.Path
		if len(path) > maxLoggedPath {
			path = strings.ToValidUTF8(path[:maxLoggedPath], "") + "…"
		}
		attrs := []any{"request_id", requestID(c), "method", requestMethod(c), "path", path,
			"status", c.Response().Status, "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
			"remote", c.RealIP()}
		if err != nil && !clientClosed(req, err) { // what the client was told, for finding its request
			p := problemOf(err)
			attrs = append(attrs, "code", p.Code)
			if p.Rule != "" {
				attrs = append(attrs, "rule", p.Rule)
			}
		}
		s.log.Info("request", attrs...)
		return nil
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
