package natsbus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patentledger/ledger/projections/natsbus"
)

// TestNodeNamesAreUniqueAmongRunningNodes: a node name claimed by a
// running node is refused to another (which would share its durable
// consumer and get half of the events), while another name is not; it is
// free again at once when the node releases it, and within two lease TTLs
// when the node dies without releasing it.
func TestNodeNamesAreUniqueAmongRunningNodes(t *testing.T) {
	url := natsURL(t)
	ns := namespace(t, url)
	ctx := context.Background()
	first, second := openBus(t, testConfig(url, ns)), openBus(t, testConfig(url, ns))
	release, err := first.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.ClaimNodeName(ctx, "n1"); !errors.Is(err, natsbus.ErrNodeNameTaken) {
		t.Fatalf("a second node named n1 while the first runs: %v, want ErrNodeNameTaken", err)
	}
	other, err := second.ClaimNodeName(ctx, "n2")
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	other()
	release()
	again, err := second.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatalf("n1 after the first node released it: %v", err)
	}
	// The node that holds it now dies without releasing it: its lease is
	// no longer renewed and expires.
	third := openBus(t, testConfig(url, ns))
	second.Close()
	start := time.Now()
	last, err := third.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatalf("n1 after its node died: %v (after %v)", err, time.Since(start))
	}
	last()
	again()
}
