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
	"sync"
	"syscall"
	"time"
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
	ctx, stop := notifySignals(context.Background(), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stopAtOnceWait is how long a command has to stop after a second signal
// before the process exits without it.
const stopAtOnceWait = 3 * time.Second

// notifySignals returns a context that the first SIGINT or SIGTERM
// cancels, for the command to stop cleanly (serve lets in-flight requests
// finish), and that a second one asks to stop at once (stopAtOnce); the
// process exits 1 if the command has not returned stopAtOnceWait later.
// The function it returns ends the watch.
func notifySignals(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	ctx, now := withStopAtOnce(ctx)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for _, next := range []func(){cancel, now} {
			select {
			case <-signals:
				next()
			case <-done:
				return
			}
		}
		select {
		case <-time.After(stopAtOnceWait):
			fmt.Fprintln(stderr, "ledger: stopped at once by a second signal")
			os.Exit(1)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
}

// stopAtOnceKey is the key of the channel of withStopAtOnce in a context.
type stopAtOnceKey struct{}

// withStopAtOnce returns a copy of ctx carrying a channel that the
// function it returns closes (once): a second SIGINT or SIGTERM, after the
// first cancelled ctx, asks the command to stop at once rather than
// cleanly.
func withStopAtOnce(ctx context.Context) (context.Context, func()) {
	c := make(chan struct{})
	var once sync.Once
	return context.WithValue(ctx, stopAtOnceKey{}, c), func() { once.Do(func() { close(c) }) }
}

// stopAtOnce returns the channel of ctx that a second signal closes (see
// withStopAtOnce); nil, which is never ready, when ctx has none.
func stopAtOnce(ctx context.Context) <-chan struct{} {
	c, _ := ctx.Value(stopAtOnceKey{}).(chan struct{})
	return c
}

// run dispatches to a subcommand and returns the process exit code. Asked
// for help, it prints the usage on stdout and exits 0 (`help COMMAND`
// prints that command's flags, as `COMMAND -h` does); given no command, it
// prints the usage on stderr and exits 2, like an unknown command, so that
// a script that lost its command fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	asksHelp := func(arg string) bool { return arg == "help" || arg == "-h" || arg == "--help" }
	if args[0] == "help" && len(args) > 1 && !asksHelp(args[1]) {
		args = []string{args[1], "-h"}
	} else if asksHelp(args[0]) {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if asksCommandHelp(args[1:]) { // help asked for is the command's output
				stderr = stdout
			}
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

// asksCommandHelp reports whether a command's arguments ask for its help
// (-h, -help or --help before any "--").
func asksCommandHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}
