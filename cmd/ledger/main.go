// Command ledger is the one binary of the patent open-licensing ledger:
// `ledger serve` runs the HTTP server, `ledger verify` checks the hash chain
// of the global log. Run `ledger help` for the list.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server (API) on the configured store", runServe},
		{"verify", "walk the global log and check its hash chain", runVerify},
		{"import", "import a CSV or Excel list of patents (and declarations)", runImport},
		{"rebuild", "drop read models and rebuild them from the event store", runRebuild},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code. Asked
// for help, it prints the usage and exits 0; given no command, it prints
// the usage on stderr and exits 2, like an unknown command, so that a
// script that lost its command fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "ledger: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ledger <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `ledger <command> -h` for a command's flags; a flag marked (env NAME) also reads that\nenvironment variable, and a flag given wins over it.")
}
