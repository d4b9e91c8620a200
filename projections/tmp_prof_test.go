package projections

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTmpProf(t *testing.T) {
	dir := os.Getenv("TMP_LEDGER_DIR")
	st := openStore(t, dir)
	db, err := OpenDB(context.Background(), filepath.Join(dir, FileName))
	if err != nil { t.Fatal(err) }
	defer db.Close()
	r, _ := NewRunner(context.Background(), db, st, RunnerOptions{Logger: quietLogger()})
	start := time.Now()
	last := start
	if err := r.Rebuild(context.Background(), []string{"tallies"}, func(p Progress) {
		if p.Events%50000 == 0 { t.Logf("%d %s", p.Events, time.Since(last)); last = time.Now() }
	}); err != nil { t.Fatal(err) }
	t.Logf("rebuild %s", time.Since(start))
}
