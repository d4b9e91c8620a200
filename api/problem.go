package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// Problem is an RFC 9457 problem document with the ledger's extensions:
// a stable code, the rule of a rule violation, and the offending fields.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Code   string              `json:"code"`
	Rule   string              `json:"rule,omitempty"`
	Errors []domain.FieldError `json:"errors,omitempty"`
}

// Codes the API adds to the domain's (CONTRACT.md).
const (
	codeTooLarge         = "too_large"
	codeRateLimited      = "rate_limited"
	codeMethodNotAllowed = "method_not_allowed"
	codeUnsupportedMedia = "unsupported_media_type"
)

// statusOfCode is the one table from error codes to HTTP statuses.
var statusOfCode = map[string]int{
	string(domain.CodeInvalidArgument):     http.StatusBadRequest,
	string(domain.CodeUnauthenticated):     http.StatusUnauthorized,
	string(domain.CodeForbidden):           http.StatusForbidden,
	string(domain.CodeNotFound):            http.StatusNotFound,
	codeMethodNotAllowed:                   http.StatusMethodNotAllowed,
	string(domain.CodeRuleViolation):       http.StatusConflict,
	string(domain.CodeConflict):            http.StatusConflict,
	codeTooLarge:                           http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia:                   http.StatusUnsupportedMediaType,
	string(domain.CodeIdempotencyMismatch): http.StatusUnprocessableEntity,
	codeRateLimited:                        http.StatusTooManyRequests,
	string(domain.CodeInternal):            http.StatusInternalServerError,
	string(domain.CodeUnavailable):         http.StatusServiceUnavailable,
}

// titleOfCode is the human title of each code.
var titleOfCode = map[string]string{
	string(domain.CodeInvalidArgument):     "Invalid argument",
	string(domain.CodeUnauthenticated):     "Unauthenticated",
	string(domain.CodeForbidden):           "Forbidden",
	string(domain.CodeNotFound):            "Not found",
	codeMethodNotAllowed:                   "Method not allowed",
	string(domain.CodeRuleViolation):       "Rule violation",
	string(domain.CodeConflict):            "Conflict",
	codeTooLarge:                           "Request too large",
	codeUnsupportedMedia:                   "Unsupported media type",
	string(domain.CodeIdempotencyMismatch): "Idempotency key mismatch",
	codeRateLimited:                        "Too many requests",
	string(domain.CodeInternal):            "Internal error",
	string(domain.CodeUnavailable):         "Service unavailable",
}

// problemTypeBase prefixes every problem type URI; each code has its own.
const problemTypeBase = "https://patentledger.dev/problems/"

// newProblem builds the problem document for a code.
func newProblem(code, detail string) Problem {
	return Problem{Type: problemTypeBase + code, Title: titleOfCode[code], Status: statusOfCode[code], Detail: detail, Code: code}
}

// unavailableError answers 503 with a Retry-After header.
type unavailableError struct {
	detail     string
	retryAfter string
}

func (e *unavailableError) Error() string { return e.detail }

// rateLimitedError answers 429 rate_limited with its detail and a
// Retry-After header.
type rateLimitedError struct {
	detail     string
	retryAfter string
}

func (e *rateLimitedError) Error() string { return e.detail }

// problemOf maps any error a handler returns to its problem document. This is
// the one place errors become HTTP.
func problemOf(err error) Problem {
	var de *domain.Error
	var he *echo.HTTPError
	var ue *unavailableError
	var rl *rateLimitedError
	switch {
	case errors.As(err, &de):
		p := newProblem(string(de.Code), de.Message)
		p.Rule, p.Errors = string(de.Rule), feeFieldPaths(de)
		if p.Status == 0 {
			p = internalProblem()
		}
		return p
	case errors.As(err, &ue):
		return newProblem(string(domain.CodeUnavailable), ue.detail)
	case errors.As(err, &rl):
		return newProblem(codeRateLimited, rl.detail)
	case errors.Is(err, context.DeadlineExceeded):
		return newProblem(string(domain.CodeUnavailable), "the request took too long; retry")
	case errors.As(err, &he):
		return problemOfHTTPError(he)
	}
	return internalProblem()
}

// internalProblem is the answer to a failure of the server's own: its
// detail (every problem has one, CONTRACT.md) points to the log, which
// says more under the answer's X-Request-Id.
func internalProblem() Problem {
	return newProblem(string(domain.CodeInternal), "the server could not answer; its log says why under this answer's X-Request-Id")
}

// feeTermNames are the JSON names of the fields of fee terms, which the
// domain names bare ("royalty_base") when it checks the terms on their own.
var feeTermNames = jsonFields(reflect.TypeFor[domain.FeeTerms]())

// feeFieldPaths returns the fields of a domain error with every fee-terms
// field named by its path in a request body, "fee.<name>": all fields of an
// invalid_fee_terms violation, and a bare fee-terms name of invalid input
// (no other request body or query parameter uses these names; a test checks).
func feeFieldPaths(de *domain.Error) []domain.FieldError {
	out := slices.Clone(de.Fields)
	for i, f := range out {
		_, fee := feeTermNames[f.Field]
		if (de.Rule == domain.RuleInvalidFeeTerms && f.Field != "" || fee) && !strings.HasPrefix(f.Field, "fee.") {
			out[i].Field = "fee." + f.Field
		}
	}
	return out
}

