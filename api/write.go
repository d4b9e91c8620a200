package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// commandRequest builds the domain request of a write: who acts, the
// idempotency key, and the request ID as correlation ID.
func commandRequest(c echo.Context, p principal) (domain.Request, error) {
	key, err := idempotencyKey(c.Request().Header)
	if err != nil {
		return domain.Request{}, err
	}
	return domain.Request{Actor: p.actor(), IdempotencyKey: key, CorrelationID: requestID(c)}, nil
}

// idempotencyKey returns the Idempotency-Key header, "" when there is none.
// A header that is there must be one key of 1 to maxIdempotencyKey
// printable ASCII characters: a blank one (an unset variable in a script)
// or a repeated one would otherwise leave the write unprotected, and other
// bytes would be stored altered.
func idempotencyKey(h http.Header) (string, error) {
	values := h.Values("Idempotency-Key")
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		return "", domain.Invalid("Idempotency-Key", "is given %d times; give it once", len(values))
	case strings.TrimSpace(values[0]) == "":
		return "", domain.Invalid("Idempotency-Key", "is empty; leave the header out or give a key")
	case len(values[0]) > maxIdempotencyKey:
		return "", domain.Invalid("Idempotency-Key", "is longer than %d characters", maxIdempotencyKey)
	case strings.IndexFunc(values[0], func(r rune) bool { return r < ' ' || r > '~' }) >= 0:
		return "", domain.Invalid("Idempotency-Key", "may hold only printable ASCII characters")
	}
	return values[0], nil
}

// writeContext decodes the body into cmd (nil for a write that takes no
// body) and returns the domain request; it answers 401/403 first, before
// looking at the body.
func writeContext(c echo.Context, cmd any) (domain.Request, error) {
	p, err := requireWriter(c)
	if err != nil {
		return domain.Request{}, err
	}
	req, err := commandRequest(c, p)
	if err != nil {
		return req, err
	}
	if cmd == nil {
		cmd = &noBody{}
	}
	return req, decodeBody(c, cmd)
}

// noBody is what a write that takes no body decodes: nothing or {}, so
// that a body sent by mistake (malformed, or with fields) answers 400
// instead of being ignored while the write goes through.
type noBody struct{}

// written answers a successful write: status, the Ledger-Position header,
// and body with position (and warnings, when any) added.
func written(c echo.Context, status int, res domain.Result, body map[string]any) error {
	c.Response().Header().Set("Ledger-Position", strconv.FormatInt(res.Position, 10))
	if body == nil {
		body = map[string]any{}
	}
	body["position"] = res.Position
	body["warnings"] = res.Warnings
	if res.Warnings == nil {
		body["warnings"] = []string{}
	}
	return writeJSON(c, status, body)
}

// patentParam parses the :number path parameter.
func patentParam(c echo.Context) (domain.PatentNumber, error) {
	n, err := domain.ParsePatentNumber(c.Param("number"))
	if err != nil {
		var fe domain.FieldErrors
		fe.Add("number", err)
		return "", fe.Err()
	}
	return n, nil
}

// runWrite is the shape of every write: authenticate, decode the body into
// a C, run the command, answer status with the created ID under idField
// (when not empty), the position and the warnings.
func runWrite[C any](c echo.Context, status int, idField string, run func(ctx context.Context, req domain.Request, cmd C) (domain.Result, error)) error {
	var cmd C
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	res, err := run(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	body := map[string]any{}
	if idField != "" {
		body[idField] = res.ID
	}
	return written(c, status, res, body)
}

// onPatent adapts a command on the patent named by the :number path
// parameter to runWrite.
func onPatent[C any](c echo.Context, run func(context.Context, domain.Request, domain.PatentNumber, C) (domain.Result, error)) func(context.Context, domain.Request, C) (domain.Result, error) {
	return func(ctx context.Context, req domain.Request, cmd C) (domain.Result, error) {
		n, err := patentParam(c)
		if err != nil {
			return domain.Result{}, err
		}
		return run(ctx, req, n, cmd)
	}
}
