package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/patentledger/ledger/domain"
)

// unreachable returns err wrapped with a domain.ErrUnavailable error when it says that
// PostgreSQL could not be reached or the connection was lost (a refused or
// broken connection, a server shutting down or refusing connections), so
// that callers can tell "try again later" from a refusal of the data; any
// other error, nil included, is returned as it is, and so is the end of a
// context (the caller's own deadline or cancellation) outside connecting,
// and a server's refusal while connecting (no such database or role, a
// wrong password): retrying does not help, the configuration must change.
func unreachable(err error) error {
	var connectErr *pgconn.ConnectError
	connecting := errors.As(err, &connectErr) // a connect timeout ends a context of pgx's own
	if err == nil || !connecting && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		!isConnectionFailure(err)) || serverRefused(err) {
		return err
	}
	return fmt.Errorf("%w: %w", domain.Unavailable("the event store (PostgreSQL) cannot be reached; retry later"), err)
}

// serverRefused reports whether err holds an answer of the server that is
// not a connection failure, such as 3D000 (no such database) or class 28
// (authorization: no such role, a wrong password).
func serverRefused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && !isConnectionFailure(pgErr)
}

// isConnectionFailure reports whether err is a failure to reach PostgreSQL
// or a loss of the connection rather than an answer of the server.
func isConnectionFailure(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01–57P03: the server is
		// shutting down or not yet accepting connections; 53300: too many
		// connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, net.ErrClosed)
}
