package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/patentledger/ledger/projections"
)

// runRebuild drops the read models named in args (every one when none) and
// replays the event store into them in large batches, printing progress.
// It exits 0 when every one was rebuilt, 1 when one stopped on an event it
// cannot apply or the work failed, 2 on bad flags or an unknown name. Stop
// `ledger serve` on the same data folder first: it keeps its own idea of
// the checkpoints, so a rebuild refuses to start while one runs there.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := cfg.newFlagSet("rebuild", stderr, "data", "store", "store-url")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ledger rebuild [flags] [NAME…]\n\nread models: %s\n\nflags:\n",
			strings.Join(projectionNames(), ", "))
		fs.PrintDefaults()
	}
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if err := cfg.checkChoices(fs); err != nil {
		fmt.Fprintf(stderr, "ledger rebuild: %v\n", err)
		return 2
	}
	for _, name := range names {
		if !contains(projectionNames(), name) {
			fmt.Fprintf(stderr, "ledger rebuild: no read model %q (have %s)\n", name, strings.Join(projectionNames(), ", "))
			return 2
		}
	}
	if err := rebuild(ctx, cfg, names, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "ledger rebuild: %v\n", err)
		return 1
	}
	return 0
}

// rebuild does the work of runRebuild.
func rebuild(ctx context.Context, cfg config, names []string, stdout, stderr io.Writer) error {
	store, err := cfg.openStore(ctx, storeReadOnly)
	if err != nil {
		return err
	}
	defer store.Close()
	release, err := cfg.lockDataFolder("rebuild")
	if err != nil {
		return err
	}
	defer release()
	path := filepath.Join(cfg.data, projections.FileName)
	db, err := projections.OpenDB(ctx, path)
	if err != nil {
		return damagedDerivedFile(err, projections.Damaged(err), "read-model file", path, "run ledger rebuild again")
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	runner, err := projections.NewRunner(ctx, db, store, projections.RunnerOptions{Logger: log})
	if err != nil {
		return damagedDerivedFile(err, projections.Damaged(err), "read-model file", path, "run ledger rebuild again")
	}
	if len(names) == 0 {
		names = runner.Names()
	}
	p := &progressPrinter{w: stdout, what: strings.Join(names, ", ")}
	if err := runner.Rebuild(ctx, names, p.report); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted, leaving %s half-built; the next ledger serve or ledger rebuild on %s builds again what is half-built",
				strings.Join(names, " and "), cfg.data)
		}
		return err
	}
	p.done()
	return stoppedProjections(runner.Statuses(), names)
}

// damagedDerivedFile adds to err, when damaged, what mends the file at
// path, which what names: it holds nothing the event store does not, so
// deleting it and doing then (a rebuild, a start) makes it again.
func damagedDerivedFile(err error, damaged bool, what, path, then string) error {
	if !damaged {
		return err
	}
	return fmt.Errorf("%w: the %s %s is damaged; it holds nothing the event store does not: delete it and %s", err, what, path, then)
}

// stoppedProjections returns an error naming every named projection that
// stopped.
func stoppedProjections(statuses []projections.Status, names []string) error {
	var errs []error
	for _, s := range statuses {
		if !s.Healthy && contains(names, s.Name) {
			errs = append(errs, fmt.Errorf("%s stopped at position %d: %s", s.Name, s.Checkpoint, s.Error))
		}
	}
	return errors.Join(errs...)
}

// projectionNames lists the read models `ledger rebuild` knows.
func projectionNames() []string {
	var names []string
	for _, p := range projections.All() {
		names = append(names, p.Name())
	}
	return names
}

// progressPrinter prints a rebuild's progress at most once a second, and a
// summary at the end.
type progressPrinter struct {
	w       io.Writer
	what    string
	last    projections.Progress
	printed time.Time
}

// report is the progress callback of Runner.Rebuild.
func (p *progressPrinter) report(pr projections.Progress) {
	p.last = pr
	if time.Since(p.printed) < time.Second {
		return
	}
	p.printed = time.Now()
	percent := 100.0
	if pr.Head > 0 {
		percent = 100 * float64(min(pr.Position, pr.Head)) / float64(pr.Head)
	}
	fmt.Fprintf(p.w, "rebuilding %s: position %d of %d (%.0f%%), %.0f events/s\n",
		p.what, pr.Position, pr.Head, percent, rate(pr))
}

// done prints the summary.
func (p *progressPrinter) done() {
	fmt.Fprintf(p.w, "rebuilt %s: %d events in %s (%.0f events/s), checkpoint %d\n",
		p.what, p.last.Events, p.last.Elapsed.Round(time.Millisecond), rate(p.last), p.last.Position)
}

// rate returns the events per second of a progress report.
func rate(pr projections.Progress) float64 {
	if pr.Elapsed <= 0 {
		return 0
	}
	return float64(pr.Events) / pr.Elapsed.Seconds()
}
