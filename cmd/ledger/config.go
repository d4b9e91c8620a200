package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/esdb"
	"github.com/patentledger/ledger/eventstore/postgres"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections/natsbus"
)

// config is the configuration of CONTRACT.md: flags, each with an
// environment variable; a flag given on the command line wins.
type config struct {
	addr     string
	data     string
	store    string
	storeURL string
	bus      string
	natsURL  string
	node     string
	adminKey string
}

// setting is one flag with its environment variable and default.
type setting struct {
	target *string
	flag   string
	env    string
	def    string
	usage  string
}

func (c *config) settings() []setting {
	return []setting{
		{&c.addr, "addr", "LEDGER_ADDR", "127.0.0.1:8080", "address to listen on"},
		{&c.data, "data", "LEDGER_DATA", "./data", "data folder (SQLite event store and read models)"},
		{&c.store, "store", "LEDGER_STORE", "sqlite", "event store: sqlite, postgres or esdb"},
		{&c.storeURL, "store-url", "LEDGER_STORE_URL", "", "store URL for postgres (postgres://…) and esdb (esdb://…)"},
		{&c.bus, "bus", "LEDGER_BUS", "gochannel", "event bus: gochannel or nats"},
		{&c.natsURL, "nats-url", "LEDGER_NATS_URL", "nats://127.0.0.1:4222", "NATS server URL"},
		{&c.node, "node", "LEDGER_NODE", "", "name of this node on the NATS bus; host name-listen port when empty"},
		{&c.adminKey, "admin-key", "LEDGER_ADMIN_KEY", "", "bearer key with the admin role"},
	}
}

// newFlagSet returns a flag set for a subcommand with the named settings
// registered, their values taken from the environment until a flag given
// replaces them. The usage shows each documented default, never the value
// of a variable, which may be a secret (LEDGER_ADMIN_KEY, a password in
// LEDGER_STORE_URL).
func (c *config) newFlagSet(name string, stderr io.Writer, names ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("ledger "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ledger %s [flags]\n\nflags:\n", name)
		fs.PrintDefaults()
	}
	for _, s := range c.settings() {
		if !contains(names, s.flag) {
			continue
		}
		envStringVar(fs, s.target, s.flag, s.env, s.def, s.usage+" (env "+s.env+")")
	}
	return fs
}

// envStringVar defines a string flag whose usage shows def as its default
// and whose value is that of the variable env, def when it is unset or
// empty, until the flag given on the command line replaces it.
func envStringVar(fs *flag.FlagSet, p *string, name, env, def, usage string) {
	fs.StringVar(p, name, def, usage) // the usage shows def, the flag's DefValue
	*p = envOr(env, def)
}

// envBoolVar is envStringVar for a boolean flag, whose variable has been
// read (envBoolSetting) into value.
func envBoolVar(fs *flag.FlagSet, p *bool, name string, value, def bool, usage string) {
	fs.BoolVar(p, name, def, usage)
	*p = value
}

