package sqlite

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	driver "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/patentledger/ledger/domain"
)

// walSizeLimit is the size the WAL file is cut back to after a checkpoint.
const walSizeLimit = 64 << 20

// driverName is the database/sql name of the SQLite driver the adapter uses.
const driverName = "sqlite"

// dsn returns the connection string of the database file at path. Every
// connection gets the busy timeout; write connections also switch the file to
// WAL mode with synchronous=FULL, so that a commit returns only after the WAL
// is fsync'd, and cut the WAL file back to walSizeLimit once it is
// checkpointed (a large import would otherwise leave it at its peak size);
// read connections open the file read-only.
func dsn(path string, write bool, busy time.Duration) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	if write {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	} else {
		q.Set("mode", "ro")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// unavailableWhenTransient wraps err with domain.ErrUnavailable when it
// says the store's file could not be written for a reason of the machine,
// not of the append, that goes away: SQLite gave up waiting for a lock
// (SQLITE_BUSY or SQLITE_LOCKED, in any of their extended forms: another
// process kept the file locked for longer than Options.BusyTimeout), the
// disk is full (SQLITE_FULL) or a write or sync failed (SQLITE_IOERR, as
// when the disk fills under the WAL). SQLite has rolled the transaction
// back then, so the append is worth retrying later, not an internal
// failure. Any other error, nil included, is returned as it is.
func unavailableWhenTransient(err error) error {
	var se *driver.Error
	if !errors.As(err, &se) {
		return err
	}
	var why string
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		why = "the event store is locked by another process; retry later"
	case sqlite3.SQLITE_FULL:
		why = "the disk that holds the event store is full; writes resume once space is freed on it"
	case sqlite3.SQLITE_IOERR:
		why = "the event store's file could not be written (an I/O error, such as a full or failing disk); retry later"
	default:
		return err
	}
	return fmt.Errorf("%w: %w", domain.Unavailable("%s", why), err)
}

// Corrupt reports whether err says the store's file is damaged
// (SQLITE_CORRUPT in any of its extended forms): it is an event store whose
// pages cannot all be read, unlike a file that is no database at all.
func Corrupt(err error) bool {
	var se *driver.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CORRUPT
}

// readOnlyStorage reports whether err says SQLite could not write what
// even reading a WAL database needs (its -shm file): SQLITE_READONLY in
// any of its extended forms, or SQLITE_CANTOPEN.
func readOnlyStorage(err error) bool {
	var se *driver.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_READONLY || code == sqlite3.SQLITE_CANTOPEN
}

// NotADatabase reports whether err says the file is no SQLite database at
// all (SQLITE_NOTADB): its header is not one, as when its first bytes
// were overwritten.
func NotADatabase(err error) bool {
	var se *driver.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB
}
