package main

import (
	"bytes"
	"testing"
)

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

