package projections

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// This file runs the statements of a Tx on the driver's connection, which
// Update borrows from database/sql with Conn.Raw, to save database/sql's
// per-statement bookkeeping (locks, connection checks, result wrappers) on
// the hot path of a rebuild. It does what database/sql does for the SQLite
// driver: arguments go through driver.DefaultParameterConverter, and Row
// scans the destinations the projections use as Row.Scan does.

// driverStmt is a prepared statement of the driver that runs with a
// context, as the SQLite driver's statements do.
type driverStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// exec runs a statement on the driver connection.
func (tx *Tx) exec(query string, args []any) (driver.Result, error) {
	s, named, err := tx.prepare(query, args)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(tx.ctx, named)
}

// query runs a query on the driver connection. The caller closes the rows
// before the next statement.
func (tx *Tx) query(query string, args []any) (driver.Rows, error) {
	s, named, err := tx.prepare(query, args)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(tx.ctx, named)
}

// prepare returns the statement of query, prepared on first use and then
// reused, and args converted for the driver, valid until the next call.
// The caller holds db.mu and tx.conn (inside Update).
func (tx *Tx) prepare(query string, args []any) (driverStmt, []driver.NamedValue, error) {
	s, ok := tx.db.stmts[query]
	if !ok {
		ds, err := tx.conn.PrepareContext(tx.ctx, query)
		if err != nil {
			return nil, nil, err
		}
		if s, ok = ds.(driverStmt); !ok {
			return nil, nil, errors.Join(fmt.Errorf("the driver statement %T cannot run with a context", ds), ds.Close())
		}
		tx.db.stmts[query] = s
	}
	tx.args = tx.args[:0]
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return nil, nil, fmt.Errorf("sql: converting argument $%d type: %w", i+1, err)
		}
		tx.args = append(tx.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return s, tx.args, nil
}

// Row is the result of Tx.QueryRow: the first row of the query, read at
// once, or the query's error.
type Row struct {
	columns  []string
	values   []driver.Value
	err      error // of the query; sql.ErrNoRows when it returned no row
	closeErr error // of finishing the query after its first row
}

// firstRow reads the first row of rows and closes them.
func firstRow(rows driver.Rows) *Row {
	r := &Row{columns: rows.Columns()}
	r.values = make([]driver.Value, len(r.columns))
	err := rows.Next(r.values)
	closeErr := rows.Close()
	switch {
	case err == io.EOF:
		return &Row{err: sql.ErrNoRows}
	case err != nil:
		return &Row{err: err}
	}
	r.closeErr = closeErr
	return r
}

// Scan copies the columns of the row into dest, as sql.Row.Scan does. It
// returns sql.ErrNoRows when the query returned no row. A destination is a
// *int64, *string, *bool or an sql.Scanner such as *sql.NullString.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if len(dest) != len(r.values) {
		return fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(r.values), len(dest))
	}
	for i, v := range r.values {
		if err := scanColumn(dest[i], v); err != nil {
			return fmt.Errorf("sql: Scan error on column index %d, name %q: %w", i, r.columns[i], err)
		}
	}
	return r.closeErr
}

// scanColumn stores the driver value src in dest, converting it as
// database/sql does.
func scanColumn(dest any, src driver.Value) error {
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *int64:
		return scanNotNull(d, src)
	case *string:
		return scanNotNull(d, src)
	case *bool:
		v, err := driver.Bool.ConvertValue(src)
		if err == nil {
			*d = v.(bool)
		}
		return err
	}
	return fmt.Errorf("unsupported Scan, storing driver.Value type %T into type %T", src, dest)
}

// scanNotNull stores the driver value src, which must not be NULL, in dest,
// converting it as database/sql does.
func scanNotNull[T int64 | string](dest *T, src driver.Value) error {
	if src == nil {
		return fmt.Errorf("converting NULL to %T is unsupported", *dest)
	}
	var n sql.Null[T] // its Scan converts as database/sql does
	if err := n.Scan(src); err != nil {
		return err
	}
	*dest = n.V
	return nil
}
