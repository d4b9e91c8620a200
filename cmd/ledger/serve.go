package main

import (
	"context"
	"errors"

	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// serveFlags are the flags of `ledger serve` beyond the shared settings.
type serveFlags struct {
	trustProxy bool
	rateLimit  float64
	bodyLimit  string
}

// runServe runs the HTTP server until ctx is done (SIGINT or SIGTERM), then
// lets in-flight requests finish and closes the store.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	var sf serveFlags
	fs := cfg.newFlagSet("serve", stderr, "addr", "data", "store", "store-url", "bus", "nats-url", "admin-key")
	fs.BoolVar(&sf.trustProxy, "trust-proxy", envBool("LEDGER_TRUST_PROXY"), "take client addresses from X-Forwarded-For (env LEDGER_TRUST_PROXY)")
	fs.Float64Var(&sf.rateLimit, "rate-limit", 200, "requests per second allowed per key or client address")
	fs.StringVar(&sf.bodyLimit, "body-limit", "1M", "largest request body accepted")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if err := serve(ctx, cfg, sf, log, stdout); err != nil {
		fmt.Fprintf(stderr, "ledger serve: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg config, sf serveFlags, log *slog.Logger, stdout io.Writer) error {
	if cfg.bus != "gochannel" {
		return fmt.Errorf("bus %q is not available in this build yet; only gochannel is", cfg.bus)
	}
	store, err := cfg.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer store.Close()
	snapshots, err := sqlite.OpenSnapshots(ctx, filepath.Join(cfg.data, "snapshots.db"))
	if err != nil {
		return err
	}
	defer snapshots.Close()
	svc, err := domain.NewService(store, domain.ServiceOptions{NewID: newID, Snapshots: snapshots,
		OnSnapshotError: func(err error) { log.Warn("snapshot", "error", err) }})
	if err != nil {
		return err
	}
	srv := api.New(api.Config{Service: svc, Store: store, AdminKey: cfg.adminKey, Logger: log,
		BodyLimit: sf.bodyLimit, RateLimit: sf.rateLimit, TrustProxy: sf.trustProxy})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	httpServer := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "ledger listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// envBool reads a boolean environment variable ("1", "true", "yes").
func envBool(name string) bool {
	v := os.Getenv(name)
	switch v {
	case "1", "true", "TRUE", "True", "yes":
		return true
	}
	return false
}

// newID returns a time-ordered UUID (version 7): new events then land at the
// end of the store's ID index instead of on random pages.
func newID() string { return uuid.Must(uuid.NewV7()).String() }
