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

	"github.com/labstack/echo/v4"
)

// sessionCookie holds an organisation's key, sealed with AES-GCM under a
// key derived from the server's secret: the browser keeps it, cannot read
// it, and scripts cannot reach it (HttpOnly, SameSite=Strict).
const sessionCookie = "ledger_session"

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

func (s *sealer) seal(plain string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), nil))
}

func (s *sealer) open(sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("malformed session")
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], nil)
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

// setSession stores the key in the session cookie.
func (s *Server) setSession(c echo.Context, key string) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.sessions.seal(key), Path: "/", HttpOnly: true,
		Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode})
}

func clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// webSession returns the signed-in principal and the session's CSRF token;
// a missing or stale cookie is an anonymous visitor.
func (s *Server) webSession(c echo.Context) (principal, string) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return principal{}, ""
	}
	key, err := s.sessions.open(ck.Value)
	if err != nil {
		return principal{}, ""
	}
	p, err := s.principalOf(c.Request().Context(), key)
	if err != nil || p.admin {
		return principal{}, ""
	}
	return p, s.sessions.csrfToken(ck.Value)
}

// checkCSRF compares the form's token with the session's in constant time.
func checkCSRF(c echo.Context, want string) bool {
	got := c.FormValue("csrf")
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}
