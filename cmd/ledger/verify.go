package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// runVerify walks the global log and checks every link of the hash chain:
// the local store's, or with --server the log a running server answers
// (GET /v1/ledger/events, a regulator's or the admin's key), which needs
// no access to the store. It exits 0 and prints the head when the chain is
// intact, 1 and the first bad position when it is not (or the last one
// read, when the store's file is damaged after it; or none, when it is
// damaged before any can be read), 2 when the log cannot be read or a flag
// is wrong.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	var r remote
	anchored := anchors{}
	fs := cfg.newFlagSet("verify", stderr, "data", "store", "store-url")
	r.addFlags(fs, "verify the log this server answers instead of the data folder's", "a regulator's or the admin's")
	fs.Var(anchored, "anchor", "POSITION:HASH of a head written down earlier, which the log must still hold (repeatable)")
	if err := parseNoArguments(fs, args); err != nil {
		return usageExit(err)
	}
	log, closeLog, err := openLog(ctx, &cfg, fs, r)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "ledger verify: interrupted before the log was read; nothing is concluded: run it again")
		return 2
	}
	if err != nil && r.server == "" && unreadableStoreFile(cfg, err) {
		fmt.Fprintf(stdout, "BROKEN: the store's file is damaged and its log cannot be read (%v)\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "ledger verify: %v\n", err)
		return 2
	}
	defer closeLog()
	watch := &anchorWatch{LogReader: log, anchors: anchored, seen: map[int64][]byte{}}
	res, err := domain.VerifyChain(ctx, watch, nil)
	if err != nil && damagedFile(ctx, cfg, r, err) {
		fmt.Fprintf(stdout, "BROKEN after position %d: the store's file is damaged and the log cannot be read past it (%v); the %d events up to it are intact\n",
			res.Head.Position, err, res.Events)
		return 1
	}
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(stderr, "ledger verify: interrupted after position %d (%d events intact so far); nothing is concluded about the rest: run it again\n",
			res.Head.Position, res.Events)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "ledger verify: %v\n", err)
		return 2
	}
	if !res.Intact() {
		fmt.Fprintf(stdout, "BROKEN at position %d: %s (%d events before it are intact)\n", res.BadPosition, res.Reason, res.Events)
		return 1
	}
	if problem := watch.missing(res.Head.Position); problem != "" {
		fmt.Fprintln(stdout, problem)
		return 1
	}
	hash := hex.EncodeToString(res.Head.Hash)
	if hash == "" {
		hash = "none (the log is empty)"
	}
	fmt.Fprintf(stdout, "ok: %d events, head position %d, hash %s\n", res.Events, res.Head.Position, hash)
	if len(anchored) > 0 {
		fmt.Fprintf(stdout, "anchors held: %d\n", len(anchored))
	}
	return 0
}

// unreadableStoreFile reports whether err, which kept the data folder's
// SQLite store from opening, says its events.db is damaged: pages that
// cannot be read, a header that is no SQLite database's (its first bytes
// overwritten), or a file of some bytes that holds no event store (a copy
// cut short within its header). A folder without events.db, or an empty
// one, is no log to read.
func unreadableStoreFile(cfg config, err error) bool {
	if cfg.store != "sqlite" {
		return false
	}
	if sqlite.Corrupt(err) || sqlite.NotADatabase(err) {
		return true
	}
	info, statErr := os.Stat(filepath.Join(cfg.data, "events.db"))
	return errors.Is(err, sqlite.ErrNotEventStore) && statErr == nil && info.Size() > 0
}

// damagedFile reports whether err, which ended a walk of the log of the
// data folder's SQLite store that opened, says the file is damaged: the
// log is there, but not all of it can be read, so it is not intact. A
// store locked by another process, a walk cut short by a signal, and
// every failure of another store or of a server are no verdict on the
// log.
func damagedFile(ctx context.Context, cfg config, r remote, err error) bool {
	return r.server == "" && cfg.store == "sqlite" && ctx.Err() == nil && !errors.Is(err, domain.ErrUnavailable)
}

// anchors are heads an auditor wrote down earlier, position to hash, as
// /v1/ledger/head or verify printed them. A chain recomputed from scratch
// over an altered log verifies, but no longer holds them.
type anchors map[int64][]byte

// Set adds an anchor given as POSITION:HASH. The same anchor given again
// changes nothing; another hash for a position already anchored is
// refused, naming both, rather than taking the place of the first: one of
// them is wrong, and the log would be checked against the other alone.
func (a anchors) Set(s string) error {
	pos, hash, ok := strings.Cut(s, ":")
	position, err := strconv.ParseInt(pos, 10, 64)
	if !ok || err != nil || position < 1 {
		return fmt.Errorf("%q is not POSITION:HASH with a position from 1", s)
	}
	sum, err := hex.DecodeString(hash)
	if err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("%q: the hash is not 64 hexadecimal digits", s)
	}
	if earlier, ok := a[position]; ok && !bytes.Equal(earlier, sum) {
		return fmt.Errorf("two anchors for position %d: %x and %x", position, earlier, sum)
	}
	a[position] = sum
	return nil
}

// String lists the anchors.
func (a anchors) String() string {
	var list []string
	for _, p := range slices.Sorted(maps.Keys(a)) {
		list = append(list, fmt.Sprintf("%d:%x", p, a[p]))
	}
	return strings.Join(list, ",")
}

// anchorWatch reads a log and notes the hash stored at each anchored
// position that passes.
type anchorWatch struct {
	domain.LogReader
	anchors anchors
	seen    map[int64][]byte
}

// ReadAll reads a batch of the log, noting the anchored hashes in it.
func (w *anchorWatch) ReadAll(ctx context.Context, after int64, limit int) ([]domain.RecordedEvent, error) {
	events, err := w.LogReader.ReadAll(ctx, after, limit)
	for _, e := range events {
		if _, ok := w.anchors[e.Position]; ok {
			w.seen[e.Position] = e.Hash
		}
	}
	return events, err
}

// missing says how the verified log, ending at head, fails the first
// anchor it does not hold, in position order; "" when it holds them all.
func (w *anchorWatch) missing(head int64) string {
	for _, p := range slices.Sorted(maps.Keys(w.anchors)) {
		switch stored := w.seen[p]; {
		case p > head:
			return fmt.Sprintf("SHORTER than anchor position %d: the log ends at position %d", p, head)
		case !bytes.Equal(stored, w.anchors[p]):
			return fmt.Sprintf("REWRITTEN at or before position %d: the log holds hash %x there, the anchor %x", p, stored, w.anchors[p])
		}
	}
	return ""
}

// openLog opens the log verify walks: the server's with --server (the
// store settings are then not used), else the configured store's. The
// function it returns closes it.
func openLog(ctx context.Context, cfg *config, fs *flag.FlagSet, r remote) (domain.LogReader, func() error, error) {
	if err := r.check(fs); err != nil {
		return nil, nil, err
	}
	if r.server != "" {
		return remoteLog{r}, func() error { return nil }, nil
	}
	if err := cfg.checkChoices(fs); err != nil {
		return nil, nil, err
	}
	store, err := cfg.openStore(ctx, storeReadOnly)
	if err != nil {
		return nil, nil, err
	}
	return store, store.Close, nil
}
