package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"

	"github.com/patentledger/ledger/domain"
)

// runVerify walks the global log and checks every link of the hash chain:
// the local store's, or with --server the log a running server answers
// (GET /v1/ledger/events, a regulator's or the admin's key), which needs
// no access to the store. It exits 0 and prints the head when the chain is
// intact, 1 and the first bad position when it is not, 2 when the log
// cannot be read or a flag is wrong.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	var r remote
	fs := cfg.newFlagSet("verify", stderr, "data", "store", "store-url")
	r.addFlags(fs, "verify the log this server answers instead of the data folder's", "a regulator's or the admin's")
	if err := parseNoArguments(fs, args); err != nil {
		return usageExit(err)
	}
	log, closeLog, err := openLog(ctx, &cfg, fs, r)
	if err != nil {
		fmt.Fprintf(stderr, "ledger verify: %v\n", err)
		return 2
	}
	defer closeLog()
	res, err := domain.VerifyChain(ctx, log, nil)
	if err != nil {
		fmt.Fprintf(stderr, "ledger verify: %v\n", err)
		return 2
	}
	if !res.Intact() {
		fmt.Fprintf(stdout, "BROKEN at position %d: %s (%d events before it are intact)\n", res.BadPosition, res.Reason, res.Events)
		return 1
	}
	hash := hex.EncodeToString(res.Head.Hash)
	if hash == "" {
		hash = "none (the log is empty)"
	}
	fmt.Fprintf(stdout, "ok: %d events, head position %d, hash %s\n", res.Events, res.Head.Position, hash)
	return 0
}

// openLog opens the log verify walks: the server's with --server (the
// store settings are then not used), else the configured store's. The
// function it returns closes it.
func openLog(ctx context.Context, cfg *config, fs *flag.FlagSet, r remote) (domain.LogReader, func() error, error) {
	if err := r.check(); err != nil {
		return nil, nil, err
	}
	if r.server != "" {
		return remoteLog{remote: r, client: http.DefaultClient}, func() error { return nil }, nil
	}
	if err := cfg.checkChoices(fs); err != nil {
		return nil, nil, err
	}
	store, err := cfg.openStore(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	return store, store.Close, nil
}
