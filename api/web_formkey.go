package api

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
)

// formKeyField is the hidden field of the declaration and withdrawal
// forms that carries the rendering's idempotency key: a random key each
// time a page writes a form, sent to the command service as the API's
// Idempotency-Key is, so that the same form sent twice (a double click, a
// second click on a slow network) records once and answers the second
// time with the first result, not with a refusal of what it just recorded.
const formKeyField = "idempotency_key"

// newFormKey returns a fresh idempotency key for a form a page writes.
func newFormKey() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// formKey returns the idempotency key a form sent, "" when it sent none (a
// page written before forms had one); a key no page wrote (blank, too long
// or not printable ASCII, as the API's header must not be) answers as an
// expired form, which the page then writes afresh.
func formKey(c echo.Context) (string, error) {
	form, err := c.FormParams()
	if err != nil || len(form[formKeyField]) == 0 {
		return "", err
	}
	key, err := idempotencyKey(http.Header{"Idempotency-Key": form[formKeyField]})
	if err != nil {
		return "", errFormExpired
	}
	return key, nil
}
