package api

import (
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"

	"github.com/patentledger/ledger/domain"
)

// zhFieldMessages says in Chinese the problems with a field that the
// domain and the API describe in English, by the English format: the
// translation takes the same arguments, by the same verbs in the same
// order (a test checks both that and that every format is here).
var zhFieldMessages = map[string]string{
	"%s is not a normalised IPC prefix such as H01M or H01M 10/05":                "%s 不是规范的 IPC 前缀，例如 H01M 或 H01M 10/05",
	"%s is of kind %s; want %s":                                                   "%s 的类型是 %s；应为 %s",
	"%s is a regulator and cannot be a party":                                     "%s 是监管机构，不能作为当事方",
	"%s is before from %s":                                                        "%s 早于起始日 %s",
	"%s is in the future; record it once it has happened":                         "%s 在未来；请在发生后再记录",
	"%s is in the future; register a patent once it is granted":                   "%s 在未来；请在授权后再登记专利",
	"%s is listed twice":                                                          "%s 重复出现",
	"%s is not a patentee of this patent":                                         "%s 不是该专利的专利权人",
	"%s is not a patentee of a pledged patent":                                    "%s 不是所质押专利的专利权人",
	"only a sole or exclusive licence needs the co-owners' consent; leave it out": "只有排他或独占许可需要其他共有人同意，请勿填写",
	"%v": "%v",
	"IPC code %s is malformed; want subclass, main group, / and subgroup, e.g. H01M 10/0525":                "IPC 分类号 %s 格式有误；应为小类、大组、/ 和小组，例如 H01M 10/0525",
	"IPC code %s: main group must not be 0":                                                                 "IPC 分类号 %s：大组不能为 0",
	"IPC code %s: section must be a letter A–H":                                                             "IPC 分类号 %s：部应为字母 A–H",
	"IPC code is empty; want e.g. H01M 10/0525":                                                             "IPC 分类号为空；例如 H01M 10/0525",
	"IPC prefix %s is malformed; want a section, class, subclass or group, e.g. H, H01, H01M or H01M 10":    "IPC 前缀 %s 格式有误；应为部、大类、小类或大组，例如 H、H01、H01M 或 H01M 10",
	"IPC prefix %s: main group must not be 0":                                                               "IPC 前缀 %s：大组不能为 0",
	"a design needs an IPC code or a Locarno classification":                                                "外观设计需要 IPC 分类号或洛迦诺分类号",
	"amount %s is above the ceiling of %s":                                                                  "金额 %s 超过上限 %s",
	"amount must not be negative, got %s":                                                                   "金额不能为负数，实际为 %s",
	"an open licence ends with its declaration's term; leave ends_on out":                                   "开放许可随声明的许可期限结束；请勿填写结束日",
	"at least one IPC code is required for %s patents":                                                      "%s 专利至少需要一个 IPC 分类号",
	"at least one organisation ID is required":                                                              "至少需要一个机构编号",
	"at least one patent number is required":                                                                "至少需要一个专利号",
	"at most %d patents per pledge":                                                                         "每项质押最多 %d 件专利",
	"contains a control character":                                                                          "含有控制字符",
	"contains %s, a bidirectional control character, which is not allowed":                                  "含有双向控制字符 %s，不允许使用",
	"contains U+FEFF, a byte order mark, which is not text":                                                 "含有字节顺序标记 U+FEFF，它不是文本",
	"could not be read: %s; send it again":                                                                  "无法读取：%s；请重新发送",
	"holds %d parameters (counting empty ones between '&'); a query takes at most %d":                       "含有 %d 个参数（“&”之间的空参数也计入）；查询最多可含 %d 个",
	"credit check character needs exactly 17 characters, got %s":                                            "计算信用代码校验位需要正好 17 个字符，实际为 %s",
	"credit code %s has %d characters; want 18":                                                             "统一社会信用代码 %s 有 %d 个字符；应为 18 个",
	"credit code %s: character %d (%q) is not allowed; use digits and capital letters except I, O, S, V, Z": "统一社会信用代码 %s：第 %d 个字符（%q）不允许；请使用数字和除 I、O、S、V、Z 以外的大写字母",
	"credit code %s: characters 3–8 must be digits (the region code)":                                       "统一社会信用代码 %s：第 3–8 位应为数字（行政区划代码）",
	"credit code %s: check character is %c, not %c":                                                         "统一社会信用代码 %s：校验位应为 %c，而不是 %c",
	"credit code is empty; want 18 characters, e.g. 91350100M000100Y43":                                     "统一社会信用代码为空；应为 18 个字符，例如 91350100M000100Y43",
	"date %s does not exist: %s %d has %d days":                                                             "日期 %[1]s 不存在：%[3]d 年 %[2]d 月只有 %[4]d 天",
	"date %s is not in YYYY-MM-DD form":                                                                     "日期 %s 不是 YYYY-MM-DD 格式",
	"date %s: month %d does not exist":                                                                      "日期 %s：不存在 %d 月",
	"date %s: year %d is outside %d–%d":                                                                     "日期 %s：年份 %d 不在 %d–%d 之间",
	"date is empty; want YYYY-MM-DD":                                                                        "日期为空；应为 YYYY-MM-DD",
	"date must be a JSON string in YYYY-MM-DD form or null, got %s":                                         "日期应为 YYYY-MM-DD 格式的 JSON 字符串或 null，实际为 %s",
	"does not apply to the %s tally":                                                                        "不适用于 %s 统计",
	"event ID %s appears twice in one append":                                                               "事件编号 %s 在一次追加中出现两次",
	"expected version %d is below %d":                                                                       "期望版本 %d 小于 %d",
	"fee mode is required; want free, lump_sum, instalment, royalty or entry_plus_royalty":                  "必须填写付费方式：免费、一次性、分期、提成或入门费加提成",
	"from and to are both required":                                                                         "起始日和截止日都必须填写",
	"give at least one of status, suspended, annual_fee_overdue":                                            "请至少填写状态、中止或年费逾期中的一项",
	"has a field with an empty name":                                                                        "有一个名称为空的字段",
	"holds no letters, digits or Chinese characters to search for":                                          "不含可检索的字母、数字或汉字",
	"has %d different words, Chinese runs and IPC codes; at most %d":                                        "含 %d 个不同的词、汉字串和 IPC 分类号；最多 %d 个",
	"is %d characters long; at most %d allowed":                                                             "长度为 %d 个字符；最多允许 %d 个",
	"is above the ceiling of %s":                                                                            "超过上限 %s",
	"is before effective_on %s":                                                                             "早于生效日 %s",
	"is before filed_on %s":                                                                                 "早于申请日 %s",
	"is before registered_on %s":                                                                            "早于登记日 %s",
	"is empty":                                                                                              "为空",
	"is given more than once; give it once":                                                                 "给出了不止一次；请只给一次",
	"is empty; leave the header out or give a key":                                                          "为空；请不要发送该请求头，或给出一个键",
	"may hold only printable ASCII characters":                                                              "只能包含可打印的 ASCII 字符",
	"is given %d times; give it once":                                                                       "给出了 %d 次；请只给一次",
	"has a malformed %%-escape in %s; write %% itself as %%25":                                              "%%-转义有误（%s）；“%%”本身请写作 %%25",
	"contains ';', which does not separate parameters (use '&'); write ';' itself as %%3B":                  "含有“;”，它不分隔参数（请用“&”）；“;”本身请写作 %%3B",
	"is longer than %d characters":                                                                          "超过 %d 个字符",
	"is not a cursor of this listing order; start again without it":                                         "不是此排序方式的翻页标记；请去掉后重新开始",
	"is not a parameter of this route; it takes %s":                                                         "不是该地址的参数；可用参数为 %s",
	"is not used by fee mode %s; leave it out":                                                              "付费方式为%s时不使用此项，请勿填写",
	"is not valid UTF-8":                                                                                    "不是有效的 UTF-8 文本",
	"is not valid UTF-8 text (invalid bytes or a lone surrogate escape like \\ud800)":                       "不是有效的 UTF-8 文本（含无效字节或单独的代理项转义，如 \\ud800）",
	"is required":                     "必须填写",
	"is required (YYYY-MM-DD)":        "必须填写（YYYY-MM-DD）",
	"is required (one of %s)":         "必须填写（可选值：%s）",
	"is required for an open licence": "开放许可必须填写",
	"is required for fee mode %s and must be 1–10000 bp; for no royalty at all, declare fee mode free": "付费方式为%s时本项必须填写，且须为 1–10000 基点；完全不收提成费请声明付费方式“免费”",
	"is required for fee mode %s (net_sales or profit)":                                                "付费方式为%s时本项必须填写（净销售额或利润）",
	"is required for fee mode %s and must be greater than 0":                                           "付费方式为%s时本项必须填写且大于 0",
	"is required, like 2024": "必须填写，例如 2024",
	"is the pledgor":         "与出质人相同",
	"malformed binary date":  "二进制日期格式有误",
	"must be 1 to 6 digits, the start of a region code such as 4401 or 440106":          "应为 1–6 位数字，即行政区划代码的开头，例如 4401 或 440106",
	"must be 1–32 letters, digits, '-' or '_', like 2024":                               "应为 1–32 个字母、数字、“-”或“_”，例如 2024",
	"must be 2 (province), 4 (city) or 6 (district)":                                    "应为 2（省）、4（地市）或 6（区县）",
	"must be a JSON object%s":                                                           "应为 JSON 对象%s",
	"must be a Locarno class (01–32 or 99) and subclass like 14-03":                     "应为洛迦诺分类的大类（01–32 或 99）和小类，例如 14-03",
	"must be a whole number":                                                            "应为整数",
	"%s is a percentage; type it in basis points: %d":                                   "%s 是百分比；请填写基点数：%d",
	"nests objects and lists %d deep; a write body nests them at most %d deep":          "对象和列表嵌套 %d 层；写入请求体最多嵌套 %d 层",
	"is not an amount in yuan such as 50000 or 50,000.50":                               "不是以元计的金额，例如 50000 或 50,000.50",
	"has more than two decimals; the smallest amount is one fen (0.01 yuan)":            "小数超过两位；最小金额为一分（0.01 元）",
	"amount is above the ceiling of %s":                                                 "金额超过上限 %s",
	"must be an integer from %d to %d":                                                  "应为 %d 到 %d 之间的整数",
	"must be an integer from 1 to %d":                                                   "应为 1 到 %d 之间的整数",
	"must be at least 2 for fee mode %s, got %d":                                        "付费方式为%s时期数至少为 2，实际为 %d",
	"is missing or 0: fee mode %s needs at least 2":                                     "缺失或为 0：付费方式为%s时期数至少为 2",
	"must be at most %d, got %d":                                                        "最多为 %d，实际为 %d",
	"must be between 1 and %d":                                                          "应在 1 到 %d 之间",
	"is missing or 0: want the licence term in months, 1 to %d":                         "缺失或为 0：请填写许可期限（月），1 到 %d",
	"must be from 1 to %d":                                                              "应为 1 到 %d",
	"must be month, quarter or year":                                                    "应为月、季度或年",
	"must be positive":                                                                  "应大于 0",
	"must be true or false":                                                             "应为 true 或 false",
	"must be one line: it contains a line break":                                        "必须为单行：其中含有换行符",
	"must be one line: it contains a tab":                                               "必须为单行：其中含有制表符",
	"must be valid UTF-8 without NUL bytes":                                             "应为有效的 UTF-8 文本且不含 NUL 字节",
	"must be within 1–10000 bp (0.01%%–100%%), got %d":                                  "应在 1–10000 基点（0.01%%–100%%）之间，实际为 %d",
	"must not be empty":                                                                 "不能为空",
	"must not be negative":                                                              "不能为负数",
	"must not be negative, got %d":                                                      "不能为负数，实际为 %d",
	"no events":                                                                         "没有事件",
	"no events to append":                                                               "没有可追加的事件",
	"no licence %s":                                                                     "没有许可 %s",
	"no organisation %s":                                                                "没有机构 %s",
	"no organisation with an empty ID":                                                  "没有编号为空的机构",
	"no patent %s":                                                                      "没有专利 %s",
	"no pledge %s":                                                                      "没有质押 %s",
	"no such %s %s":                                                                     "%s 为 %s 的对象不存在",
	"no such organisation":                                                              "没有该机构",
	"only an enterprise can be an SME":                                                  "只有企业才能是中小企业",
	"only an open licence is taken under a declaration":                                 "只有开放许可依据声明取得",
	"only design patents have a Locarno classification":                                 "只有外观设计专利有洛迦诺分类号",
	"organisation %s has no key %s":                                                     "机构 %s 没有密钥 %s",
	"key %s of organisation %s is revoked already":                                      "机构 %[2]s 的密钥 %[1]s 已被吊销",
	"patent %s has no declaration %s":                                                   "专利 %s 没有声明 %s",
	"patent %s has no review in campaign %s":                                            "专利 %s 在评估批次 %s 中没有评估",
	"patent check character needs exactly 12 digits, got %s":                            "计算专利号校验位需要正好 12 位数字，实际为 %s",
	"patent number %s has no check character; give all 13 characters, e.g. %s":          "专利号 %s 没有校验位；请给出全部 13 位，例如 %s",
	"patent number %s is malformed; want ZL + 12 digits + . + check character, e.g. %s": "专利号 %s 格式有误；应为 ZL + 12 位数字 + . + 校验位，例如 %s",
	"patent number %s: 5th digit %c is no patent type (1/8 invention, 2/9 utility model, 3 design)": "专利号 %s：第 5 位 %c 不是专利类型（1/8 发明，2/9 实用新型，3 外观设计）",
	"patent number %s: check character is %c, not %c":                                               "专利号 %s：校验位应为 %c，而不是 %c",
	"patent number %s: check character must be a digit or X":                                        "专利号 %s：校验位应为数字或 X",
	"patent number %s: year %d is outside %d–%d":                                                    "专利号 %s：年份 %d 不在 %d–%d 之间",
	"patent number is empty; want e.g. %s":                                                          "专利号为空；例如 %s",
	"region code %s must be exactly 6 digits, e.g. 440106":                                          "行政区划代码 %s 应为正好 6 位数字，例如 440106",
	"region code %s: city part 00 is allowed only in a province code (xx0000)":                      "行政区划代码 %s：市级部分为 00 仅用于省级代码（xx0000）",
	"region code %s: province %s does not exist":                                                    "行政区划代码 %s：省份 %s 不存在",
	"relevance needs a search text in q":                                                            "按相关度排序需要在 q 中填写检索词",
	"stream %q appears twice in one append":                                                         "事件流 %q 在一次追加中出现两次",
	"the %s tally has %s buckets only; want period=%s":                                              "%s 统计只有按 %s 的分组；请使用 period=%s",
	"the body names campaign %s, the path %s":                                                       "请求内容中的评估批次为 %s，地址中为 %s",
	"the multipart form has no field named file":                                                    "表单中没有名为 file 的字段",
	"is given more than once in the form; send one file per import":                                 "在表单中给出了不止一次；每次导入请只发送一个文件",
	"the range from %s to %s has more than %d %s buckets; choose a longer period":                   "从 %s 到 %s 的范围超过 %d 个 %s 分组；请选择更长的统计周期",
	"unknown fee mode %s; want free, lump_sum, instalment, royalty or entry_plus_royalty":           "未知的付费方式 %s；应为免费、一次性、分期、提成或入门费加提成",
	"unknown field": "未知字段",
	"unknown metric %s; want licenses, fees_fen, declared or conversion_bp": "未知的排名指标 %s；应为 licenses、fees_fen、declared 或 conversion_bp",
	"unknown order %s; want patentee_id or share":                           "未知的排序方式 %s；应为 patentee_id 或 share",
	"unknown order %s; want relevance, newest or fee":                       "未知的排序方式 %s；应为 relevance、newest 或 fee",
	"unknown patent kind %s; want invention, utility_model or design":       "未知的专利类型 %s；应为发明、实用新型或外观设计",
	"unknown period %s; want day, week, month, quarter or year":             "未知的统计周期 %s；应为 day、week、month、quarter 或 year",
	"unknown royalty base %s; want net_sales or profit":                     "未知的提成基数 %s；应为净销售额或利润",
	"unknown tally %s":                "未知的统计 %s",
	"unknown value %s (one of %s)":    "未知的值 %s（可选值：%s）",
	"want data or report":             "应为 data 或 report",
	"want district, city or province": "应为区县、地市或省",
	"want json, csv or xlsx":          "应为 json、csv 或 xlsx",
	"year %d does not match the application year %s in the patent number": "年份 %d 与专利号中的申请年份 %s 不符",
	"multiplied by instalment_fen is above the ceiling of %s":             "乘以每期金额后超过上限 %s",
}

