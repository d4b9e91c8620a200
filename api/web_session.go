package api

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// sessionCookie holds an organisation's key, sealed with AES-GCM under a
// key derived from the server's secret with the session's ID and start:
// the browser keeps it, cannot read it, and scripts cannot reach it
// (HttpOnly, SameSite=Strict).
const sessionCookie = "ledger_session"

// sessionLifetime is how long a session lasts at most from its sign-in:
// the server refuses its cookie from then on. The cookie is a session
// cookie, which the browser drops when it closes, so that closing the
// browser of a shared computer ends the sign-in too.
const sessionLifetime = 12 * time.Hour

// session is what the session cookie seals.
type session struct {
	id      string // random; a sign-out ends the session by it
	started time.Time
	key     string
}

// plain is the session as sealed: ID, start (Unix seconds) and key, apart.
// (Not String: a session printed by mistake would show its key.)
func (ss session) plain() string {
	return ss.id + "\x00" + strconv.FormatInt(ss.started.Unix(), 10) + "\x00" + ss.key
}

// parseSession reads a session sealed as plain wrote it.
func parseSession(plain string) (session, error) {
	parts := strings.SplitN(plain, "\x00", 3)
	if len(parts) != 3 {
		return session{}, errors.New("malformed session")
	}
	started, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return session{}, errors.New("malformed session")
	}
	return session{id: parts[0], started: time.Unix(started, 0), key: parts[2]}, nil
}

// expires is when the session ends unless signed out before.
func (ss session) expires() time.Time { return ss.started.Add(sessionLifetime) }

// signedOut holds the sessions signed out, each until it would have
// expired anyway, so that a copy of the cookie taken before cannot act
// after the sign-out. It lives in the server's memory: a restart forgets it
// (the sessions still expire), and each node of a cluster knows only the
// sign-outs it took. It is kept per key, and holds at most
// maxSignOutsPerKey session IDs of one key: beyond, the oldest give way to
// a cut-off that ends every session of the key started no later than
// they, so that signing in and out in a loop cannot grow it without end.
type signedOut struct {
	mu     sync.Mutex
	byKeys map[[sha256.Size]byte]*keySignOuts
}

// maxSignOutsPerKey bounds the sign-outs of one key kept apart.
const maxSignOutsPerKey = 256

// keySignOuts are the sign-outs of one key's sessions.
type keySignOuts struct {
	ids map[string]time.Time // session ID → when it started
	// endedThrough ends every session of the key started at or before it.
	endedThrough time.Time
}

// add ends the session.
func (so *signedOut) add(ss session, now time.Time) {
	so.mu.Lock()
	defer so.mu.Unlock()
	if so.byKeys == nil {
		so.byKeys = map[[sha256.Size]byte]*keySignOuts{}
	}
	digest := sha256.Sum256([]byte(ss.key))
	ks := so.byKeys[digest]
	if ks == nil {
		ks = &keySignOuts{ids: map[string]time.Time{}}
		so.byKeys[digest] = ks
	}
	ks.forgetExpired(now)
	ks.ids[ss.id] = ss.started
	for len(ks.ids) > maxSignOutsPerKey {
		ks.cutOldest()
	}
}

// forgetExpired drops the sessions that have expired anyway.
func (ks *keySignOuts) forgetExpired(now time.Time) {
	for id, started := range ks.ids {
		if now.After(started.Add(sessionLifetime)) {
			delete(ks.ids, id)
		}
	}
}

