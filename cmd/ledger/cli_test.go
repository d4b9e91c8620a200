package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/patentledger/ledger/projections/natsbus"
)

// stopOnListening is the stdout of a serve under test: it cancels the
// server's context once the server says it listens.
type stopOnListening struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (w *stopOnListening) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.String(), "ledger listening on") {
		w.cancel()
	}
	return n, err
}

// runLedgerStopped runs the binary's commands with a context that is
// cancelled as soon as a server listens: a serve that gets past its checks
// starts and stops (exit 0) instead of serving until the test times out.
func runLedgerStopped(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &stopOnListening{cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, args, out, &errOut)
	return code, out.String() + errOut.String()
}

// TestServeRefusesBadLimits: a --body-limit or --rate-limit that is not a
// positive amount, or --trusted-proxies that are not addresses or that
// --trust-proxy=false contradicts, is a user mistake: exit 2 naming the flag, never a panic,
// a server that answers every request 413, or a silent default.
func TestServeRefusesBadLimits(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--body-limit", "abc"}, `--body-limit "abc"`},
		{[]string{"--body-limit", "-5"}, `--body-limit "-5"`},
		{[]string{"--body-limit", "0"}, `--body-limit "0"`},
		{[]string{"--rate-limit", "0"}, `--rate-limit "0"`},
		{[]string{"--rate-limit", "-1"}, `--rate-limit "-1"`},
		{[]string{"--rate-limit", "NaN"}, `--rate-limit "NaN"`},
		{[]string{"--rate-limit", "fast"}, `--rate-limit "fast"`},
		{[]string{"--trusted-proxies", "10.0.0.0/33"}, `--trusted-proxies "10.0.0.0/33"`},
		{[]string{"--trusted-proxies", "10.0.0.5, proxy.internal"}, `--trusted-proxies "10.0.0.5, proxy.internal" (env LEDGER_TRUSTED_PROXIES): "proxy.internal" is neither`},
		{[]string{"--trust-proxy=false", "--trusted-proxies", "10.0.0.5"}, `--trust-proxy=false (env LEDGER_TRUST_PROXY) contradicts --trusted-proxies`},
	} {
		data := filepath.Join(t.TempDir(), "data")
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, c.args...)
		code, out := runLedgerStopped(t, args...)
		if code != 2 || !strings.Contains(out, "ledger serve: "+c.want) {
			t.Errorf("%v: exit %d, output %q", c.args, code, out)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v: the data folder was created before the flags were checked", c.args)
		}
	}
}

// TestServeAcceptsGoodLimits: the documented forms still start the server.
func TestServeAcceptsGoodLimits(t *testing.T) {
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--body-limit", "2M", "--rate-limit", "0.5")
	if code != 0 || !strings.Contains(out, "ledger listening on") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestServeLimitsFromEnvironment: --body-limit and --rate-limit read
// LEDGER_BODY_LIMIT and LEDGER_RATE_LIMIT, as every configuration flag of
// CONTRACT.md has its variable, and a bad value there is refused too.
func TestServeLimitsFromEnvironment(t *testing.T) {
	t.Setenv("LEDGER_BODY_LIMIT", "lots")
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if code != 2 || !strings.Contains(out, `--body-limit "lots"`) {
		t.Fatalf("LEDGER_BODY_LIMIT=lots: exit %d, output %q", code, out)
	}
	t.Setenv("LEDGER_BODY_LIMIT", "")
	t.Setenv("LEDGER_RATE_LIMIT", "fast")
	code, out = runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if code != 2 || !strings.Contains(out, "LEDGER_RATE_LIMIT") {
		t.Fatalf("LEDGER_RATE_LIMIT=fast: exit %d, output %q", code, out)
	}
	code, out = runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--rate-limit", "50")
	if code != 0 {
		t.Fatalf("a flag wins over a bad LEDGER_RATE_LIMIT: exit %d, output %q", code, out)
	}
}

// TestServeRefusesBadBooleanEnvironment: LEDGER_MEMORY_INDEXES=off turns
// the indexes off, and a value that is no boolean is refused (exit 2
// naming the variable) rather than silently read as the default; a flag
// on the command line still wins over the variable.
func TestServeRefusesBadBooleanEnvironment(t *testing.T) {
	for _, name := range []string{"LEDGER_MEMORY_INDEXES", "LEDGER_TRUST_PROXY"} {
		t.Setenv(name, "maybe")
		code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
		if code != 2 || !strings.Contains(out, name+`="maybe"`) {
			t.Errorf("%s=maybe: exit %d, output %q", name, code, out)
		}
		flag := "--" + map[string]string{"LEDGER_MEMORY_INDEXES": "memory-indexes", "LEDGER_TRUST_PROXY": "trust-proxy"}[name]
		if code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), flag+"=false"); code != 0 {
			t.Errorf("%s=maybe with %s=false: exit %d, output %q", name, flag, code, out)
		}
		t.Setenv(name, "")
	}
	for value, want := range map[string]bool{"off": false, "OFF": false, "on": true, "f": false, "T": true, "No": false} {
		t.Setenv("LEDGER_TEST_BOOL", value)
		got, err := envBoolSetting("LEDGER_TEST_BOOL", !want)
		if err != nil || got != want {
			t.Errorf("LEDGER_TEST_BOOL=%s: %v, %v; want %v", value, got, err, want)
		}
	}
}