// enFieldMessages say on an English page, by the English format, the
// field problems whose format names an API field where the form has
// another.
var enFieldMessages = map[string]string{
	"multiplied by instalment_fen is above the ceiling of %s": "multiplied by the instalment is above the ceiling of %s",
	"is required for fee mode %s and must be 1–10000 bp; for no royalty at all, declare fee mode free": "is required for fee mode %s " +
		"and must be 1–10000 bp; for no royalty at all, declare the fee mode Free",
	"is required for fee mode %s (net_sales or profit)":                                   "is required for fee mode %s (net sales or profit)",
	"unknown fee mode %s; want free, lump_sum, instalment, royalty or entry_plus_royalty": "unknown fee mode %s; want Free, Lump sum, Instalments, Royalty or Entry fee plus royalty",
}

// yuanArg is an amount in fen that a message prints in yuan, by any verb.
type yuanArg domain.Fen

// Format writes the amount in yuan to the fen (¥50,000.00).
func (y yuanArg) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, domain.Fen(y).String()) }

// yuanArgs returns args with every amount in fen printed in yuan.
func yuanArgs(args []any) []any {
	out := slices.Clone(args)
	for i, arg := range out {
		if fen, ok := arg.(domain.Fen); ok {
			out[i] = yuanArg(fen)
		}
	}
	return out
}