func problemOfHTTPError(he *echo.HTTPError) Problem {
	detail, _ := he.Message.(string)
	switch he.Code {
	case http.StatusNotFound:
		return newProblem(string(domain.CodeNotFound), "no such route")
	case http.StatusMethodNotAllowed:
		return newProblem(codeMethodNotAllowed, "this route does not accept the method")
	case http.StatusRequestEntityTooLarge:
		return newProblem(codeTooLarge, "the request body is over the size limit")
	case http.StatusTooManyRequests:
		return newProblem(codeRateLimited, "too many requests from this key or address; slow down")
	case http.StatusUnsupportedMediaType:
		return newProblem(codeUnsupportedMedia, detail)
	case http.StatusBadRequest:
		return newProblem(string(domain.CodeInvalidArgument), detail)
	case http.StatusUnauthorized:
		return newProblem(string(domain.CodeUnauthenticated), detail)
	case http.StatusForbidden:
		return newProblem(string(domain.CodeForbidden), detail)
	case http.StatusServiceUnavailable:
		return newProblem(string(domain.CodeUnavailable), detail)
	}
	return internalProblem()
}

// logFailure logs a request the server could not serve. An internal error
// is logged as an error; a 503 the server itself explained (a projection
// behind min_position, the store unreadable at /healthz, which logs the
// outage once) is not logged again; any other 503, such as an unreachable
// store on a write, is a warning.
func (s *Server) logFailure(c echo.Context, p Problem, err error) {
	var explained *unavailableError
	level := slog.LevelError
	switch {
	case p.Status < 500, errors.As(err, &explained):
		return
	case p.Status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	}
	s.log.Log(c.Request().Context(), level, "request failed", "request_id", requestID(c),
		"method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
}

// statusClientClosedRequest is the status of a request whose client went
// away before the answer (nginx's 499): the request log and the metrics
// count it as such, not as a failure of the server.
const statusClientClosedRequest = 499

// clientClosed reports whether err ended the request r because its client
// went away: a cancellation, with the request's own context canceled. A
// cancellation of the server's own stays an internal error.
func clientClosed(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled)
}

// handleError is echo's HTTPErrorHandler: it writes the problem document
// (on a web page's address, to a client that accepts HTML, the error page
// a browser shows) and logs server-side failures with the request ID. A
// request whose client went away gets the status 499 alone, logged as
// information.
// tooLargeDetail names the limit a request's body went over: an import's
// file's, or the server's for other bodies (--body-limit).
func (s *Server) tooLargeDetail(c echo.Context) string {
	if c.Path() == importRoute {
		return fmt.Sprintf("the file is over the import limit of %d MiB", ImportBodyLimit>>20)
	}
	return "the request body is over this server's limit of " + s.bodyLimit + " (a file of patents goes to POST " + importRoute + ")"
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if clientClosed(c.Request(), err) {
		s.log.Info("client closed request", "request_id", requestID(c), "method", c.Request().Method,
			"path", c.Request().URL.Path, "error", err)
		c.Response().WriteHeader(statusClientClosedRequest)
		return
	}
	p := problemOf(err)
	if p.Code == codeTooLarge {
		p.Detail = s.tooLargeDetail(c)
	}
	s.logFailure(c, p, err)
	if ra := retryAfterOf(err); ra != "" {
		c.Response().Header().Set("Retry-After", ra)
	}
	if isWebPage(c.Request().URL.Path) && acceptsHTML(c.Request()) && s.webError(c, err) == nil {
		return
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	if c.Request().Method != http.MethodHead {
		_ = writeJSONBody(c.Response(), p)
	}
}

// storeRetryAfter is the Retry-After, in seconds, of an answer to a request
// that failed because the event store could not be reached.
const storeRetryAfter = "5"

// retryAfterOf returns the Retry-After header of the answer to err: the one
// an unavailableError or a rateLimitedError names, storeRetryAfter when the
// event store could not be reached, and "" otherwise, as for a damaged
// read-model file: only its operator mends that, so no time to try again
// can be promised.
func retryAfterOf(err error) string {
	var ue *unavailableError
	var rl *rateLimitedError
	switch {
	case projections.Damaged(err):
		return ""
	case errors.As(err, &ue) && ue.retryAfter != "":
		return ue.retryAfter
	case errors.As(err, &rl):
		return rl.retryAfter
	case errors.Is(err, domain.ErrUnavailable):
		return storeRetryAfter
	}
	return ""
}

// acceptsHTML reports whether the client asks for HTML, as a browser does;
// a program that does not (curl sends "*/*") gets the problem document.
func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get(echo.HeaderAccept), echo.MIMETextHTML)
}

// isWebPage reports whether path is a web page's address: any but the
// API's, the OpenAPI document's, the probes' and the static files'.
func isWebPage(path string) bool {
	for _, prefix := range []string{"/v1/", "/static/"} {
		if strings.HasPrefix(path, prefix) {
			return false
		}
	}
	return !slices.Contains([]string{"/v1", "/openapi.json", "/healthz", "/readyz", "/metrics"}, path)
}
