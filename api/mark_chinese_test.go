package api

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// chineseSpan is a run markChinese marked.
var chineseSpan = regexp.MustCompile(`<span lang="zh-CN">([^<]*)</span>`)

// checkMarked checks markChinese's answer for line on an English page: it
// holds no markup but its marks, none of them empty; with the marks taken
// out and the text unescaped it is line again; and no Han character is left
// outside a mark.
func checkMarked(t *testing.T, line string) {
	t.Helper()
	out := string(markChinese(line, "en"))
	for _, m := range chineseSpan.FindAllStringSubmatch(out, -1) {
		if m[1] == "" {
			t.Errorf("markChinese(%q) = %s: an empty mark", line, out)
		}
	}
	unmarked := chineseSpan.ReplaceAllString(out, "$1")
	if strings.ContainsAny(unmarked, "<>") {
		t.Errorf("markChinese(%q) = %s: markup besides the marks", line, out)
	}
	if got := html.UnescapeString(unmarked); got != strings.ReplaceAll(line, "\x00", "\ufffd") { // as html/template writes NUL
		t.Errorf("markChinese(%q) = %s: the text is %q", line, out, got)
	}
	outside := html.UnescapeString(chineseSpan.ReplaceAllString(out, ""))
	if strings.ContainsFunc(outside, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Errorf("markChinese(%q) = %s: %q is left outside the marks", line, out, outside)
	}
}

// TestMarkChinese: on an English page the Chinese in a problem's line (an
// organisation's name) is marked as Chinese, with the punctuation that
// belongs to it; the rest is escaped text; a Chinese page marks nothing.
func TestMarkChinese(t *testing.T) {
	for line, want := range map[string]string{
		"Co-owner 广州穗芯微电子科技有限公司 has not consented":        `Co-owner <span lang="zh-CN">广州穗芯微电子科技有限公司</span> has not consented`,
		`no organisation is named "广州市市场监督管理局（广州市知识产权局）"`: `no organisation is named &#34;<span lang="zh-CN">广州市市场监督管理局（广州市知识产权局）</span>&#34;`,
		"<b>华南</b> & 中山":            `&lt;b&gt;<span lang="zh-CN">华南</span>&lt;/b&gt; &amp; <span lang="zh-CN">中山</span>`,
		"term_months: 0 is missing": "term_months: 0 is missing",
		"（not Chinese）":             "（not Chinese）",
	} {
		if got := string(markChinese(line, "en")); got != want {
			t.Errorf("markChinese(%q, en) = %s, want %s", line, got, want)
		}
		checkMarked(t, line)
	}
	if got := string(markChinese("共有人 广州穗芯 <未同意>", "zh-CN")); got != "共有人 广州穗芯 &lt;未同意&gt;" {
		t.Errorf("on a Chinese page: %s", got)
	}
}

// FuzzMarkChinese: whatever a line holds, the marks keep its text and
// leave no Han character outside them.
func FuzzMarkChinese(f *testing.F) {
	for _, seed := range []string{"Co-owner 广州穗芯 has not consented", "（华南）、中山。", "<span lang=\"zh-CN\">x</span>", "a\u3000b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if !utf8.ValidString(line) {
			return
		}
		checkMarked(t, line)
	})
}