// fieldLabels name, by the catalogue entry of their label, the fields of
// the web forms, so that a problem names the field as the form does.
var fieldLabels = map[string]string{
	"fee.mode": "form.mode", "mode": "form.mode",
	"fee.lump_sum_fen": "form.lump_sum", "lump_sum_yuan": "form.lump_sum",
	"fee.instalment_fen": "form.instalment", "instalment_yuan": "form.instalment",
	"fee.instalments": "form.instalments", "instalments": "form.instalments",
	"fee.entry_fee_fen": "form.entry_fee", "entry_fee_yuan": "form.entry_fee",
	"fee.royalty_bp": "form.royalty_bp", "royalty_bp": "form.royalty_bp",
	"fee.royalty_base": "form.royalty_base", "royalty_base": "form.royalty_base",
	"term_months": "form.term_months", "declared_on": "form.declared_on",
	"evaluation_report_ref": "form.report_ref", "other_terms": "form.other_terms",
	"effective_on": "form.effective_on", "reason": "form.reason", "co_owner_consent": "form.co_owner_consent",
	// The search form's and the dashboard's fields.
	"q": "search.q", "ipc": "patent.ipc", "kind": "patent.kind", "region": "search.region", "fee_mode": "form.mode",
	"sort": "search.sort", "max_fee_yuan": "search.max_fee", "patentee_id": "patent.patentees",
	"period": "dash.period", "from": "dash.from", "to": "dash.to", "campaign": "dash.campaign",
	// The pages' addresses, links and other fields.
	"number": "patent.number", "history_after": "field.history_after", "cursor": "field.cursor", "limit": "field.limit", "page": "field.page",
	"declaration_id": "field.declaration_id", "key": "signin.key", "body": "field.body",
}