// TestTrustProxyOffContradictsTrustedProxies: proxies named in the
// environment beside LEDGER_TRUST_PROXY=no are refused (exit 2), not
// trusted against the operator's word; --trust-proxy on the command line
// wins over the variable and starts the server.
func TestTrustProxyOffContradictsTrustedProxies(t *testing.T) {
	t.Setenv("LEDGER_TRUST_PROXY", "no")
	t.Setenv("LEDGER_TRUSTED_PROXIES", "10.0.0.5")
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if code != 2 || !strings.Contains(out, "contradicts --trusted-proxies") {
		t.Errorf("LEDGER_TRUST_PROXY=no with LEDGER_TRUSTED_PROXIES: exit %d, output %q", code, out)
	}
	if code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--trust-proxy"); code != 0 {
		t.Errorf("--trust-proxy with LEDGER_TRUST_PROXY=no and LEDGER_TRUSTED_PROXIES: exit %d, output %q", code, out)
	}
}

// TestDataFolderIsTheOneTheSystemFollows: a --data with ".." after a link
// names the folder the operating system follows (the parent of the link's
// target), for every file of it: the server created and checked that one
// but locked, emptied and served the one the path names once the link and
// its ".." are dropped. An empty --data is refused naming the flag.
func TestDataFolderIsTheOneTheSystemFollows(t *testing.T) {
	base := t.TempDir()
	for _, dir := range []string{"other/sub", "other/dG", "dG/tmp"} {
		if err := os.MkdirAll(filepath.Join(base, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(base, "other/sub"), filepath.Join(base, "L")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "dG/tmp/ledger-import-kept"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"dG", "dH"} {
		code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", base+"/L/../"+folder) // not filepath.Join, which drops L and its ..
		if _, err := os.Stat(filepath.Join(base, "other", folder, "events.db")); code != 0 || err != nil {
			t.Errorf("--data L/../%s: exit %d, %v, output %q", folder, code, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "dG/tmp/ledger-import-kept")); err != nil {
		t.Errorf("the other folder's tmp was emptied: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "dH")); !os.IsNotExist(err) {
		t.Errorf("a folder the path names once its link is dropped was made: %v", err)
	}
	if err := os.Symlink(filepath.Join(base, "nowhere"), filepath.Join(base, "broken")); err != nil {
		t.Fatal(err)
	}
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", base+"/broken/../dB")
	if _, err := os.Stat(filepath.Join(base, "dB")); code != 1 || !os.IsNotExist(err) || !strings.Contains(out, "create data folder") {
		t.Errorf("--data broken/../dB: exit %d, %v, output %q; want the system's refusal, no folder made", code, err, out)
	}
	if code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", ""); code != 2 || !strings.Contains(out, "--data is empty") {
		t.Errorf(`--data "": exit %d, output %q`, code, out)
	}
}

// TestEmptyEnvironmentKeepsDefaults: a variable set to the empty string
// (as container tools pass an unset one) keeps the default, rather than
// making --addr listen on every interface or --store name no store.
func TestEmptyEnvironmentKeepsDefaults(t *testing.T) {
	for _, name := range []string{"LEDGER_ADDR", "LEDGER_DATA", "LEDGER_STORE", "LEDGER_BUS", "LEDGER_NATS_URL"} {
		t.Setenv(name, "")
	}
	var cfg config
	fs := cfg.newFlagSet("x", &bytes.Buffer{}, "addr", "data", "store", "bus", "nats-url")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:8080" || cfg.data != "./data" || cfg.store != "sqlite" || cfg.bus != "gochannel" || cfg.natsURL != "nats://127.0.0.1:4222" {
		t.Fatalf("config %+v", cfg)
	}
}

// TestStrayArgumentNamesTheCommandOnce: the message reads "ledger serve:",
// not "ledger ledger serve:".
func TestStrayArgumentNamesTheCommandOnce(t *testing.T) {
	for _, command := range []string{"verify", "serve"} {
		code, out := runLedger(t, command, "extra")
		if code != 2 || !strings.HasPrefix(out, "ledger "+command+`: unexpected argument "extra"`) {
			t.Errorf("%s: exit %d, output %q", command, code, out)
		}
	}
}

// TestHelpExitsZero: asking a command for its flags is no mistake: exit 0
// with the flags on stdout (`ledger help import | less` shows them), as
// `ledger -h` does; `ledger help COMMAND` asks the same.
func TestHelpExitsZero(t *testing.T) {
	for _, command := range []string{"serve", "verify", "rebuild", "import"} {
		for _, args := range [][]string{{command, "-h"}, {command, "--help"}, {"help", command}, {command, "--data", "x", "-help"}} {
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, &out, &errOut)
			if code != 0 || !strings.HasPrefix(out.String(), "usage: ledger "+command) || !strings.Contains(out.String(), "-data") || errOut.Len() != 0 {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
			}
		}
	}
	if code, out := runLedger(t, "import", "--data", "x"); code != 2 || !strings.HasPrefix(out, "ledger import: give the FILE to import\nusage:") {
		t.Errorf("import without a FILE: exit %d, output %q", code, out)
	}
	if code, out := runLedger(t, "help", "nonsense"); code != 2 || !strings.Contains(out, `unknown command "nonsense"`) {
		t.Errorf("help nonsense: exit %d, output %q", code, out)
	}
}

// TestVerifyMissingStoreSaysSo: a data folder without an event store gets
// a message saying so, not SQLite's "unable to open database file (14)".
func TestVerifyMissingStoreSaysSo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing-here")
	for _, command := range []string{"verify", "rebuild"} {
		code, out := runLedger(t, command, "--data", dir)
		want := fmt.Sprintf("no event store in %s", dir)
		if code == 0 || !strings.Contains(out, want) || strings.Contains(out, "(14)") {
			t.Errorf("%s: exit %d, output %q; want %q", command, code, out, want)
		}
	}
}

