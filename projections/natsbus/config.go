package natsbus

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Names shared with package projections. They are repeated here, not
// imported, so that package projections may import this one; a test checks
// that they agree.
const (
	// Topic is the watermill topic of the global log (projections.Topic).
	Topic = "ledger.events"
	// MetaPosition is the metadata key, and NATS header, of the event's
	// position in the global log. Like every metadata key of a relayed
	// event (projections.Meta*), it becomes a header of the same name.
	MetaPosition = "position"
	// MetaPreviousPosition is the key of the position of the event
	// published before it.
	MetaPreviousPosition = "previous_position"
	// MetaEventType is the key of the event type; it also makes the
	// subject.
	MetaEventType = "event_type"
	// MetaStream is the key of the event's stream (aggregate).
	MetaStream = "stream"
	// MetaCorrelationID is the key of the correlation ID, set when the
	// event has one (watermill's middleware.CorrelationIDMetadataKey).
	MetaCorrelationID = "correlation_id"
	// HeaderEventID is the NATS header that carries the watermill message
	// UUID, which is the event ID. The event ID is also the Nats-Msg-Id.
	HeaderEventID = "_watermill_message_uuid"
)

// Defaults of Config.
const (
	// DefaultMaxAge is the default of Config.MaxAge.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultMaxBytes is the default of Config.MaxBytes (1 GiB).
	DefaultMaxBytes = 1 << 30
	// DefaultDuplicateWindow is the default of Config.DuplicateWindow.
	DefaultDuplicateWindow = 2 * time.Minute
	// DefaultAckWait is the default of Config.AckWait.
	DefaultAckWait = time.Minute
	// DefaultMaxAckPending is the default of Config.MaxAckPending.
	DefaultMaxAckPending = 256
	// DefaultInactive is the default of Config.InactiveThreshold.
	DefaultInactive = 24 * time.Hour
	// DefaultLeaseTTL is the default of Config.LeaseTTL and LeaseOptions.TTL.
	DefaultLeaseTTL = 3 * time.Second
	// DefaultPingInterval is the default of Config.PingInterval.
	DefaultPingInterval = 5 * time.Second
)