// enumLabels name, by the prefix of their catalogue entries, the domain's
// enum types whose values a field message may quote: the page shows each
// value as its forms label it.
var enumLabels = map[reflect.Type]string{
	reflect.TypeFor[domain.FeeMode]():     "mode.",
	reflect.TypeFor[domain.RoyaltyBase](): "base.",
	reflect.TypeFor[domain.PatentKind]():  "kind.",
}

// labelEnums returns args with every value of an enum type of enumLabels
// replaced by its label, when the catalogue has one. Text a client typed
// reaches a message as a plain string and stays as it was typed.
func labelEnums(args []any, t func(string) string) []any {
	out := slices.Clone(args)
	for i, arg := range out {
		prefix, ok := enumLabels[reflect.TypeOf(arg)]
		if !ok {
			continue
		}
		key := prefix + reflect.ValueOf(arg).String()
		if label := t(key); label != key {
			out[i] = label
		}
	}
	return out
}

// listField matches the index that names an item of a list field
// ("co_owner_consent[0]"), which the form labels as the whole field.
var listField = regexp.MustCompile(`\[\d+\]$`)

// fieldProblemLine says a field's problem in the page's language: the
// field as its form labels it (else its name), then its message (see
// fieldMessage).
func fieldProblemLine(f domain.FieldError, lang string, t func(string) string, names orgNames) string {
	field := f.Field
	if key, ok := fieldLabels[listField.ReplaceAllString(field, "")]; ok {
		field = t(key)
	}
	msg := fieldMessage(f, lang, t, names)
	if field == "" {
		return msg
	}
	return field + t("punct.colon") + msg
}

// fieldMessage says what is wrong with a field in the page's language: in
// Chinese when the catalogue knows its format, each organisation it names
// by ID named by names (see nameOrgs).
func fieldMessage(f domain.FieldError, lang string, t func(string) string, names orgNames) string {
	format, args := f.Template()
	if format == "" {
		return f.Message
	}
	// Formatted from its template, in either language: the fee terms'
	// messages start with the API's field name, which the label says
	// already, and an amount reads in yuan, as the forms take it.
	if lang == langZH {
		format = zhFieldMessages[format]
	} else if en, ok := enFieldMessages[format]; ok {
		format = en
	}
	if format == "" {
		return f.Message
	}
	return fmt.Sprintf(format, yuanArgs(labelEnums(nameOrgs(args, names), t))...)
}