// TestVerifyPostgresMissingSchema: verify, rebuild and a local import on a
// PostgreSQL schema that holds no ledger say so (exit 2, 1 and 2) and do
// not create it, rather than creating an empty store and calling it
// intact, or importing into a new ledger nobody else uses.
func TestVerifyPostgresMissingSchema(t *testing.T) {
	url, schema := freshPostgresSchema(t, "verify_missing", "verify on PostgreSQL")
	code, out := runLedger(t, "verify", "--store", "postgres", "--store-url", url)
	if code != 2 || !strings.Contains(out, "holds no event store") {
		t.Errorf("verify: exit %d, output %q", code, out)
	}
	code, out = runLedger(t, "rebuild", "--store", "postgres", "--store-url", url, "--data", t.TempDir())
	if code != 1 || !strings.Contains(out, "holds no event store") {
		t.Errorf("rebuild: exit %d, output %q", code, out)
	}
	sample := filepath.Join("..", "..", "examples", "patents-sample.csv")
	for _, dryRun := range []string{"--dry-run=false", "--dry-run"} {
		code, out = runLedger(t, "import", sample, dryRun, "--store", "postgres", "--store-url", url, "--data", t.TempDir())
		if code != 2 || !strings.Contains(out, "holds no event store") {
			t.Errorf("import %s: exit %d, output %q", dryRun, code, out)
		}
	}
	conn, err := pgx.Connect(context.Background(), os.Getenv("LEDGER_TEST_POSTGRES_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("verify or rebuild created schema %s", schema)
	}
}

// TestServeInterruptedDemo: a signal while the demo loads shuts the server
// down cleanly (exit 0) and says the data folder holds part of a demo,
// rather than exiting 1 with "context canceled".
func TestServeInterruptedDemo(t *testing.T) {
	code, out := runLedgerStopped(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if code != 0 || !strings.Contains(out, "demo: interrupted") || strings.Contains(out, "context canceled") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestServeStoppedWhileStarting: a signal before the server listens (here,
// before it starts at all) is a clean shutdown: exit 0 and a plain
// message, not exit 1 with "context canceled".
func TestServeStoppedWhileStarting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, &out, &errOut)
	if code != 0 || !strings.Contains(errOut.String(), "stopped by a signal while starting") ||
		strings.Contains(out.String()+errOut.String(), "context canceled") {
		t.Fatalf("exit %d, output %q %q", code, out.String(), errOut.String())
	}
}

// TestUsageTellsWhichFlagsReadTheEnvironment: not every flag has a
// variable (--demo, --dry-run, --json do not); the usage says which do.
func TestUsageTellsWhichFlagsReadTheEnvironment(t *testing.T) {
	code, out := runLedger(t, "help")
	if code != 0 || strings.Contains(out, "every flag also reads") || !strings.Contains(out, "(env NAME)") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestNoCommandIsAUsageError: ledger without a command prints the usage on
// stderr and exits 2, as for an unknown command; asked for help it prints
// it on stdout and exits 0.
func TestNoCommandIsAUsageError(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stdout bool
	}{{nil, 2, false}, {[]string{"nonsense"}, 2, false}, {[]string{"help"}, 0, true}, {[]string{"--help"}, 0, true},
		{[]string{"help", "-h"}, 0, true}, {[]string{"help", "--help"}, 0, true}, {[]string{"help", "help"}, 0, true}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), c.args, &out, &errOut)
		usageIn := &errOut
		if c.stdout {
			usageIn = &out
		}
		if code != c.code || !strings.Contains(usageIn.String(), "usage: ledger <command>") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out.String(), errOut.String())
		}
	}
}