// envOr returns the value of an environment variable, def when it is unset
// or empty (as container tools pass a variable they leave unset).
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// unsetFlagErrors returns the errors of errs, by flag name, of the flags
// not given on the command line: an environment variable that gives a flag
// a bad value is a mistake only when no flag overrides it.
func unsetFlagErrors(fs *flag.FlagSet, errs map[string]error) error {
	fs.Visit(func(f *flag.Flag) { delete(errs, f.Name) })
	var list []error
	fs.VisitAll(func(f *flag.Flag) { list = append(list, errs[f.Name]) })
	return errors.Join(list...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkChoices checks the settings of fs that take one of a few words,
// --store and --bus, that a store which needs --store-url has one and
// that SQLite, which does not, has none, and
// that --addr has the form HOST:PORT with a port number from 0 to 65535
// (not a service name such as http; a port in use is found later). A
// mistake there is the user's: it returns an error naming the flag and its
// variable, for the caller to refuse with exit 2 before anything is opened
// or created.
func (c *config) checkChoices(fs *flag.FlagSet) error {
	var errs []error
	if fs.Lookup("data") != nil {
		if c.data == "" {
			errs = append(errs, errors.New("--data is empty: name the data folder, e.g. ./data"))
		} else {
			c.data = physicalPath(c.data)
		}
	}
	if fs.Lookup("store") != nil {
		switch c.store {
		case "sqlite":
			if c.storeURL != "" { // a node meant for a shared store would start on a new ledger of its own
				errs = append(errs, fmt.Errorf("--store-url (env LEDGER_STORE_URL) is for --store postgres or esdb, but --store (env LEDGER_STORE) is sqlite, "+
					"whose store is events.db in --data: give --store, or leave out --store-url"))
			}
		case "postgres", "esdb":
			example := map[string]string{"postgres": "postgres://user@host:5432/db", "esdb": "esdb://host:2113?tls=false"}[c.store]
			check := map[string]func(string) error{"postgres": postgres.CheckURL, "esdb": esdb.CheckURL}[c.store]
			if c.storeURL == "" {
				errs = append(errs, fmt.Errorf("--store %s needs --store-url (env LEDGER_STORE_URL), e.g. %s", c.store, example))
			} else if err := check(c.storeURL); err != nil {
				errs = append(errs, fmt.Errorf("--store-url (env LEDGER_STORE_URL) is no %s connection string, e.g. %s: %w", c.store, example, err))
			}
		default:
			errs = append(errs, fmt.Errorf("--store %q (env LEDGER_STORE): want sqlite, postgres or esdb", c.store))
		}
	}
	if fs.Lookup("addr") != nil {
		if _, port, err := net.SplitHostPort(c.addr); err != nil {
			errs = append(errs, fmt.Errorf("--addr %q (env LEDGER_ADDR): want HOST:PORT, e.g. 127.0.0.1:8080 or :8080", c.addr))
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			errs = append(errs, fmt.Errorf("--addr %q (env LEDGER_ADDR): want HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080 or :8080", c.addr))
		}
	}
	if fs.Lookup("bus") != nil && c.bus != "gochannel" && c.bus != "nats" {
		errs = append(errs, fmt.Errorf("--bus %q (env LEDGER_BUS): want gochannel or nats", c.bus))
	}
	if fs.Lookup("nats-url") != nil && c.bus == "nats" {
		if err := natsbus.CheckURL(c.natsURL); err != nil {
			errs = append(errs, fmt.Errorf("--nats-url (env LEDGER_NATS_URL) is no NATS server URL, e.g. nats://127.0.0.1:4222: %w", err))
		}
	}
	return errors.Join(errs...)
}

// physicalPath returns path as the operating system follows it: a ".."
// after a link leads to the parent of the link's target, where
// filepath.Join and filepath.Clean would drop the link and its "..", so
// that every file of a data folder is the one its creation and checks
// saw. The part of path that does not exist yet holds no link and is
// appended as it is, unless it holds a "..", which the system cannot
// follow past a missing folder or a broken link. Then, and on an error
// other than a missing folder, path is returned as given, for the command
// to meet the system's error itself.
func physicalPath(path string) string {
	var missing []string
	for prefix := path; prefix != ""; {
		resolved, err := filepath.EvalSymlinks(prefix)
		switch {
		case err == nil && slices.Contains(missing, ".."): // after a missing folder or a broken link: the system follows none
			return path
		case err == nil:
			return filepath.Join(append([]string{resolved}, missing...)...)
		case !errors.Is(err, fs.ErrNotExist):
			return path
		}
		i := strings.LastIndexByte(prefix, filepath.Separator)
		if i <= 0 {
			break // no existing part: nothing to resolve
		}
		prefix, missing = prefix[:i], append([]string{prefix[i+1:]}, missing...)
	}
	return path
}

// storeMode says how a command opens the event store.
type storeMode int

const (
	// storeCreate opens the store, creating it (and the data folder) when
	// there is none: ledger serve.
	storeCreate storeMode = iota
	// storeExisting opens a store that must exist, to write to it: a
	// local import, which must not make a new, empty ledger where a
	// mistyped --data or --store-url points.
	storeExisting
	// storeReadOnly opens a store that must exist, without changing it.
	storeReadOnly
)

// openStore opens the configured event store, whose settings checkChoices
// has checked, as mode says.
func (c *config) openStore(ctx context.Context, mode storeMode) (domain.EventStore, error) {
	if mode != storeReadOnly {
		if err := c.prepareDataFolder(); err != nil {
			return nil, err
		}
	}
	switch c.store {
	case "sqlite":
		if err := c.noSQLiteStore(); mode != storeCreate && err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, filepath.Join(c.data, "events.db"), sqlite.Options{ReadOnly: mode == storeReadOnly})
	case "esdb":
		st, err := esdb.Connect(ctx, c.storeURL, esdb.Options{})
		if err != nil {
			return nil, storeURLError(err)
		}
		return st, nil
	case "postgres":
		st, err := postgres.Open(ctx, c.storeURL, postgres.Options{Existing: mode != storeCreate})
		if err != nil {
			return nil, storeURLError(err)
		}
		return st, nil
	default: // checkChoices, which every command runs first, refuses it
		return nil, fmt.Errorf("unknown store %q (want sqlite, postgres or esdb)", c.store)
	}
}

// noSQLiteStore says that the data folder holds no SQLite event store
// (events.db), nil when it does.
func (c *config) noSQLiteStore() error {
	if _, err := os.Stat(filepath.Join(c.data, "events.db")); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no event store in %s (no events.db there; is --data right?)", c.data)
	}
	return nil
}

