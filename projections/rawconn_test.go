package projections

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// TestTxQueryRowScansAsDatabaseSQL runs queries through Tx.QueryRow, on the
// driver connection, and through database/sql's Row, and checks that Scan
// stores the same values and reports the same errors.
func TestTxQueryRowScansAsDatabaseSQL(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	err := db.Update(ctx, func(tx *Tx) error {
		if err := tx.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, flag INTEGER NOT NULL)"); err != nil {
			return err
		}
		return tx.Exec("INSERT INTO t (id, name, note, flag) VALUES (1, 'a', NULL, 1), (2, 'b', 'x', 0), (3, '7', 'y', 2)")
	})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id   int64
		name string
		note sql.NullString
		flag bool
	}
	all := func(r *row) []any { return []any{&r.id, &r.name, &r.note, &r.flag} }
	cases := []struct {
		query string
		args  []any
		dest  func(*row) []any
	}{
		{"SELECT id, name, note, flag FROM t WHERE id = ?", []any{1}, all},
		{"SELECT id, name, note, flag FROM t WHERE id = ?", []any{int64(2)}, all},
		{"SELECT id, name, note, flag FROM t WHERE id = ?", []any{4}, all},                               // no row
		{"SELECT name, id, note, flag FROM t WHERE id = ?", []any{3}, all},                               // text to int64
		{"SELECT name, id, note, flag FROM t WHERE id = ?", []any{1}, all},                               // 'a' to int64
		{"SELECT id, note, note, flag FROM t WHERE id = ?", []any{1}, all},                               // NULL to string
		{"SELECT note, name, note, flag FROM t WHERE id = ?", []any{1}, all},                             // NULL to int64
		{"SELECT id, name, note, flag FROM t WHERE id = ?", []any{3}, all},                               // 2 to bool
		{"SELECT id, name, note, name FROM t WHERE id = ?", []any{2}, all},                               // 'b' to bool
		{"SELECT id, name FROM t WHERE id = ?", []any{1}, all},                                           // too many destinations
		{"SELECT id, name, note, flag FROM t WHERE id = ?", []any{struct{}{}}, all},                      // unsupported argument
		{"SELECT id, name, nope, flag FROM t WHERE id = ?", []any{1}, all},                               // bad query
		{"SELECT id, name, note, flag FROM t WHERE id = ? OR id = ? ORDER BY id DESC", []any{1, 2}, all}, // first row only
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.query, c.args), func(t *testing.T) {
			var raw, std row
			var rawErr, stdErr error
			err := db.Update(ctx, func(tx *Tx) error {
				rawErr = tx.QueryRow(c.query, c.args...).Scan(c.dest(&raw)...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			stdErr = db.Reader().QueryRowContext(ctx, c.query, c.args...).Scan(c.dest(&std)...)
			if fmt.Sprint(rawErr) != fmt.Sprint(stdErr) || raw != std {
				t.Errorf("Tx.QueryRow: %+v, %v\nsql.Row:     %+v, %v", raw, rawErr, std, stdErr)
			}
		})
	}
}

// TestWriterCutsTheWALBack: the read models' writer cuts the WAL file back
// to walSizeLimit after a checkpoint, so that a rebuild's large commits do
// not leave it at their size.
func TestWriterCutsTheWALBack(t *testing.T) {
	db := openDB(t, t.TempDir())
	var limit int64
	if err := db.conn.QueryRowContext(context.Background(), "PRAGMA journal_size_limit").Scan(&limit); err != nil || limit != walSizeLimit {
		t.Fatalf("journal_size_limit = %d, %v; want %d", limit, err, walSizeLimit)
	}
}
