package projections

import (
	"errors"
	"fmt"
	"os"

	"github.com/ThreeDotsLabs/watermill"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/patentledger/ledger/domain"
)

// diskTrouble reports whether err says SQLite could not write the
// read-model file for want of room or because a write or sync failed
// (SQLITE_FULL, SQLITE_IOERR, in any extended form), as when its disk
// fills. SQLite has rolled the transaction back then: the disk, not the
// event, is at fault, and the same event applies once there is room.
func diskTrouble(err error) bool {
	code, ok := primaryCode(err)
	return ok && (code == sqlite3.SQLITE_FULL || code == sqlite3.SQLITE_IOERR)
}

// damagedFileError says that the read-model file was found damaged while
// the server ran, and what its operator does about it.
type damagedFileError struct {
	path string
	err  error
}

func (e *damagedFileError) Error() string {
	return fmt.Sprintf("the read-model file %s is damaged (%v): stop the server, delete that file with its -wal and -shm files, "+
		"and start it again; the read models are rebuilt from the event store", e.path, e.err)
}

func (e *damagedFileError) Unwrap() error { return e.err }

// noteDamage returns err, explained and remembered as the file's damage
// (see Damage) when it says the read-model file is damaged (Damaged).
func (db *DB) noteDamage(err error) error {
	var known *damagedFileError
	if !Damaged(err) || errors.As(err, &known) {
		return err
	}
	d := &damagedFileError{path: db.path, err: err}
	if db.damage.CompareAndSwap(nil, d) && db.log != nil { // once: every later query meets it too
		db.log.Error("read models: the read-model file is damaged; every projection is unhealthy until it is rebuilt", "error", d)
	}
	return d
}

// Damage returns the first failure that found the read-model file damaged
// since it was opened (noteDamage), or nil. Every projection is unhealthy
// from then on (Runner.Statuses): a file that is damaged in one page may
// fail any query or commit, and only a rebuilt file mends it.
func (db *DB) Damage() error {
	if d := db.damage.Load(); d != nil {
		return d
	}
	return nil
}

// queryFailure ends a public query of the read models: a failure that
// found the file damaged is noted (noteDamage) and answered as
// unavailable, since the client asked nothing wrong and the operator can
// mend it, not as an internal error without an explanation.
func (db *DB) queryFailure(err *error) {
	if *err == nil {
		return
	}
	*err = db.noteDamage(*err)
	switch code, _ := primaryCode(*err); {
	case Damaged(*err):
		*err = fmt.Errorf("%w: %w", domain.Unavailable("the server's read-model file is damaged; its operator must rebuild it (the server's log says how)"), *err)
	case code == sqlite3.SQLITE_CANTOPEN || code == sqlite3.SQLITE_IOERR || code == sqlite3.SQLITE_PERM:
		// A new read connection could not open or read the file: its
		// permissions changed, say, or its disk fails.
		*err = fmt.Errorf("%w: %w", domain.Unavailable("the server cannot read its read-model file just now; its operator must check the file "+
			"(the server's log says more)"), db.cannotOpen(*err))
	}
}

// cannotOpen explains SQLite's "unable to open database file" (or "disk
// I/O error") with the file's path and what the system says of opening it
// (permission denied, say), for the server's log.
func (db *DB) cannotOpen(err error) error {
	f, oerr := os.Open(db.path)
	if oerr == nil {
		f.Close()
		return fmt.Errorf("read models: %s: %w", db.path, err)
	}
	return fmt.Errorf("read models: %w (%w)", oerr, err)
}

// quietRedeliveries is the router's logger. A handler's failure that the
// runner passes on for the bus to deliver the message again because the
// read-model file, not the event, is at fault (locked by another process,
// its disk full: see Runner.halt) comes again every second or so while it
// lasts; the runner logs it itself, so the router's "Handler returned
// error" for it is a debug record, not an error each time.
type quietRedeliveries struct{ watermill.LoggerAdapter }

func (q quietRedeliveries) Error(msg string, err error, fields watermill.LogFields) {
	if lockedOut(err) || diskTrouble(err) {
		q.LoggerAdapter.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q quietRedeliveries) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietRedeliveries{q.LoggerAdapter.With(fields)}
}
