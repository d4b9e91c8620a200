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

// unavailableWhenTransient returns err wrapped with a domain.ErrUnavailable
// error when it says that PostgreSQL cannot take the work for now, as the
// SQLite store's function of that name does, so that callers can tell "try
// again later" from a refusal of the data: it could not be reached
// or the connection was lost (a refused or broken connection, a server
// shutting down or refusing connections), or it answered that it lacks the
// resources (see shortOfResources: a full disk, no memory) or takes no
// writes (a standby). Any other error, nil included, is returned as it is,
// and so is the end of a context (the caller's own deadline or
// cancellation) outside connecting, and a server's refusal while connecting
// (no such database or role, a wrong password): retrying does not help, the
// configuration must change.
func unavailableWhenTransient(err error) error {
	if why, ok := shortOfResources(err); ok {
		return fmt.Errorf("%w: %w", domain.Unavailable("%s", why), err)
	}
	var connectErr *pgconn.ConnectError
	connecting := errors.As(err, &connectErr) // a connect timeout ends a context of pgx's own
	if err == nil || !connecting && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		!isConnectionFailure(err)) || serverRefused(err) {
		return err
	}
	return fmt.Errorf("%w: %w", domain.Unavailable("the event store (PostgreSQL) cannot be reached; retry later"), err)
}

// shortOfResources reports, with what a client should be told, whether err
// is PostgreSQL's answer that it cannot do the work for a reason of the
// server's that goes away, not of the work: class 53, insufficient
// resources (53100 disk full, 53200 out of memory, 53400 a configured limit;
// 53300, too many connections, is a connection failure), 25006 (a read-only
// transaction: a standby, or a primary set read-only, as during a
// failover), 57014 for a statement_timeout (not the cancel a caller's
// own context sends) and 58030 (an I/O error of the server's disk). The transaction
// has been rolled back then, so the work is worth retrying later.
func shortOfResources(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "", false
	}
	switch {
	case pgErr.Code == "53100":
		return "the disk of the event store's database (PostgreSQL) is full; writes resume once space is freed on it", true
	case pgErr.Code == "25006":
		return "the event store's database (PostgreSQL) takes no writes now (a standby, or a primary set read-only, as during a failover); retry later", true
	case pgErr.Code == "57014" && strings.Contains(pgErr.Message, "statement timeout"): // not a cancel of the caller's own
		return "the event store's database (PostgreSQL) canceled the statement at its statement timeout; retry later", true
	case pgErr.Code == "58030":
		return "the event store's database (PostgreSQL) could not write to its disk (an I/O error); retry later", true
	case strings.HasPrefix(pgErr.Code, "53") && pgErr.Code != "53300":
		return "the event store's database (PostgreSQL) lacks the resources for this now (memory, or a limit of its configuration); retry later", true
	}
	return "", false
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