// storeURLError names --store-url in the error of opening the store it
// names (not its value, which may hold a password in any of the forms the
// drivers take; their errors name the host, user and database).
func storeURLError(err error) error {
	return fmt.Errorf("--store-url (env LEDGER_STORE_URL): %w", err)
}

// prepareDataFolder creates the data folder when missing and checks that
// a file can be created in it: every store keeps its read models and
// snapshots there.
func (c *config) prepareDataFolder() error {
	if err := os.MkdirAll(c.data, 0o750); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	if err := checkWritable(c.data); err != nil {
		return fmt.Errorf("data folder %s is not writable: %w", c.data, err)
	}
	return nil
}

// checkWritable checks that a file can be created in the folder dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, writeCheckPrefix+"*")
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err // the temporary file's name says nothing
	}
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// storeIdentity names the configured event store for a store that keeps
// no ID of its own (busNamespace), the same for every node of one ledger:
// the scheme, host and path of the store URL (no user, password or query
// parameters, which may hold a password) for postgres and esdb, the
// absolute path of the data folder for sqlite.
func (c *config) storeIdentity() (string, error) {
	switch c.store {
	case "postgres", "esdb":
		if c.storeURL == "" {
			return "", fmt.Errorf("--store %s needs --store-url", c.store)
		}
		u, err := url.Parse(c.storeURL)
		if err != nil {
			return "", fmt.Errorf("store URL: %w", err)
		}
		return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(), nil
	default:
		abs, err := filepath.Abs(c.data)
		if err != nil {
			return "", fmt.Errorf("data folder: %w", err)
		}
		return abs, nil
	}
}

// errStrayArgument is returned by parseNoArguments for a positional
// argument.
var errStrayArgument = errors.New("unexpected argument")

// parseInterspersed parses flags given before and after the positional
// arguments (ledger import FILE --dry-run) and returns the positional ones;
// every argument after "--" is positional. It returns flag.ErrHelp for -h
// and --help.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional, rest []string
	if i := slices.Index(args, "--"); i >= 0 { // what follows "--" is no flag ("-dash.csv")
		args, rest = args[:i], args[i+1:]
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(positional, rest...), nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseNoArguments parses the flags of a command that takes no positional
// argument. A stray argument is refused, with the usage, rather than left
// unread with the flags after it (ledger verify extra --data DIR): it
// returns errStrayArgument. It returns flag.ErrHelp for -h and --help.
func parseNoArguments(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errStrayArgument
	}
	return nil
}

// usageExit returns the exit code of a command whose arguments did not
// parse: 0 when help was asked for (-h, --help), 2 for a mistake.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// redactedURLs returns a list of server URLs separated by commas (as
// --nats-url takes them) with the password of each masked, for a log line
// or a message: "nats://ledger:xxxxx@10.0.0.5:4222"; a user part without a
// password, which NATS takes as a token, is masked whole
// ("nats://…@10.0.0.5:4222"). A part that is no URL is masked whole from
// its last '@' back.
func redactedURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		at := strings.LastIndex(p, "@")
		switch {
		case err == nil && u.User != nil:
			if _, hasPassword := u.User.Password(); !hasPassword {
				u.User = nil
				parts[i] = strings.Replace(u.String(), "://", "://…@", 1)
				continue
			}
			parts[i] = u.Redacted()
		case at >= 0: // an @ that did not end a user part: a password with a character it must not hold unescaped
			scheme, _, found := strings.Cut(p, "://")
			parts[i] = "…" + p[at:]
			if found && !strings.Contains(scheme, "@") {
				parts[i] = scheme + "://…" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}