// cutOldest moves the earliest-started session into the cut-off.
func (ks *keySignOuts) cutOldest() {
	var oldest string
	for id, started := range ks.ids {
		if oldest == "" || started.Before(ks.ids[oldest]) {
			oldest = id
		}
	}
	ks.endedThrough = later(ks.endedThrough, ks.ids[oldest])
	delete(ks.ids, oldest)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// has reports whether the session was signed out.
func (so *signedOut) has(ss session) bool {
	so.mu.Lock()
	defer so.mu.Unlock()
	ks := so.byKeys[sha256.Sum256([]byte(ss.key))]
	if ks == nil {
		return false
	}
	_, ok := ks.ids[ss.id]
	return ok || !ss.started.After(ks.endedThrough)
}

// sealer seals and opens session values and derives CSRF tokens.
type sealer struct {
	aead    cipher.AEAD
	csrfKey []byte
}

func newSealer(secret []byte) *sealer {
	encKey := sha256.Sum256(append([]byte("session encryption\x00"), secret...))
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		panic(err) // a 32-byte key always makes an AES cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	csrf := sha256.Sum256(append([]byte("csrf\x00"), secret...))
	return &sealer{aead: aead, csrfKey: csrf[:]}
}

// Purposes of sealed values, bound into each as additional data: a value
// sealed for one is never opened as another.
const (
	sealedSession = "session"
	sealedDraft   = "draft"
)

// seal seals plain for purpose.
func (s *sealer) seal(purpose, plain string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), []byte(purpose)))
}

// open opens a value sealed for purpose.
func (s *sealer) open(purpose, sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("malformed session")
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(purpose))
	if err != nil {
		return "", errors.New("session does not open")
	}
	return string(plain), nil
}

// csrfToken is the token every form of a session must send back: an HMAC of
// the sealed session value, so it changes with each sign-in.
func (s *sealer) csrfToken(sealedSession string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(sealedSession))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signinCookie holds a random value for the sign-in form alone: the form
// sends back its token (csrfToken of "signin" and the value), so another
// site cannot sign a visitor in under a key of its own (login CSRF). It is
// SameSite=Strict and scoped to /signin.
const signinCookie = "ledger_signin"

// signinToken sets a fresh sign-in cookie and returns the token its form
// must send back.
func (s *Server) signinToken(c echo.Context) string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	value := base64.RawURLEncoding.EncodeToString(raw)
	c.SetCookie(&http.Cookie{Name: signinCookie, Value: value, Path: "/signin", HttpOnly: true,
		Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode})
	return s.sessions.csrfToken("signin\x00" + value)
}

// checkSigninCSRF reports whether the sign-in form sent back the token of
// the sign-in cookie its browser holds.
func (s *Server) checkSigninCSRF(c echo.Context) bool {
	ck, err := c.Cookie(signinCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	return checkCSRF(c, s.sessions.csrfToken("signin\x00"+ck.Value))
}

// setSession starts a session of the key in the session cookie, which has
// no Max-Age or Expires: the browser keeps it until it closes, and the
// server ends the session after sessionLifetime.
func (s *Server) setSession(c echo.Context, key string) {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	ss := session{id: base64.RawURLEncoding.EncodeToString(id), started: time.Now(), key: key}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.sessions.seal(sealedSession, ss.plain()), Path: "/",
		HttpOnly: true, Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode})
}

// currentSession returns the session of the request's cookie and the
// sealed value, when it holds one that has neither expired nor been signed
// out.
func (s *Server) currentSession(c echo.Context) (session, string, bool) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return session{}, "", false
	}
	plain, err := s.sessions.open(sealedSession, ck.Value)
	if err != nil {
		return session{}, "", false
	}
	ss, err := parseSession(plain)
	if err != nil || time.Now().After(ss.expires()) || s.signedOut.has(ss) {
		return session{}, "", false
	}
	return ss, ck.Value, true
}

func clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// webSession returns the signed-in principal and the session's CSRF token;
// a missing, stale, expired or signed-out cookie is an anonymous visitor.
func (s *Server) webSession(c echo.Context) (principal, string) {
	ss, sealed, ok := s.currentSession(c)
	if !ok {
		return principal{}, ""
	}
	p, err := s.principalOf(c.Request().Context(), ss.key)
	if err != nil || p.admin {
		return principal{}, ""
	}
	return p, s.sessions.csrfToken(sealed)
}

// checkCSRF compares the form's token with the session's in constant time.
func checkCSRF(c echo.Context, want string) bool {
	got := c.FormValue("csrf")
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}
