package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/patentledger/ledger/domain"
)

// runVerify walks the global log and checks every link of the hash chain.
// It exits 0 and prints the head when the chain is intact, 1 and the first
// bad position when it is not, 2 when the store cannot be read.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := cfg.newFlagSet("verify", stderr, "data", "store", "store-url")
	if err := parseNoArguments(fs, args); err != nil {
		return usageExit(err)
	}
	if err := cfg.checkChoices(fs); err != nil {
		fmt.Fprintf(stderr, "ledger verify: %v\n", err)
		return 2
	}
	store, err := cfg.openStore(ctx, true)
	if err != nil {
		fmt.Fprintf(stderr, "ledger verify: %v\n", err)
		return 2
	}
	defer store.Close()
	res, err := domain.VerifyChain(ctx, store, nil)
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
