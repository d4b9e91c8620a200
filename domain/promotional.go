package domain

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// promotionalWords are advertising words that IR 85 keeps out of a
// declaration's terms. This is the one list the ledger checks against.
// A Chinese word, or one of digits, is found wherever it stands; a Latin
// word only as a whole word, so that "be stored" holds no "best".
var promotionalWords = []string{
	"最", "第一", "顶级", "国家级", "世界级", "领先", "独一无二", "绝对", "唯一", "极致", "终极", "首选", "100%",
	"best", "greatest", "number one", "top 1", "world-class", "guaranteed",
}

// ordinaryPhrases use 最 or 第一 as contract terms do, for a deadline, a
// limit or an ordinal ("最迟于每年 3 月 31 日前支付", "最低使用费", "第一期许可费",
// "第一条"), claiming nothing; they are taken out of a text before 最 and
// 第一 are looked for (the other words are looked for in the whole text,
// so that "最终极" holds 终极). A limit (最低, 最长) or an ordinal (第一个)
// passes only with what it limits or counts, or with a number
// (limitPattern), so that a claim such as "能耗最低", "续航最长为同类产品两倍"
// or "国内第一个" is still found.
var ordinaryPhrases = []string{
	"最迟", "最晚", "最终", "最后", "最高不超过", "最多不超过", "最长不超过", "最短不少于", "最低不少于",
	"最低使用费", "最低许可费", "最低年使用费", "最低年费", "最低提成", "最低费用", "最低金额", "最低限额", "最低销售额",
	"最长期限", "最短期限",
	"第一条", "第一款", "第一项", "第一章", "第一节", "第一期", "第一次", "第一年", "第一笔",
	"第一个工作日", "第一个付款", "第一个结算", "第一个合同年度", "第一个许可年度", "第一个会计年度", "第一个自然年",
	"第一个日历年", "第一个年度", "第一个季度", "第一个月", "第一个周期",
	"第一季度", "第一阶段", "第一部分", "第一批",
}

// limitPattern is a limit stated with its number: "最长12个月", "最短为 6 个月",
// "最低 1 万元" (the spaces gone).
var limitPattern = regexp.MustCompile(`最[长短多少高低](?:为|不超过|不少于|不得超过|不得少于|不低于|不高于)?[0-9一二三四五六七八九十两半]`)

// ordinalOne is 第1 not followed by another digit (第1条, but not 第10条),
// read as 第一.
var ordinalOne = regexp.MustCompile(`第1([^0-9]|$)`)

// financialOne is the financial numeral 壹, read as 一 (第壹 is 第一): it is
// no traditional character, so SimplifiedForm leaves it alone.
const financialOne = '壹'

// PromotionalWord returns the first advertising word found in text, or "".
// Full-width letters and digits, capitals, and spaces inside a word
// ("１００％", "100 %", "国 家 级", "b e s t") do not hide it.
func PromotionalWord(text string) string {
	folded := foldWidth(text)
	whole := ordinalOne.ReplaceAllString(withoutSpaces(folded), "第一$1")
	compact := limitPattern.ReplaceAllString(whole, "\x00")
	for _, p := range ordinaryPhrases {
		compact = strings.ReplaceAll(compact, p, "\x00")
	}
	words := latinWords(folded)
	for _, w := range promotionalWords {
		var found bool
		switch {
		case isLatinWord(w):
			found = containsPhrase(words, latinWords(w))
		case w[0] >= '0' && w[0] <= '9':
			found = containsNumber(compact, w)
		case w == "最" || w == "第一": // the words the ordinary phrases use
			found = strings.Contains(compact, w)
		default:
			found = strings.Contains(whole, w)
		}
		if found {
			return w
		}
	}
	return ""
}

// foldWidth lower-cases s, folds its full-width forms to ASCII
// (FoldWidth), its traditional characters to simplified ones
// (SimplifiedForm) and 壹 to 一.
func foldWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r == financialOne {
			return '一'
		}
		return unicode.ToLower(FoldWidth(SimplifiedForm(r)))
	}, s)
}

// withoutSpaces drops the white space of s, the ideographic space U+3000
// included.
func withoutSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// isLatinWord reports whether w is written in ASCII letters and digits,
// starting with a letter (with spaces or hyphens between words).
func isLatinWord(w string) bool {
	return w[0] >= 'a' && w[0] <= 'z' &&
		strings.IndexFunc(w, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ' || r == '-') }) < 0
}

// latinWords returns the runs of ASCII letters and digits of the folded
// text s, in order. Letters standing alone with only spaces or hyphens
// between them ("b e s t") are joined into the one word they spell.
func latinWords(s string) []string {
	var words []string
	spelled := false // the last word is a spelled-out one that may go on
	for len(s) > 0 {
		start := strings.IndexFunc(s, isLatinLetterOrDigit)
		if start < 0 {
			break
		}
		gap := s[:start]
		s = s[start:]
		end := strings.IndexFunc(s, func(r rune) bool { return !isLatinLetterOrDigit(r) })
		if end < 0 {
			end = len(s)
		}
		word := s[:end]
		s = s[end:]
		switch {
		case len(word) == 1 && spelled && strings.Trim(gap, " \t\u3000-") == "":
			words[len(words)-1] += word
		default:
			words = append(words, word)
			spelled = len(word) == 1
		}
	}
	return words
}

func isLatinLetterOrDigit(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

// containsPhrase reports whether phrase stands in words as consecutive
// words, or spelled out as one.
func containsPhrase(words, phrase []string) bool {
	joined := strings.Join(phrase, "")
	for i := range words {
		if words[i] == joined {
			return true
		}
		if i+len(phrase) <= len(words) && slices.Equal(words[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// containsNumber reports whether number ("100%") stands in s other than
// as the end of a longer number ("1100%", "0.100%").
func containsNumber(s, number string) bool {
	for at := strings.Index(s, number); at >= 0; {
		if at == 0 || !(s[at-1] >= '0' && s[at-1] <= '9' || s[at-1] == '.') {
			return true
		}
		next := strings.Index(s[at+1:], number)
		if next < 0 {
			return false
		}
		at += 1 + next
	}
	return false
}
