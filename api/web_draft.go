package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// draftCookie keeps, sealed, what a patent form held when it was sent
// after its session had ended, so that the form comes back filled once the
// organisation has signed in again. It is scoped to the patent's pages and
// read once.
const draftCookie = "ledger_draft"

// draftLifetime is how long a kept form waits for its sign-in.
const draftLifetime = 30 * time.Minute

// maxDraftCookie bounds a draft cookie's value: browsers keep cookies of
// about 4 KB. A larger form is not kept (its terms are long).
const maxDraftCookie = 3800

// draft is what a draft cookie seals: the form's fields and when it was
// sent.
type draft struct {
	Values url.Values `json:"values"`
	At     time.Time  `json:"at"`
}

// keepDraft keeps the fields of the form sent to a patent's page, but
// its token and idempotency key, for the next visit of the page, and
// reports whether it did: a form too large for a cookie is not kept, nor
// one another site sent (sentFromHere), which could fill a patentee's form
// with its own terms.
func (s *Server) keepDraft(c echo.Context, number string) bool {
	form, err := c.FormParams()
	if err != nil || !sentFromHere(c.Request()) {
		return false
	}
	values := url.Values{}
	for k, v := range form {
		if k != "csrf" && k != formKeyField { // the page that takes it back writes its own
			values[k] = v
		}
	}
	plain, err := json.Marshal(draft{Values: values, At: time.Now()})
	if err != nil {
		return false
	}
	sealed := s.sessions.seal(sealedDraft, string(plain))
	if len(sealed) > maxDraftCookie {
		return false
	}
	c.SetCookie(&http.Cookie{Name: draftCookie, Value: sealed, Path: "/patents/" + number, MaxAge: int(draftLifetime / time.Second),
		HttpOnly: true, Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode})
	return true
}

// takeDraft returns the form kept for the patent's page, and forgets it;
// nil when none was kept, or it is older than draftLifetime or not sealed
// by this server.
func (s *Server) takeDraft(c echo.Context, number string) url.Values {
	ck, err := c.Cookie(draftCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	c.SetCookie(&http.Cookie{Name: draftCookie, Value: "", Path: "/patents/" + number, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	plain, err := s.sessions.open(sealedDraft, ck.Value)
	if err != nil {
		return nil
	}
	var d draft
	if json.Unmarshal([]byte(plain), &d) != nil || time.Since(d.At) > draftLifetime {
		return nil
	}
	return d.Values
}

// nextPage returns the address of the patent page next names, where a
// sign-in goes on to, or "" when next names none: never another site.
func nextPage(next string) string {
	number, ok := strings.CutPrefix(next, "/patents/")
	if !ok {
		return ""
	}
	n, err := domain.ParsePatentNumber(number)
	if err != nil || string(n) != number {
		return ""
	}
	return next
}

// takeDraftOf returns the form kept for patent n's page when the page, got
// by a signed-in organisation, offers it a form, and tells the page so;
// nil otherwise: the draft waits for its author's visit (another
// organisation's, or a sent form's page, leaves it).
func (s *Server) takeDraftOf(c echo.Context, p *page, n domain.PatentNumber) url.Values {
	if p.Org == nil || c.Request().Method != http.MethodGet || !p.CanDeclare && !p.CanWithdraw {
		return nil
	}
	d := s.takeDraft(c, string(n))
	if d != nil {
		p.Notice = translator(p.Lang)("form.draft_restored")
	}
	return d
}

// sentFromHere reports whether the browser says a request came from a page
// of this server: Sec-Fetch-Site same-origin, or else an Origin of the
// request's host. A request that says neither is taken as from elsewhere.
func sentFromHere(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && origin.Host != "" && origin.Host == r.Host
}