// Config configures a Bus. The zero value of every field but Namespace is a
// sensible default.
type Config struct {
	// URL is the NATS server URL (several may be separated by commas);
	// nats.DefaultURL (nats://127.0.0.1:4222) when empty.
	URL string
	// Namespace isolates one ledger from others on the same NATS server:
	// every stream, subject, consumer and bucket name derives from it. It
	// must be 1 to 48 characters of a-z, 0-9, '-' and '_', starting with a
	// letter or digit; NamespaceFor turns any store identity into one.
	Namespace string
	// MaxAge is how long the stream keeps an event; DefaultMaxAge when
	// zero, forever when negative.
	MaxAge time.Duration
	// MaxBytes is the size the stream may reach before it discards its
	// oldest events; DefaultMaxBytes when zero, unlimited when negative.
	MaxBytes int64
	// DuplicateWindow is how long the stream remembers the event IDs it
	// stored, to drop a republished event; DefaultDuplicateWindow when
	// zero, and at most MaxAge.
	DuplicateWindow time.Duration
	// Replicas is the number of copies of the stream and of the lock
	// bucket in a NATS cluster; 1 when zero.
	Replicas int
	// AckWait is how long a node may take to apply an event before the
	// server delivers it again; DefaultAckWait when zero.
	AckWait time.Duration
	// MaxAckPending is how many events the server sends a node ahead of
	// its acknowledgements; DefaultMaxAckPending when zero.
	MaxAckPending int
	// InactiveThreshold is how long a node's durable consumer survives
	// without a subscriber before the server deletes it; DefaultInactive
	// when zero, forever when negative. A node whose consumer was deleted
	// catches up from the store as usual.
	InactiveThreshold time.Duration
	// LeaseTTL is the lifetime of the relay lease: a dead relay is
	// replaced within about LeaseTTL; DefaultLeaseTTL when zero.
	LeaseTTL time.Duration
	// PingInterval is how often each connection pings the server; after
	// two pings unanswered the connection counts as lost (Bus.Connected
	// false, and reconnecting), so that a server that stops answering
	// without closing the connection (a network partition, a frozen
	// process) is noticed within about three intervals rather than the
	// client library's 4 to 6 minutes. DefaultPingInterval when zero.
	PingInterval time.Duration
	// Logger receives the bus's logs; slog.Default() when nil. Watermill's
	// informational logs are logged at debug level.
	Logger *slog.Logger
	// Options are added to the options of every connection the bus opens
	// (credentials, TLS, ...), after its own.
	Options []nats.Option
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = nats.DefaultURL
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge {
		c.DuplicateWindow = c.MaxAge
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxAckPending <= 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.InactiveThreshold == 0 {
		c.InactiveThreshold = DefaultInactive
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

var (
	namespaceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,47}$`)
	tokenRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// ValidNamespace reports whether ns may be used as Config.Namespace.
func ValidNamespace(ns string) bool { return namespaceRE.MatchString(ns) }

// NamespaceFor returns a namespace for a ledger identified by identity (a
// store ID, a database URL without its password, ...). A valid namespace is
// returned as it is; any other string becomes a readable prefix of it and a
// hash of all of it, so two identities never share a namespace. It returns
// "" for an empty identity.
func NamespaceFor(identity string) string {
	if identity == "" {
		return ""
	}
	return token(identity, 48)
}

// token returns s as a lower-case name of a-z, 0-9, '-' and '_' of at most
// limit characters: s itself when it is one, otherwise a cleaned prefix of s
// followed by a hash of s.
func token(s string, limit int) string {
	if len(s) <= limit && tokenRE.MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	hash := hex.EncodeToString(sum[:6])
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	prefix := strings.Trim(b.String(), "-_")
	if room := limit - len(hash) - 1; len(prefix) > room {
		prefix = strings.TrimRight(prefix[:room], "-_")
	}
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}

// Names are the NATS names of one ledger namespace.
type Names struct {
	// Namespace is the namespace they derive from.
	Namespace string
	// Stream is the JetStream stream of the feed: LEDGER_<ns>.
	Stream string
	// SubjectPrefix starts the subject of every event: ledger.<ns>.events.
	SubjectPrefix string
	// Subjects matches every event of the feed: ledger.<ns>.events.>.
	Subjects string
	// LocksBucket is the key-value bucket of the relay lease and of the
	// leases on the nodes' names:
	// LEDGER_<ns>_LOCKS.
	LocksBucket string
}

// RelayLeaseKey is the key of the relay lease in Names.LocksBucket.
const RelayLeaseKey = "relay"

// NodeLeaseKey returns the key of the lease on a node's name in
// Names.LocksBucket (see Bus.ClaimNodeName).
func NodeLeaseKey(node string) string { return "node." + token(node, 64) }

// NamesFor returns the names of namespace ns. It returns an error when ns is
// not a valid namespace.
func NamesFor(ns string) (Names, error) {
	if !ValidNamespace(ns) {
		return Names{}, fmt.Errorf("natsbus: invalid namespace %q: want 1-48 of a-z, 0-9, '-', '_' "+
			"starting with a letter or digit (see NamespaceFor)", ns)
	}
	prefix := "ledger." + ns + ".events."
	return Names{Namespace: ns, Stream: "LEDGER_" + ns, SubjectPrefix: prefix, Subjects: prefix + ">",
		LocksBucket: "LEDGER_" + ns + "_LOCKS"}, nil
}

// Subject returns the subject of an event of type eventType: SubjectPrefix
// followed by the type, whose dot-separated parts become subject tokens
// (patent.license_granted.v1 → ledger.<ns>.events.patent.license_granted.v1).
// A character other than a-z, A-Z, 0-9, '-' and '_' becomes '_', and so
// does an empty part.
func (n Names) Subject(eventType string) string {
	parts := strings.Split(eventType, ".")
	for i, p := range parts {
		p = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, p)
		if p == "" {
			p = "_"
		}
		parts[i] = p
	}
	return n.SubjectPrefix + strings.Join(parts, ".")
}

// Durable returns the name of the durable consumer of node's projections:
// projections_<node>, with node cleaned as NamespaceFor does (up to 64
// characters).
func (n Names) Durable(node string) string { return "projections_" + token(node, 64) }

// DeliverSubject returns the subject the server pushes a node's events to:
// _LEDGER.<ns>.deliver.<durable>.
func (n Names) DeliverSubject(node string) string {
	return "_LEDGER." + n.Namespace + ".deliver." + n.Durable(node)
}

// escapeHint ends CheckURL's errors: a password is the usual place of a
// character that breaks a URL.
const escapeHint = "; in a password, write #, /, ?, @ and % as %23, %2F, %3F, %40 and %25"

// CheckURL reports why the NATS client would refuse urls, the server URLs
// of Config.URL, or nil: one URL or more, separated by commas (a bare
// HOST:PORT is nats://), each one a URL without a path, query or fragment
// (which a password with an unescaped /, ? or # in it makes of its end,
// and which the client would take for its host and port), and not
// WebSocket (ws://, wss://) and other URLs mixed. The error does not quote
// the URLs, which may hold a password.
func CheckURL(urls string) error {
	servers, websockets := 0, 0
	for _, part := range strings.Split(urls, ",") {
		s := strings.TrimSpace(part)
		if s == "" {
			continue
		}
		servers++
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		switch {
		case err != nil: // its text quotes the URL, which may hold a password
			return fmt.Errorf("URL %d cannot be read as a URL%s", servers, escapeHint)
		case u.Path != "" && u.Path != "/" && u.Scheme != "ws" && u.Scheme != "wss" || u.RawQuery != "" || u.ForceQuery ||
			u.Fragment != "" || strings.Contains(s, "#"):
			return fmt.Errorf("URL %d has a path, query or fragment (after a /, ? or #), which a NATS URL never has%s", servers, escapeHint)
		}
		if u.Scheme == "ws" || u.Scheme == "wss" {
			websockets++
		}
	}
	switch {
	case servers == 0:
		return errors.New("it names no server")
	case websockets > 0 && websockets < servers:
		return errors.New("it mixes WebSocket (ws://, wss://) and other URLs, which the NATS client refuses")
	}
	return nil
}
