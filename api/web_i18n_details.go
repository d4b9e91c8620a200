package api

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// zhDetails says in Chinese the details of rule violations and refusals
// that the domain and the API give in English (a problem's detail, which
// has no field), by the English format. A detail is matched against the
// format, each verb taking any text, and the Chinese is formatted with
// the texts matched, in order, each by %s (or %[n]s to reorder them); a
// test checks that every format of the rules the web forms meet is here.
var zhDetails = map[string]string{
	// The register facts that refuse a declaration (domain/declaration.go).
	"patent %s is %s on %s":                "专利 %[1]s 在 %[3]s 的法律状态为：%[2]s",
	"an annual fee of %s is overdue on %s": "专利 %s 的年费在 %s 逾期未缴",
	"patent %s is suspended on %s":         "专利 %s 在 %s 处于中止状态",
	"%s licence %s is in force from %s to %s, within the declared term %s to %s": "%s %s 自 %s 至 %s 有效，在声明的许可期限 %s 至 %s 之内",
	"pledge %s is active and its pledgee has not consented":                      "质押 %s 尚未注销，质权人未同意开放许可",
	"a %s needs a patent evaluation report reference (PL 50)":                    "%s须提供专利权评价报告编号（专利法第五十条）",
	"declaration %s is in effect from %s":                                        "声明 %s 自 %s 起有效",
	"the term ends on %s, after the patent expires on %s":                        "许可期限于 %s 届满，晚于专利权届满日 %s",
	"other_terms contains the advertising word %q":                               "其他条件中含有宣传用语 %s",
	// Withdrawals (domain/declaration.go).
	"effective_on %s is before the declaration on %s":                                            "撤回生效日 %s 早于声明日 %s",
	"declaration %s was already withdrawn effective %s":                                          "声明 %s 已经撤回，撤回生效日为 %s",
	"declaration %s ended with its term on %s":                                                   "声明 %s 已于 %s 随许可期限届满而终止",
	"effective_on %s is not after open licence %s, which took effect on %s under declaration %s": "撤回生效日 %[1]s 不晚于依据声明 %[4]s 取得的开放许可 %[2]s 的生效日 %[3]s",
	"co-owner %s has not consented":                                                              "共有人 %s 未同意",
	"%s %s is before %s became a patentee of %s on %s":                                           "%[1]s %[2]s 早于 %[3]s 成为专利 %[4]s 的专利权人之日 %[5]s",
	"only a patentee of %s may do this":                                                          "只有专利 %s 的专利权人才能办理",
	"unknown acting organisation %q":                                                             "办理机构 %s 不存在",
	"regulators read the ledger and write nothing":                                               "监管部门只能查阅登记簿，不能登记",
	"only the admin may register organisations":                                                  "只有管理员才能登记机构",
	"credit code %s is registered to organisation %s":                                            "统一社会信用代码 %s 已登记于机构 %s",
	"only the admin may issue keys":                                                              "只有管理员才能签发密钥",
	"an organisation may revoke only its own keys":                                               "机构只能撤销自己的密钥",
	"the form has expired":                                                                       "表单已过期",
	"csrf":                                                                                       "表单已过期",
	"read models are not running":                                                                "读取模型未运行",
}

// detailPatterns are the formats of zhDetails as regular expressions,
// built on first use.
var detailPatterns = sync.OnceValue(func() map[string]*regexp.Regexp {
	out := make(map[string]*regexp.Regexp, len(zhDetails))
	for format := range zhDetails {
		out[format] = formatPattern(format)
	}
	return out
})

// formatVerb matches a verb of a format that takes an argument, and %%.
var formatVerb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// formatPattern returns the regular expression that matches what format
// makes of any arguments, each argument a group.
func formatPattern(format string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range formatVerb.FindAllStringIndex(format, -1) {
		b.WriteString(regexp.QuoteMeta(format[last:loc[0]]))
		if format[loc[0]:loc[1]] == "%%" {
			b.WriteString("%")
		} else {
			b.WriteString("(.+?)")
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(format[last:]) + "$")
	return regexp.MustCompile(b.String())
}

// detailValue finds, in a detail without a translation, the values it
// names: quoted text, patent numbers and dates.
var detailValue = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|ZL\d{12}\.[0-9X]|\d{4}-\d{2}-\d{2}`)

// detailLine says a problem's detail in the page's language: as it is on
// an English page; in Chinese when zhDetails knows its format, the texts
// it quotes named as the forms name them; otherwise the values it names,
// so that a Chinese page shows no English sentence; "" when it names none.
func detailLine(detail, lang string, t func(string) string) string {
	if lang != langZH {
		return detail
	}
	best, match := "", []string(nil)
	for format, re := range detailPatterns() {
		// Of the formats that match, the one with the most text of its own
		// ("patent %s is suspended on %s" before "patent %s is %s on %s").
		if m := re.FindStringSubmatch(detail); m != nil && (len(format) > len(best) || len(format) == len(best) && format < best) {
			best, match = format, m
		}
	}
	if match != nil {
		args := make([]any, len(match)-1)
		for i, text := range match[1:] {
			args[i] = labelText(text, t)
		}
		return fmt.Sprintf(zhDetails[best], args...)
	}
	if values := detailValue.FindAllString(detail, -1); len(values) > 0 {
		return t("detail.values") + strings.Join(values, t("punct.list"))
	}
	return ""
}

// detailEnums are the catalogue prefixes of the values a detail may
// quote as the API names them: a patent's kind or status, a licence type.
var detailEnums = []string{"kind.", "status.", "license."}

// labelText returns text as the page names it: a form field by its label,
// an enum value of detailEnums by its label, anything else as it is.
func labelText(text string, t func(string) string) string {
	if key, ok := fieldLabels[text]; ok {
		return t(key)
	}
	for _, prefix := range detailEnums {
		if label := t(prefix + text); label != prefix+text {
			return label
		}
	}
	return text
}
