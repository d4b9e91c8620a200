package sqlite

import (
	"net/url"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// driverName is the database/sql name of the SQLite driver the adapter uses.
const driverName = "sqlite"

// dsn returns the connection string of the database file at path. Every
// connection gets the busy timeout; write connections also switch the file to
// WAL mode with synchronous=FULL, so that a commit returns only after the WAL
// is fsync'd; read connections open the file read-only.
func dsn(path string, write bool, busy time.Duration) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	if write {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
	} else {
		q.Set("mode", "ro")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}
