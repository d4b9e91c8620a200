package natsbus

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRenewalTooLateSaysWhy: a lease lost without a failed renewal (taking
// it was answered late) says so instead of formatting a nil cause, and a
// failed renewal stays the loss's cause.
func TestRenewalTooLateSaysWhy(t *testing.T) {
	late := renewalTooLate("relay lease", 2*time.Second, nil)
	if msg := late.Error(); strings.Contains(msg, "%!") || !strings.Contains(msg, "answered too late") || !strings.Contains(msg, "the relay lease") {
		t.Errorf("a lease lost without a failed renewal: %q", msg)
	}
	cause := errors.New("nats: timeout")
	if failed := renewalTooLate("relay lease", 2*time.Second, cause); !errors.Is(failed, cause) || !strings.Contains(failed.Error(), "within 2s: nats: timeout") {
		t.Errorf("a lease lost after a failed renewal: %v", failed)
	}
}
