package projections

import (
	"context"
	"errors"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// FuzzListings sends arbitrary search text, IPC prefixes, cursors and
// orders to the listings of a varied ledger: every query either answers or
// is refused with invalid_argument (never an SQLite error, never a panic),
// and the in-memory search index answers exactly as SQLite does.
func FuzzListings(f *testing.F) {
	dir := f.TempDir()
	st := openStore(f, dir)
	writeSearchWorld(f, st, 5, 0)
	rebuildInto(f, dir, st)
	db := openDB(f, dir)
	if err := db.WarmUp(context.Background()); err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][4]string{
		{"电池", "H01M", "", ""}, {"led 5G", "", "", SortFee}, {`"`, "", "", ""}, {"AND OR NOT", "H", "", SortNewest},
		{"电* NEAR(池 组)", "", "", ""}, {"h01m10/0562", "H01M 10/05", "", ""}, {"^固态", "", "zz", ""},
		{"", "G06N", "eyJrIjoxfQ", SortNewest}, {"电池 -组", "A61K 31/", "", SortRelevance}, {"\x00\xff", "H01M\"", "", ""},
		{"H01M10/0562(2006.01)I 电池", "", "", ""}, {"ＬＥＤ　芯片", "H01L", "", SortRelevance}, {"电池:*^-(){}+", "", "", SortFee},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, text, ipc, cursor, sort string) {
		ctx := context.Background()
		q := ListingQuery{Today: date("2022-06-01"), Text: text, IPCPrefix: ipc, Cursor: cursor, Sort: sort, Limit: 5}
		if _, err := db.Listings(ctx, q); err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument {
				t.Fatalf("%+v: %v", q, err)
			}
			return
		}
		sortName, terms, after, err := q.plan()
		if err != nil {
			t.Fatalf("%+v: planned after answering: %v", q, err)
		}
		tx, err := db.Reader().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		samePage(t, db, tx, q, terms, sortName, after)
	})
}
