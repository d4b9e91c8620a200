package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// principal is who a request authenticates as.
type principal struct {
	admin bool
	org   domain.Org
}

// anonymous reports whether the request carried no key.
func (p principal) anonymous() bool { return !p.admin && p.org.ID == "" }

// actor is the domain actor of a principal.
func (p principal) actor() domain.Actor {
	if p.admin {
		return domain.AdminActor
	}
	return domain.OrgActor(p.org.ID)
}

// keyPrefix starts every organisation key: "lk_<org id>_<key id>_<secret>".
const keyPrefix = "lk_"

// Orgs is what authentication needs: an organisation with its key hashes.
// *domain.Service implements it.
type Orgs interface {
	Org(ctx context.Context, id string) (domain.Org, error)
}

const principalKey = "principal"

// authenticate reads the bearer key, if any, and stores the principal in the
// context. An unknown or malformed key answers 401 on every route, so that a
// client with a typo learns of it even where reading is open.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		lines := c.Request().Header.Values(echo.HeaderAuthorization)
		if len(lines) == 0 {
			c.Set(principalKey, principal{})
			return next(c)
		}
		key, ok := bearerKey(lines)
		if !ok {
			return unauthenticated("use one header Authorization: Bearer <key>")
		}
		p, err := s.checkKey(c, key)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// bearerKey returns the key of the Authorization field lines of a request:
// there must be exactly one (the field is not a list, RFC 9110 §5.3), with
// the scheme Bearer in any case (RFC 9110 §11.1), one or more spaces and a
// token that is not empty (RFC 6750 §2.1).
func bearerKey(lines []string) (string, bool) {
	if len(lines) != 1 {
		return "", false
	}
	scheme, token, _ := strings.Cut(lines[0], " ")
	token = strings.TrimLeft(token, " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// checkKey authenticates key as principalOf does, within the budget of
// failed keys of the client's address (keyGuesses; an IPv6 client's /64,
// clientBlock): 429 without checking
// the key when the address has none left, 401 for a key that does not
// authenticate, which spends one. A key that could not be checked (the
// store unreachable: 503) is no wrong guess and spends nothing.
func (s *Server) checkKey(c echo.Context, key string) (principal, error) {
	settle, ok := s.keyGuesses.admit(clientBlock(c.RealIP()))
	if !ok {
		c.Response().Header().Set("Retry-After", "1")
		return principal{}, echo.NewHTTPError(http.StatusTooManyRequests)
	}
	p, err := s.principalOf(c.Request().Context(), key)
	settle(domain.ErrorCode(err) == domain.CodeUnauthenticated)
	return p, err
}

func unauthenticated(detail string) error {
	return &domain.Error{Code: domain.CodeUnauthenticated, Message: detail}
}

// principalOf checks a key in constant time against the admin key or the
// hashes stored in the organisation's stream.
func (s *Server) principalOf(ctx context.Context, key string) (principal, error) {
	if s.adminKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.adminKey)) == 1 {
		return principal{admin: true}, nil
	}
	orgID, keyID, secret, ok := splitKey(key)
	if !ok {
		return principal{}, unauthenticated("unknown key")
	}
	org, err := s.orgs.Org(ctx, orgID)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return principal{}, unauthenticated("unknown key")
	}
	if err != nil {
		return principal{}, err
	}
	if !org.KeyMatches(keyID, secret) {
		return principal{}, unauthenticated("unknown key")
	}
	return principal{org: org}, nil
}

func splitKey(key string) (orgID, keyID, secret string, ok bool) {
	rest, found := strings.CutPrefix(key, keyPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "_")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// formatKey assembles the key an organisation presents.
func formatKey(orgID, keyID, secret string) string {
	return keyPrefix + orgID + "_" + keyID + "_" + secret
}

// newKeySecret returns a key secret: random, or, for a request with an
// idempotency key, derived from it with an HMAC under the server's secret so
// that a repeated request answers the same key.
func (s *Server) newKeySecret(orgID, idempotencyKey string) string {
	if idempotencyKey == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	m := hmac.New(sha256.New, s.keySecret)
	m.Write([]byte(orgID + "\x00" + idempotencyKey))
	return hex.EncodeToString(m.Sum(nil)[:24])
}

// principalOfContext returns the request's principal.
func principalOfContext(c echo.Context) principal {
	p, _ := c.Get(principalKey).(principal)
	return p
}

// requireReader answers 401 unless the request carries a valid key.
func requireReader(c echo.Context) (principal, error) {
	p := principalOfContext(c)
	if p.anonymous() {
		return p, unauthenticated("this route needs Authorization: Bearer <key>")
	}
	return p, nil
}

// requireWriter answers 401 without a key and 403 for a regulator's key;
// the domain checks the acting party of each command.
func requireWriter(c echo.Context) (principal, error) {
	p, err := requireReader(c)
	if err != nil {
		return p, err
	}
	if !p.admin && p.org.Kind == domain.OrgRegulator {
		return p, domain.Forbidden("a regulator's key reads everything and writes nothing")
	}
	return p, nil
}

// requireAdmin answers 401 without a key and 403 for any key but the admin's.
func requireAdmin(c echo.Context) error {
	p, err := requireReader(c)
	if err != nil {
		return err
	}
	if !p.admin {
		return domain.Forbidden("only the admin key may do this")
	}
	return nil
}
