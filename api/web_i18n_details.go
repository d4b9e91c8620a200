package api

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// zhDetails says in Chinese the details of rule violations and refusals
// that the domain and the API give in English (a problem's detail, which
// has no field), by the English format (domain.Error.Template). The
// Chinese is formatted with the error's arguments, in order (or %[n]s to
// reorder them), by verbs that print them as the English ones do; a test
// checks that every format of the rules the web forms meet is here.
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
	"other_terms contains the advertising word %q":                               "其他条件中含有宣传用语 %q",
	// Withdrawals (domain/declaration.go).
	"effective_on %s is before the declaration on %s":                                            "撤回生效日 %s 早于声明日 %s",
	"declaration %s was already withdrawn effective %s":                                          "声明 %s 已经撤回，撤回生效日为 %s",
	"declaration %s ended with its term on %s":                                                   "声明 %s 已于 %s 随许可期限届满而终止",
	"effective_on %s is not after open licence %s, which took effect on %s under declaration %s": "撤回生效日 %[1]s 不晚于依据声明 %[4]s 取得的开放许可 %[2]s 的生效日 %[3]s",
	"co-owner %s has not consented":                                                              "共有人 %s 未同意",
	"%s %s is before %s became a patentee of %s on %s":                                           "%[1]s %[2]s 早于 %[3]s 成为专利 %[4]s 的专利权人之日 %[5]s",
	"a write sent by a page of another site is refused (cross-site request forgery)":             "来自其他网站页面的提交已被拒绝（跨站请求伪造）",
	"only a patentee of %s may do this":                                                          "只有专利 %s 的专利权人才能办理",
	"only a patentee of %s may do this; transfer %s made %s its patentee from %s":                "只有专利 %s 的专利权人才能办理；转让 %s 使 %s 自 %s 起成为其专利权人",
	"unknown acting organisation %q":                                                             "办理机构 %q 不存在",
	"regulators read the ledger and write nothing":                                               "监管部门只能查阅登记簿，不能登记",
	"only the admin may register organisations":                                                  "只有管理员才能登记机构",
	"credit code %s is registered to organisation %s":                                            "统一社会信用代码 %s 已登记于机构 %s",
	"only the admin may issue keys":                                                              "只有管理员才能签发密钥",
	"an organisation may revoke only its own keys":                                               "机构只能撤销自己的密钥",
	"the form has expired":                                                                       "表单已过期",
	"csrf":                                                                                       "表单已过期",
	"read models are not running":                                                                "读取模型未运行",
}

// detailValue finds, in a detail without a translation, the values it
// names: quoted text, patent numbers and dates.
var detailValue = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|ZL\d{12}\.[0-9X]|\d{4}-\d{2}-\d{2}`)

// detailLine says the detail of err, a problem's, in the page's language,
// each organisation it names by ID named by names (see nameOrgs): as it is
// on an English page; in Chinese when zhDetails knows the format it was
// made from (or, made from none, the detail itself), its values named as
// the forms name them; otherwise the values it names, so that a Chinese
// page shows no English sentence; "" when it names none.
func detailLine(err error, detail, lang string, t func(string) string, names orgNames) string {
	var de *domain.Error
	format, args := "", []any(nil)
	if errors.As(err, &de) {
		format, args = de.Template()
	}
	if lang != langZH {
		if format != "" {
			detail = fmt.Sprintf(format, nameOrgs(args, names)...)
		}
		return sentence(labelFieldNames(detail, t))
	}
	if zh, ok := zhDetails[format]; ok {
		return fmt.Sprintf(zh, labelArgs(nameOrgs(args, names), t)...)
	}
	if zh, ok := zhDetails[detail]; ok && !strings.Contains(detail, "%") {
		return zh
	}
	if values := detailValue.FindAllString(detail, -1); len(values) > 0 {
		return t("detail.values") + strings.Join(values, t("punct.list"))
	}
	return ""
}

// sentence returns an English detail as a sentence of its own, after the
// problem's title on a page: its first letter in capitals.
func sentence(detail string) string {
	if detail != "" && detail[0] >= 'a' && detail[0] <= 'z' {
		return strings.ToUpper(detail[:1]) + detail[1:]
	}
	return detail
}

// apiFieldName is a field's name as the API writes it in a detail
// ("effective_on", "fee.royalty_bp"): words joined by '_' or '.'.
var apiFieldName = regexp.MustCompile(`\b[a-z]+(?:[_.][a-z]+)+\b`)

// labelFieldNames returns an English detail with every form field the API
// names in it ("effective_on 2024-11-01 is not after …") named by its
// label on the page ("Effective date 2024-11-01 …").
func labelFieldNames(detail string, t func(string) string) string {
	return apiFieldName.ReplaceAllStringFunc(detail, func(name string) string {
		if key, ok := fieldLabels[name]; ok {
			return t(key)
		}
		return name
	})
}

// detailEnums are the catalogue prefixes of the values a detail may
// quote as the API names them: a patent's kind or status, a licence type.
var detailEnums = []string{"kind.", "status.", "license."}

// labelArgs returns the arguments of a detail as the page names them: an
// enum value by its label (labelEnums), and a text that is a form field's
// name, an enum value of detailEnums or a phrase of detailPhrases by its
// label; any other argument as it is.
func labelArgs(args []any, t func(string) string) []any {
	out := labelEnums(args, t)
	for i, arg := range out {
		if v := reflect.ValueOf(arg); v.Kind() == reflect.String {
			if label := labelText(v.String(), t); label != v.String() {
				out[i] = label
			}
		}
	}
	return out
}

// detailPhrases are the catalogue entries of the English phrases a
// detail may hold in place of an enum value: the domain says a patent's
// status before its grant, which has no value, "not yet granted".
var detailPhrases = map[string]string{"not yet granted": "status."}

// labelText returns text as the page names it: a form field by its label,
// an enum value of detailEnums or a phrase of detailPhrases by its label,
// anything else as it is.
func labelText(text string, t func(string) string) string {
	if key, ok := fieldLabels[text]; ok {
		return t(key)
	}
	if key, ok := detailPhrases[text]; ok {
		return t(key)
	}
	for _, prefix := range detailEnums {
		if label := t(prefix + text); label != prefix+text {
			return label
		}
	}
	return text
}

// orgID matches an organisation's ID, as the ledger writes it.
var orgID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// nameOrgs returns args with every text that is an organisation's ID, or
// one quoted (domain.Quote), replaced by the organisation's name, quoted
// alike, when names knows it: a co-owner that has not consented is named
// as the form lists it, not by an ID its reader cannot place.
func nameOrgs(args []any, names orgNames) []any {
	out := slices.Clone(args)
	if names == nil {
		return out
	}
	for i, arg := range out {
		text, ok := arg.(string)
		if !ok {
			continue
		}
		id, err := strconv.Unquote(text)
		quoted := err == nil
		if !quoted {
			id = text
		}
		if !orgID.MatchString(id) {
			continue
		}
		if name, ok := names(id); ok {
			out[i] = name
			if quoted {
				out[i] = domain.Quote(name)
			}
		}
	}
	return out
}
