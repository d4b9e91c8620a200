package domain

import (
	"slices"
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
	for _, text := range []string{"效果１００％保证", "合格率 100 %", "ＢＥＳＴ choice", "Number  One supplier", "the best-selling cell",
		"B-E-S-T", "world class quality", "最迟交付，最佳效果", "第一名", "行业最先进"} {
		if PromotionalWord(text) == "" {
			t.Errorf("PromotionalWord(%q) found nothing", text)
		}
	}
}

// TestPromotionalWordReadsTraditionalCharacters: the words of the list and
// the ordinary phrases written in traditional characters are read as their
// simplified forms.
func TestPromotionalWordReadsTraditionalCharacters(t *testing.T) {
	for text, want := range map[string]string{
		"本技術為國家級方案": "国家级", "頂級電池": "顶级", "世界級水平": "世界级", "獨一無二": "独一无二", "絕對可靠": "绝对",
		"極致體驗": "极致", "首選方案": "首选", "全球領先": "领先", "國內第一個同類專利": "第一",
	} {
		if got := PromotionalWord(text); got != want {
			t.Errorf("PromotionalWord(%q) = %q, want %q", text, got, want)
		}
	}
	for _, text := range []string{"最遲於每年 3 月 31 日前支付；最終以備案合同為準；最後一期", "許可期限最長為 5 年，最短不少於 1 年",
		"第一條、第一項、第一節；第一筆許可費於第一個付款期支付；第一階段", "提成最高不超過 5%，最低使用費 1 萬元，最低金額 2 萬元"} {
		if w := PromotionalWord(text); w != "" {
			t.Errorf("PromotionalWord(%q) = %q, want none", text, w)
		}
	}
}

// TestPromotionalWordFindsClaimsBesideOrdinaryPhrases: a limit or an
// ordinal passes only with what it limits or counts; as a claim it is
// found.
func TestPromotionalWordFindsClaimsBesideOrdinaryPhrases(t *testing.T) {
	for _, text := range []string{"本技术能耗最低", "电池寿命最长", "充电时间最短的方案", "国内第一个同类专利", "世界领先水平", "the greatest cell",
		"续航最长为同类产品两倍", "續航最長為同類產品兩倍", "最终极方案", "全國第1", "行业第壹", "TOP1技术", "top 1 supplier"} {
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
		// Latin words are whole words: "be stored" is no "best".
		"Samples must be stored at the licensee premises.",
		"Not for asbestos products.",
		"The data must be stable and be stated in writing.",
		"Overall yield 1100% of the base year; tolerance 0.100%.",
		// 最 and 第一 as contract terms use them: deadlines, limits, ordinals.
		"第一期许可费于签约时支付，最迟于每年 3 月 31 日前支付",
		"最低使用费 1 万元，提成最高不超过净销售额的 5%；最终以备案合同为准",
		"第一条 许可范围；第一季度报告实施情况",
		"许可期限最长为 5 年，最短不少于 1 年；最低提成 2 万元；第一个结算期于 6 月 30 日结束",
		// Limits with their numbers, and ordinals with what they count.
		"每季度第一个工作日前支付；第一个合同年度内支付；第一个结算周期",
		"最低销售额为100万元，最低年费1万元；许可期限最长12个月，最短6个月；最多3次",
		"第1条 许可范围；第1期许可费；第10条；第1个月内",
		"",
	} {
		if w := PromotionalWord(text); w != "" {
			t.Errorf("PromotionalWord(%q) = %q, want none", text, w)
		}
	}
}

// FuzzPromotionalWord: whatever the text, what PromotionalWord returns is
// one of the list's words or none, and every word of the list put after
// the text in a sentence of its own is found there, whatever came before
// (no ordinary phrase or spelled-out word reaches across into it).
func FuzzPromotionalWord(f *testing.F) {
	for _, s := range []string{"", "最迟", "b e s", "第一", "be st", "100", "1", "ｂ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if w := PromotionalWord(text); w != "" && !slices.Contains(promotionalWords, w) {
			t.Fatalf("PromotionalWord(%q) = %q, no word of the list", text, w)
		}
		for _, w := range promotionalWords {
			if PromotionalWord(text+"。 "+w+" 。") == "" {
				t.Fatalf("PromotionalWord(%q) found nothing", text+"。 "+w+" 。")
			}
		}
	})
}
