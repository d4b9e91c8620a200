package domain

import (
	"strings"
	"testing"
)

// fullWidth spells the ASCII characters of s in their full-width forms
// (U+FF01–U+FF5E).
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' {
			return r + 0xFEE0
		}
		return r
	}, s)
}

// spaced puts sep between the characters of s.
func spaced(s, sep string) string { return strings.Join(strings.Split(s, ""), sep) }

func TestPromotionalWordResistsDisguise(t *testing.T) {
	for _, w := range promotionalWords {
		for _, text := range []string{
			"本技术" + w + "可靠",
			"本技术" + fullWidth(w) + "可靠",
			"本技术" + strings.ToUpper(fullWidth(w)) + "可靠",
			"本技术" + spaced(w, " ") + "可靠",
			"本技术" + spaced(w, "\u3000") + "可靠",
			"本技术" + spaced(fullWidth(w), "\t") + "可靠",
		} {
			if got := PromotionalWord(text); got != w {
				t.Errorf("PromotionalWord(%q) = %q, want %q", text, got, w)
			}
		}
	}
	for _, text := range []string{"效果１００％保证", "合格率 100 %", "ＢＥＳＴ choice", "Number  One supplier"} {
		if PromotionalWord(text) == "" {
			t.Errorf("PromotionalWord(%q) found nothing", text)
		}
	}
}

func TestPromotionalWordPassesOrdinaryText(t *testing.T) {
	for _, text := range []string{
		"被许可人应按季度报告实施情况",
		"许可费按净销售额的 5% 支付，每季度结算一次",
		"ＩＳＯ　９００１ 认证企业优先；联系电话 020-12345678",
		"Royalty of 10 % on net sales, reported quarterly.",
		"",
	} {
		if w := PromotionalWord(text); w != "" {
			t.Errorf("PromotionalWord(%q) = %q, want none", text, w)
		}
	}
}