// TestUnwritableDataFolderSaysSo: a data folder the server cannot write
// gets a message saying so, not SQLite's "unable to open database file
// (14)". /proc/self refuses new files even to root, who may write any
// folder whose permissions say otherwise.
func TestUnwritableDataFolderSaysSo(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("no /proc/self to stand for an unwritable folder")
	}
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--data", "/proc/self"},
		{"import", "--data", "/proc/self", "../../examples/patents-sample.csv"},
	} {
		code, out := runLedgerStopped(t, args...)
		// /proc/self is a link: the message names the folder it leads to.
		if code == 0 || !regexp.MustCompile(`data folder /proc/[0-9]+ is not writable`).MatchString(out) || strings.Contains(out, "(14)") {
			t.Errorf("%s: exit %d, output %q", args[0], code, out)
		}
	}
}

// TestServeWithoutNATSSaysWhatToStart: --bus nats with no NATS server at
// --nats-url stops the server at start (exit 1, as for a store that cannot
// be reached), naming the flag, its variable and the address it tried,
// with its password masked: the bus's own error named the URL whole.
func TestServeWithoutNATSSaysWhatToStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String() // nothing answers there once closed
	ln.Close()
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--bus", "nats",
		"--nats-url", "nats://ledger:pw-s3cret@"+addr)
	want := "ledger serve: --bus nats: natsbus: connect: "
	if code != 1 || !strings.Contains(out, want) || strings.Contains(out, "pw-s3cret") ||
		!strings.Contains(out, "is a NATS server with JetStream running at --nats-url nats://ledger:xxxxx@"+addr+", env LEDGER_NATS_URL?") {
		t.Errorf("exit %d, output %q; want exit 1 and %q, asking whether NATS runs there, and no password", code, out, want)
	}
}

