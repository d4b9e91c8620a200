package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestParseCampaign(t *testing.T) {
	for _, ok := range []string{"2024", "2025-h1", "a", "Z_9", strings.Repeat("x", 32)} {
		if got, err := domain.ParseCampaign(ok); err != nil || got != ok {
			t.Errorf("ParseCampaign(%q) = %q, %v", ok, got, err)
		}
	}
	for _, c := range []struct{ in, message string }{
		{"", "campaign: is required, like 2024"},
		{"20 24", "campaign: must be 1–32 letters, digits, '-' or '_', like 2024"},
		{"-2024", "campaign: must be 1–32 letters, digits, '-' or '_', like 2024"},
		{strings.Repeat("x", 33), "campaign: must be 1–32 letters, digits, '-' or '_', like 2024"},
		{"二〇二四", "campaign: must be 1–32 letters, digits, '-' or '_', like 2024"},
	} {
		_, err := domain.ParseCampaign(c.in)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || de.Message != c.message {
			t.Errorf("ParseCampaign(%q): %v, want %q", c.in, err, c.message)
		}
	}
}