// TestServeOnAStoreThatRefusesSaysSo: a PostgreSQL that answers "no such
// database" stops serve with exit 1, naming --store-url and the server's
// answer, not "cannot be reached; retry later", which retrying would never
// cure; a port nothing listens on is still "cannot be reached".
func TestServeOnAStoreThatRefusesSaysSo(t *testing.T) {
	base, _ := freshPostgresSchema(t, "refuses", "serve on a PostgreSQL that refuses")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_database_here"
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", "postgres", "--store-url", u.String())
	if code != 1 || !strings.Contains(out, "--store-url (env LEDGER_STORE_URL): ") || !strings.Contains(out, "3D000") ||
		strings.Contains(out, "retry later") {
		t.Errorf("no such database: exit %d, output %q; want exit 1 naming --store-url and 3D000, not retry later", code, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ln.Addr().String()
	ln.Close()
	code, out = runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", "postgres", "--store-url", u.String())
	if code != 1 || !strings.Contains(out, "--store-url (env LEDGER_STORE_URL): ") || !strings.Contains(out, "cannot be reached; retry later") {
		t.Errorf("a closed port: exit %d, output %q; want exit 1 naming --store-url, cannot be reached", code, out)
	}
}

// TestBadStoreOrBusIsAUsageError: as the README says, a bad value in a
// flag or its variable is refused with exit 2 naming it. A --store or
// --bus that names no store or bus, a store that needs --store-url
// without one or is given one that cannot be parsed, a --store-url beside
// SQLite (a node meant for a shared store that would start a ledger of its
// own), or an --addr that is no HOST:PORT, is such a mistake for every command that takes the flag,
// given on the command line or in LEDGER_STORE / LEDGER_BUS: exit 2
// naming the flag and the variable, before the data folder is created,
// rather than exit 1 as for a store that fails. A flag given still wins
// over a bad variable.
func TestBadStoreOrBusIsAUsageError(t *testing.T) {
	sample := filepath.Join("..", "..", "examples", "patents-sample.csv")
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--store", "mongo"}, `--store "mongo" (env LEDGER_STORE)`},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "kafka"}, `--bus "kafka" (env LEDGER_BUS)`},
		{map[string]string{"LEDGER_BUS": "kafka"}, []string{"serve", "--addr", "127.0.0.1:0"}, `--bus "kafka" (env LEDGER_BUS)`},
		{map[string]string{"LEDGER_STORE": "mongo"}, []string{"serve", "--addr", "127.0.0.1:0"}, `--store "mongo" (env LEDGER_STORE)`},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--store", "postgres"}, "--store postgres needs --store-url (env LEDGER_STORE_URL)"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--store", "esdb"}, "--store esdb needs --store-url (env LEDGER_STORE_URL)"},
		{nil, []string{"serve", "--addr", "8080"}, `--addr "8080" (env LEDGER_ADDR): want HOST:PORT`},
		{map[string]string{"LEDGER_ADDR": "localhost"}, []string{"serve"}, `--addr "localhost" (env LEDGER_ADDR): want HOST:PORT`},
		{nil, []string{"serve", "--addr", "127.0.0.1:abc"}, `--addr "127.0.0.1:abc" (env LEDGER_ADDR): want HOST:PORT with a port from 0 to 65535`},
		{nil, []string{"serve", "--addr", ":99999"}, `--addr ":99999" (env LEDGER_ADDR): want HOST:PORT with a port from 0 to 65535`},
		{nil, []string{"serve", "--addr", "127.0.0.1:-1"}, `--addr "127.0.0.1:-1" (env LEDGER_ADDR): want HOST:PORT`},
		{nil, []string{"serve", "--addr", "127.0.0.1:"}, `--addr "127.0.0.1:" (env LEDGER_ADDR): want HOST:PORT`},
		{map[string]string{"LEDGER_ADDR": "[::1]:65536"}, []string{"serve"}, `--addr "[::1]:65536" (env LEDGER_ADDR): want HOST:PORT`},
		{nil, []string{"rebuild", "--store", "mongo"}, `--store "mongo" (env LEDGER_STORE)`},
		{nil, []string{"rebuild", "--store", "postgres"}, "--store postgres needs --store-url"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--store", "postgres", "--store-url", "mysql://x"},
			"--store-url (env LEDGER_STORE_URL) is no postgres connection string, e.g. postgres://user@host:5432/db: "},
		{map[string]string{"LEDGER_STORE_URL": "postgres://u@h/db?sslmode=bogus"}, []string{"verify", "--store", "postgres"},
			"--store-url (env LEDGER_STORE_URL) is no postgres connection string"},
		{nil, []string{"rebuild", "--store", "esdb", "--store-url", "http://x"}, "--store-url (env LEDGER_STORE_URL) is no esdb connection string"},
		{nil, []string{"verify", "--store", "mongo"}, `--store "mongo" (env LEDGER_STORE)`},
		{nil, []string{"import", "--store", "mongo", sample}, `--store "mongo" (env LEDGER_STORE)`},
		{map[string]string{"LEDGER_STORE_URL": "postgres://u@h/db"}, []string{"serve", "--addr", "127.0.0.1:0"},
			"--store-url (env LEDGER_STORE_URL) is for --store postgres or esdb, but --store (env LEDGER_STORE) is sqlite"},
		{nil, []string{"verify", "--store-url", "postgres://u@h/db"}, "--store-url (env LEDGER_STORE_URL) is for --store postgres or esdb"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats", "--nats-url", "ht!tp://"},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: URL 1 cannot be read as a URL; in a password, write #"},
		{map[string]string{"LEDGER_NATS_URL": "nats://h:4222,nats://u:secret@h:4%"}, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats"},
			`--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: URL 2 cannot be read as a URL; in a password`},
		{map[string]string{"LEDGER_NATS_URL": "nats://user:Secr#3t@127.0.0.1:4222"}, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats"},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: URL 1 cannot be read as a URL"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats", "--nats-url", "nats://user:9876#Secr3t@127.0.0.1:1"},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: URL 1 has a path, query or fragment"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats", "--nats-url", "nats://user:9876?Secr3t@127.0.0.1:1"},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: URL 1 has a path, query or fragment"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats", "--nats-url", "nats://h:4222,nats://user:9876/Secr3t@127.0.0.1:1"},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: URL 2 has a path, query or fragment"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats", "--nats-url", " , "},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: it names no server"},
		{nil, []string{"serve", "--addr", "127.0.0.1:0", "--bus", "nats", "--nats-url", "nats://a:4222,ws://b:8080"},
			"--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: it mixes WebSocket"},
	} {
		for name, value := range c.env {
			t.Setenv(name, value)
		}
		data := filepath.Join(t.TempDir(), "data")
		code, out := runLedgerStopped(t, append(c.args, "--data", data)...)
		if code != 2 || !strings.Contains(out, "ledger "+c.args[0]+": "+c.want) {
			t.Errorf("%v %v: exit %d, output %q; want exit 2 and %q", c.env, c.args, code, out, c.want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v %v: the data folder was created before the flags were checked", c.env, c.args)
		}
		if strings.Contains(out, "secret") || strings.Contains(out, "Secr") {
			t.Errorf("%v %v: the output shows a URL's password: %q", c.env, c.args, out)
		}
		for name := range c.env {
			t.Setenv(name, "")
		}
	}
	for _, urls := range []string{"nats://127.0.0.1:4222", "127.0.0.1:4222", "tls://u:p@a:4222, nats://b", "ws://a:8080,wss://b/nats",
		"nats://h:4222/", "nats://u:p%23%2F%3F%40%25@h:4222"} {
		if err := natsbus.CheckURL(urls); err != nil {
			t.Errorf("--nats-url %s: %v", urls, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", ":65535", "[::1]:8080", "localhost:08080"} {
		var cfg config
		fs := cfg.newFlagSet("serve", io.Discard, "addr")
		if err := fs.Parse([]string{"--addr", addr}); err != nil || cfg.checkChoices(fs) != nil {
			t.Errorf("--addr %s: %v, %v", addr, err, cfg.checkChoices(fs))
		}
	}
	t.Setenv("LEDGER_STORE", "mongo")
	t.Setenv("LEDGER_BUS", "kafka")
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", "sqlite", "--bus", "gochannel")
	if code != 0 {
		t.Errorf("flags win over a bad LEDGER_STORE and LEDGER_BUS: exit %d, output %q", code, out)
	}
}

// TestUsageShowsDefaultsNotTheEnvironment: the flags' help, asked for or
// printed for a mistyped flag, shows each flag's documented default and
// never the value of its environment variable: LEDGER_ADMIN_KEY,
// LEDGER_STORE_URL (with its password) and LEDGER_KEY are secrets that
// `ledger serve -h` in a shared terminal or a CI log must not print. The
// variables still set the values (TestFlagsWinOverEnvironment,
// TestRemoteSettingsFromEnvironment).
func TestUsageShowsDefaultsNotTheEnvironment(t *testing.T) {
	env := map[string]string{
		"LEDGER_ADMIN_KEY":      "adm-s3cret",
		"LEDGER_STORE_URL":      "postgres://ledger:pg-s3cret@db.example/ledger",
		"LEDGER_KEY":            "key-s3cret",
		"LEDGER_SERVER":         "http://s3cret.example:1",
		"LEDGER_ADDR":           "127.0.0.1:1234",
		"LEDGER_DATA":           "/s3cret/data",
		"LEDGER_STORE":          "s3cret-store",
		"LEDGER_BUS":            "s3cret-bus",
		"LEDGER_NATS_URL":       "nats://nats:s3cret@nats.example:4222",
		"LEDGER_NODE":           "node-s3cret",
		"LEDGER_RATE_LIMIT":     "1234.5",
		"LEDGER_BODY_LIMIT":     "77MiB",
		"LEDGER_MEMORY_INDEXES": "OFF",
		"LEDGER_TRUST_PROXY":    "YES",
	}
	for name, value := range env {
		t.Setenv(name, value)
	}
	want := map[string]string{ // the documented defaults, as the flag package prints them
		"addr": `(default "127.0.0.1:8080")`, "data": `(default "./data")`, "store": `(default "sqlite")`,
		"bus": `(default "gochannel")`, "nats-url": `(default "nats://127.0.0.1:4222")`, "rate-limit": `(default "200")`,
		"body-limit": `(default "1M")`, "memory-indexes": "(default true)",
		"store-url": "", "admin-key": "", "node": "", "trust-proxy": "", "server": "", "key": "",
	}
	for _, args := range [][]string{
		{"serve", "-h"}, {"serve", "--help"}, {"serve", "--admin-kee", "x"}, {"serve", "stray"},
		{"verify", "-h"}, {"verify", "--nope"}, {"import", "-h"}, {"import", "--nope", "list.csv"}, {"import"},
		{"rebuild", "-h"}, {"rebuild", "--nope"},
	} {
		code, out := runLedger(t, args...)
		if wantCode := map[bool]int{true: 0, false: 2}[args[len(args)-1] == "-h" || args[len(args)-1] == "--help"]; code != wantCode {
			t.Errorf("%v: exit %d, want %d", args, code, wantCode)
		}
		var leaked []string
		for name, value := range env {
			if strings.Contains(out, value) {
				leaked = append(leaked, name)
			}
		}
		if len(leaked) > 0 {
			slices.Sort(leaked)
			t.Errorf("%v: the help shows the values of %s:\n%s", args, strings.Join(leaked, ", "), out)
		}
		shown := 0
		for _, block := range strings.Split(out, "\n  -")[1:] {
			name, rest, _ := strings.Cut(block, "\n")
			name, _, _ = strings.Cut(name, " ")
			def, ok := want[name]
			if !ok {
				continue
			}
			shown++
			rest = strings.TrimSpace(rest)
			if def == "" && strings.Contains(rest, "(default") || def != "" && !strings.HasSuffix(rest, def) {
				t.Errorf("%v: -%s shows %q, want the documented default %q", args, name, rest, def)
			}
		}
		if shown < 3 {
			t.Errorf("%v: no flags in the output:\n%s", args, out)
		}
	}
}

// TestRemoteKeyNeedsServer: --key without --server would be ignored, the
// command working on the local data folder (creating it for import) while
// its user thinks it goes through a server: it is refused (exit 2), as
// --server without --key is, before anything is opened or created. A
// LEDGER_KEY merely set in the environment is no such mistake.
func TestRemoteKeyNeedsServer(t *testing.T) {
	for _, args := range [][]string{
		{"verify", "--key", "k"},
		{"verify", "--key=k", "--server="},
		{"import", samplePath, "--key", "k"},
		{"import", "--key", "k", "--dry-run", samplePath},
	} {
		data := filepath.Join(t.TempDir(), "data")
		code, out := runLedger(t, append(args, "--data", data)...)
		if want := "ledger " + args[0] + ": --key needs --server (or LEDGER_SERVER)"; code != 2 || !strings.HasPrefix(out, want) {
			t.Errorf("%v: exit %d, output %q; want exit 2 and %q", args, code, out, want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v: the data folder was created", args)
		}
	}
	t.Setenv("LEDGER_KEY", "a-key-for-other-commands")
	dir := t.TempDir()
	fillStore(t, dir, 3)
	if code, out := runLedger(t, "verify", "--data", dir); code != 0 || !strings.HasPrefix(out, "ok: 3 events") {
		t.Errorf("verify with LEDGER_KEY set and no server: exit %d, %q", code, out)
	}
}

// TestRedactedURLsHidePasswords: the NATS URLs serve logs and names in an
// error keep their hosts but not their passwords, nor a token (a user part
// without a password).
func TestRedactedURLsHidePasswords(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                   "nats://127.0.0.1:4222",
		"nats://ledger:s3cret@10.0.0.5:4222":      "nats://ledger:xxxxx@10.0.0.5:4222",
		"nats://a:p1@h1:4222,nats://b:p2@h2:4222": "nats://a:xxxxx@h1:4222,nats://b:xxxxx@h2:4222",
		"nats://u:%zz@h:4222":                     "nats://…@h:4222",
		// A user part alone is a token to NATS.
		"nats://TOKENs3cret@127.0.0.1:4222": "nats://…@127.0.0.1:4222",
		// An unescaped #, ? or / in a password makes its end a fragment,
		// query or path, and its start a host and port: masked all the same.
		"nats://user:9876#Secr3t@127.0.0.1:1":   "nats://…@127.0.0.1:1",
		"nats://user:9876?Secr3t@127.0.0.1:1":   "nats://…@127.0.0.1:1",
		"nats://user:9876/Secr3t@127.0.0.1:1":   "nats://…@127.0.0.1:1",
		"user:9876/Secr3t@127.0.0.1:1,nats://h": "…@127.0.0.1:1,nats://h",
	} {
		if got := redactedURLs(in); got != want || strings.Contains(got, "s3cret") || strings.Contains(got, "Secr3t") {
			t.Errorf("redactedURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestImportArguments: "--" ends the flags, so that a file named like a
// flag can be imported, and two files are refused naming them.
func TestImportArguments(t *testing.T) {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "")
	got, err := parseInterspersed(fs, []string{"a.csv", "--dry-run", "--", "-dash.csv", "--dry-run"})
	if err != nil || !*dryRun || !slices.Equal(got, []string{"a.csv", "-dash.csv", "--dry-run"}) {
		t.Fatalf("parseInterspersed: %q, %v, dry run %v", got, err, *dryRun)
	}
	code, out := runLedger(t, "import", "a.csv", "b.csv", "--data", t.TempDir())
	if want := "ledger import: give one FILE, not 2 (a.csv, b.csv)"; code != 2 || !strings.HasPrefix(out, want) {
		t.Fatalf("two files: exit %d, %q; want exit 2 and %q", code, out, want)
	}
	// Flags after "--" are file names; the message does not repeat a key.
	code, out = runLedger(t, "import", "--", "a.csv", "--server", "http://127.0.0.1:1", "--key", "adm-SECRET-1", "--key=adm-SECRET-2",
		"-store-url", "postgres://u:SECRET@h/db")
	if want := "not 8 (a.csv, --server, ***, --key, ***, --key=***, -store-url, ***)"; code != 2 ||
		!strings.Contains(out, want) || strings.Contains(out, "SECRET") {
		t.Fatalf("flags after --: exit %d, %q; want exit 2 and %q", code, out, want)
	}
}

// TestServeWarnsOfAShortAdminKey: the server's session and form tokens are
// drawn from the admin key, so a short one is guessable offline from a
// sign-in page: serve warns of it, and not of a long one.
func TestServeWarnsOfAShortAdminKey(t *testing.T) {
	for key, warned := range map[string]bool{"dev-admin-key": true, strings.Repeat("k", 24): false} {
		code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--admin-key", key)
		if code != 0 || strings.Contains(out, "the admin key is short") != warned {
			t.Errorf("--admin-key of %d characters: exit %d, warned %v, want %v:\n%s", len(key), code, !warned, warned, out)
		}
	}
}

// TestServeDemoMakesNoKeyForALedger: --demo makes and prints an admin key
// for the demo ledger it loads into an empty folder, but none for a ledger
// the folder already holds (a --demo left in a service file would print a
// working admin key of the real ledger at every start).
func TestServeDemoMakesNoKeyForALedger(t *testing.T) {
	if _, out := runLedgerStopped(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir()); !strings.Contains(out, "demo admin key (this run only): ") {
		t.Fatalf("an empty folder: no demo admin key in %q", out)
	}
	dir := t.TempDir()
	fillStore(t, dir, 10)
	if code, out := runLedgerStopped(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir); code != 0 || strings.Contains(out, "demo admin key") {
		t.Fatalf("a folder holding a ledger: exit %d, output %q", code, out)
	}
}

// TestServeSaysHowToMendADamagedDerivedFile: a read-model or snapshot file
// that is no database any more (a power cut, a bad copy) stops serve with
// exit 1 saying it holds nothing the store does not and may be deleted,
// as rebuild says of the read models.
func TestServeSaysHowToMendADamagedDerivedFile(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"readmodels.db", "the read-model file %s is damaged; it holds nothing the event store does not: delete it and start again"},
		{"snapshots.db", "the snapshot file %s is damaged; it holds nothing the event store does not: delete it and start again"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, c.file)
		if err := os.WriteFile(path, bytes.Repeat([]byte("garbage\n"), 600), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", dir)
		if want := fmt.Sprintf(c.want, path); code != 1 || !strings.Contains(out, want) {
			t.Errorf("a damaged %s: exit %d, output %q; want exit 1 and %q", c.file, code, out, want)
		}
	}
}

// TestServeOnAPortInUseLeavesNoLedger: a serve that cannot listen names
// --addr and leaves no new, empty event store in the data folder, which
// import and verify would then take for a ledger.
func TestServeOnAPortInUseLeavesNoLedger(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "data")
	code, out := runLedgerStopped(t, "serve", "--addr", taken.Addr().String(), "--data", dir)
	if want := "--addr " + taken.Addr().String() + " (env LEDGER_ADDR): "; code != 1 || !strings.Contains(out, want) {
		t.Errorf("a port in use: exit %d, output %q; want exit 1 and %q", code, out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.db")); !os.IsNotExist(err) {
		t.Errorf("a serve that could not listen left events.db (%v)", err)
	}
}

// TestParseTrustedProxies: addresses become single-address ranges (an
// IPv4-mapped address its IPv4 one, a zone dropped), ranges stay as given,
// blanks between commas are skipped, and anything else is refused.
func TestParseTrustedProxies(t *testing.T) {
	got, err := parseTrustedProxies(" 10.0.0.5, 10.1.0.0/16,,fd00::/8, ::ffff:192.0.2.1, fe80::1%eth0 ")
	want := []string{"10.0.0.5/32", "10.1.0.0/16", "fd00::/8", "192.0.2.1/32", "fe80::1/128"}
	var texts []string
	for _, p := range got {
		texts = append(texts, p.String())
	}
	if err != nil || !slices.Equal(texts, want) {
		t.Fatalf("got %v, %v; want %v", texts, err, want)
	}
	for _, bad := range []string{"proxy.internal", "10.0.0.0/33", "10.0.0.256", ",", " , "} {
		if _, err := parseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
