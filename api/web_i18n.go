package api

import (
	"slices"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"
)

// A language of the web pages; Chinese is the default.
const (
	langZH = "zh"
	langEN = "en"
)

// messages is the one catalogue per language of every text the pages show.
var messages = map[string]map[string]string{
	langZH: {
		"site.title":                 "专利开放许可登记簿",
		"nav.search":                 "检索开放许可",
		"nav.dashboard":              "统计看板",
		"nav.signin":                 "登录",
		"nav.signout":                "退出",
		"nav.me":                     "我的机构",
		"lang.switch":                "English",
		"punct.colon":                "：",
		"punct.list":                 "；",
		"patent.number":              "专利号",
		"patent.kind":                "类型",
		"patent.title":               "名称",
		"patent.abstract":            "摘要",
		"patent.ipc":                 "IPC分类号",
		"patent.locarno":             "洛迦诺分类号",
		"patent.patentees":           "专利权人",
		"patent.filed":               "申请日",
		"patent.granted":             "授权公告日",
		"patent.expires":             "届满日",
		"patent.status":              "法律状态",
		"patent.suspended":           "中止",
		"patent.fee_overdue":         "年费逾期未缴",
		"patent.declare_suspended":   "该专利今日处于中止状态，中止期间不能声明开放许可（规则代码 patent_suspended）。",
		"patent.declare_inactive":    "该专利的法律状态为“%s”，专利权不再有效，不能声明开放许可（规则代码 patent_not_active）。",
		"patent.declare_fee_overdue": "该专利今日有逾期未缴的年费，缴纳前不能声明开放许可（规则代码 annual_fee_unpaid）。",
		"patent.declare_pledged":     "该专利今日已质押且质权人未同意开放许可，在其同意或质押注销前不能声明开放许可（规则代码 pledged_without_consent）。",
		"patent.declare_exclusive":   "该专利今日有有效的独占许可（至 %s）；开放许可声明的期限不能与之重叠，须待其终止后才能声明开放许可（规则代码 exclusive_license_in_force）。",
		"patent.declare_sole":        "该专利今日有有效的排他许可（至 %s）；开放许可声明的期限不能与之重叠，须待其终止后才能声明开放许可（规则代码 exclusive_license_in_force）。",
		"patent.withdrawn_on":        "撤回生效",
		"patent.declaration":         "开放许可声明",
		"patent.no_decl":             "该专利目前没有有效的开放许可声明。",
		"patent.upcoming":            "该专利的开放许可声明已提交，尚未生效；生效日：",
		"patent.fee_reductions":      "年费减免",
		"patent.fee_reductions_note": "开放许可声明有效期间（专利处于有效状态的日子）年费减缴 15%（专利法第五十一条）。下表按年列出这些天数及相应减缴额占该年年费的比例；尚未到来的期限也计算在内。",
		"reduction.year":             "年度",
		"reduction.days":             "声明有效天数",
		"reduction.share":            "减缴额占年费",
		"patent.fee":                 "许可使用费",
		"patent.term":                "许可期限",
		"patent.months":              "个月",
		"patent.month":               "个月",
		"patent.ended":               "此前的开放许可声明（已撤回或期满）",
		"patent.withdrawal_reason":   "撤回理由",
		"patent.declared_on":         "声明日",
		"patent.term_ends":           "期限届满",
		"patent.howto":               "如何获得许可",
		"patent.howto_text":          "以书面方式通知专利权人并按公告的标准支付许可使用费，即获得许可。通过接口办理：",
		"patent.licenses":            "已达成的许可",
		"patent.no_licenses":         "尚无许可。",
		"patent.licenses_cut":        "下表列出最近达成的 %d 项（共 %d 项）；全部许可见 GET /v1/patents/%s。",
		"patent.pledges":             "质押",
		"patent.no_pledges":          "无质押。",
		"patent.reviews":             "存量专利盘活评价",
		"patent.no_reviews":          "尚无评价。",
		"patent.history":             "事件记录（北京时间）",
		"patent.history_from":        "本页起始版本：",
		"patent.history_first":       "回到第一页",
		"patent.history_next":        "更多事件 →",
		"license.type":               "许可类型",
		"license.licensee":           "被许可人",
		"license.effective":          "生效日",
		"license.ends":               "终止日",
		"license.fee":                "许可时付费",
		"license.royalties":          "已付提成",
		"license.recorded":           "备案",
		"pledge.pledgee":             "质权人",
		"pledge.amount":              "担保金额",
		"pledge.registered":          "登记日",
		"pledge.released":            "注销日",
		"pledge.consent":             "质权人同意开放许可",
		"pledge.consented":           "已同意",
		"pledge.not_consented":       "未同意",
		"review.campaign":            "批次",
		"review.grade":               "评级",
		"review.disposition":         "处置方式",
		"signin.title":               "机构登录",
		"signin.key":                 "API 密钥",
		"signin.submit":              "登录",
		"signin.help":                "输入管理员为贵机构签发的密钥。密钥只保存在本浏览器的会话 Cookie 中：登录最长保持 %d 小时，关闭浏览器或退出登录即结束。",
		"signin.bad":                 "密钥无效。",
		"signin.admin":               "管理员密钥不能登录网页，它只用于 API；请使用管理员为机构签发的密钥。",
		"signin.resume":              "会话已结束，表单尚未提交。请重新登录：您填写的内容会在 30 分钟内保留在该专利页面的表单中。",
		"signin.ended":               "会话已结束，表单尚未提交，填写的内容也未能保留。请重新登录后再次填写。",
		"form.draft_restored":        "已恢复会话结束前填写的内容；请核对后提交。",
		"form.declare":               "发布开放许可声明",
		"form.mode":                  "付费方式",
		"form.lump_sum":              "一次性金额（元）",
		"form.instalment":            "每期金额（元）",
		"form.instalments":           "期数",
		"form.entry_fee":             "入门费（元）",
		"form.royalty_bp":            "提成比例（基点，1% = 100）",
		"form.royalty_base":          "提成基数",
		"form.term_months":           "许可期限（月）",
		"form.declared_on":           "声明日",
		"form.report_ref":            "专利权评价报告编号",
		"form.other_terms":           "其他条件",
		"form.co_owner_consent":      "共有人同意（勾选已书面同意的每位共有人）",
		"form.submit_declare":        "发布声明",
		"form.withdraw":              "撤回声明",
		"form.effective_on":          "生效日",
		"form.reason":                "撤回理由",
		"form.submit_withdraw":       "撤回",
		"form.saved":                 "已记录，账本位置",
		"form.resent":                "该表单此前已提交并记录，内容与这次不同；这次未记录。本页显示登记簿的现状。",
		"error.title":                "出错了",
		"detail.values":              "涉及：",
		"title.error":                "错误：",
		"chart.desc":                 "%s，%s，%s 至 %s，合计 %d。",
		"field.history_after":        "事件记录起始版本",
		"field.cursor":               "翻页标记",
		"field.limit":                "每页条数",
		"field.page":                 "页码",
		"field.declaration_id":       "声明编号",
		"field.body":                 "表单内容",
		"error.not_found":            "未找到该专利。",
		"me.title":                   "我的机构",
		"mode.free":                  "免费",
		"mode.lump_sum":              "一次性支付",
		"mode.instalment":            "分期支付",
		"mode.royalty":               "提成支付",
		"mode.entry_plus_royalty":    "入门费加提成",
		"base.net_sales":             "净销售额",
		"base.profit":                "利润",
	},
	langEN: {
		"site.title":                 "Patent open-licensing ledger",
		"nav.search":                 "Search open licences",
		"nav.dashboard":              "Dashboard",
		"nav.signin":                 "Sign in",
		"nav.signout":                "Sign out",
		"nav.me":                     "My organisation",
		"lang.switch":                "中文",
		"punct.colon":                ": ",
		"punct.list":                 "; ",
		"patent.number":              "Patent number",
		"patent.kind":                "Kind",
		"patent.title":               "Title",
		"patent.abstract":            "Abstract",
		"patent.ipc":                 "IPC",
		"patent.locarno":             "Locarno class",
		"patent.patentees":           "Patentees",
		"patent.filed":               "Filed",
		"patent.granted":             "Granted",
		"patent.expires":             "Expires",
		"patent.status":              "Status",
		"patent.suspended":           "suspended",
		"patent.fee_overdue":         "annual fee overdue",
		"patent.declare_suspended":   "This patent is suspended today; it cannot be declared open while the suspension lasts (rule patent_suspended).",
		"patent.declare_inactive":    "This patent's status is %s: the patent right is no longer in force, so it cannot be declared open (rule patent_not_active).",
		"patent.declare_fee_overdue": "An annual fee of this patent is overdue today; it cannot be declared open until the fee is paid (rule annual_fee_unpaid).",
		"patent.declare_pledged":     "This patent is pledged today and the pledgee has not consented to open licensing; it cannot be declared open until the pledgee consents or the pledge is released (rule pledged_without_consent).",
		"patent.declare_exclusive":   "An exclusive licence of this patent is in force today, until %s; a declaration's term may not overlap it, so the patent can be declared open only after it ends (rule exclusive_license_in_force).",
		"patent.declare_sole":        "A sole licence of this patent is in force today, until %s; a declaration's term may not overlap it, so the patent can be declared open only after it ends (rule exclusive_license_in_force).",
		"patent.withdrawn_on":        "Withdrawn from",
		"patent.declaration":         "Open-licence declaration",
		"patent.no_decl":             "This patent has no open-licence declaration in effect.",
		"patent.upcoming":            "An open-licence declaration of this patent has been filed and is not in effect yet; it takes effect on",
		"patent.fee_reductions":      "Annual-fee reductions",
		"patent.fee_reductions_note": "While a declaration is in effect (on the days the patent is active) its annual fees are reduced by 15% (Patent Law art. 51). The table gives these days by year and the reduction as a share of that year's fee; days of a term still to come are included.",
		"reduction.year":             "Year",
		"reduction.days":             "Days declared",
		"reduction.share":            "Reduction of the annual fee",
		"patent.fee":                 "Licence fee",
		"patent.term":                "Licence term",
		"patent.months":              "months",
		"patent.month":               "month",
		"patent.ended":               "Earlier declarations (withdrawn or at the end of their term)",
		"patent.withdrawal_reason":   "Reason for withdrawal",
		"patent.declared_on":         "Declared",
		"patent.term_ends":           "Term ends",
		"patent.howto":               "How to take the licence",
		"patent.howto_text":          "Notify the patentee in writing and pay the published fee: the licence is yours at once. Through the API:",
		"patent.licenses":            "Licences concluded",
		"patent.no_licenses":         "No licences yet.",
		"patent.licenses_cut":        "The %d latest concluded are listed, of %d; GET /v1/patents/%s lists them all.",
		"patent.pledges":             "Pledges",
		"patent.no_pledges":          "No pledges.",
		"patent.reviews":             "Stock-patent reviews",
		"patent.no_reviews":          "No reviews yet.",
		"patent.history":             "Event history (Beijing time, UTC+8)",
		"patent.history_from":        "This page starts at version",
		"patent.history_first":       "back to the first page",
		"patent.history_next":        "More events →",
		"license.type":               "Type",
		"license.licensee":           "Licensee",
		"license.effective":          "Effective",
		"license.ends":               "Ends",
		"license.fee":                "Paid on taking",
		"license.royalties":          "Royalties paid",
		"license.recorded":           "Recordal",
		"pledge.pledgee":             "Pledgee",
		"pledge.amount":              "Secured amount",
		"pledge.registered":          "Registered",
		"pledge.released":            "Released",
		"pledge.consent":             "Pledgee's consent to licensing",
		"pledge.consented":           "consented",
		"pledge.not_consented":       "not consented",
		"review.campaign":            "Campaign",
		"review.grade":               "Grade",
		"review.disposition":         "Disposition",
		"signin.title":               "Sign in as an organisation",
		"signin.key":                 "API key",
		"signin.submit":              "Sign in",
		"signin.help":                "Enter the key the administrator issued to your organisation. It is kept only in this browser's session cookie: a sign-in lasts at most %d hours, and ends when the browser closes or you sign out.",
		"signin.bad":                 "The key is not valid.",
		"signin.admin":               "The admin key cannot sign in to the pages: it is for the API. Use a key issued to an organisation.",
		"signin.resume":              "Your session has ended and the form was not sent. Sign in again: what you typed waits in the patent page's form for 30 minutes.",
		"signin.ended":               "Your session has ended and the form was not sent, nor could what you typed be kept. Sign in again and fill it in again.",
		"form.draft_restored":        "What you typed before your session ended is back in the form; check it and submit it.",
		"form.declare":               "Declare an open licence",
		"form.mode":                  "Fee mode",
		"form.lump_sum":              "Lump sum (yuan)",
		"form.instalment":            "Instalment (yuan)",
		"form.instalments":           "Instalments",
		"form.entry_fee":             "Entry fee (yuan)",
		"form.royalty_bp":            "Royalty (basis points, 1% = 100)",
		"form.royalty_base":          "Royalty base",
		"form.term_months":           "Licence term (months)",
		"form.declared_on":           "Declaration date",
		"form.report_ref":            "Evaluation report reference",
		"form.other_terms":           "Other terms",
		"form.co_owner_consent":      "Co-owners' consent (tick each co-owner who has agreed in writing)",
		"form.submit_declare":        "Declare",
		"form.withdraw":              "Withdraw the declaration",
		"form.effective_on":          "Effective on",
		"form.reason":                "Reason",
		"form.submit_withdraw":       "Withdraw",
		"form.saved":                 "Recorded at ledger position",
		"form.resent":                "This form was sent and recorded before, with other values; this time nothing was recorded. The page shows the ledger as it stands.",
		"error.title":                "Something went wrong",
		"detail.values":              "Concerning: ",
		"title.error":                "Error: ",
		"chart.desc":                 "%s (%s), %s to %s: %d in all.",
		"field.history_after":        "History from version",
		"field.cursor":               "Page cursor",
		"field.limit":                "Results per page",
		"field.page":                 "Page number",
		"field.declaration_id":       "Declaration ID",
		"field.body":                 "Form",
		"error.not_found":            "No such patent.",
		"me.title":                   "My organisation",
		"mode.free":                  "Free",
		"mode.lump_sum":              "Lump sum",
		"mode.instalment":            "Instalments",
		"mode.royalty":               "Royalty",
		"mode.entry_plus_royalty":    "Entry fee plus royalty",
		"base.net_sales":             "net sales",
		"base.profit":                "profit",
	},
}

// pageLanguages are the languages of the pages and reports, the first the
// one for a client that accepts neither. Traditional Chinese stands for
// the Simplified pages: the matcher takes a script apart as no match, so
// that a reader in Hong Kong, Macau or Taiwan (zh-HK, zh-TW, zh-Hant) who
// lists English lower got English, not the Chinese asked for first.
var pageLanguages = language.NewMatcher([]language.Tag{language.Chinese, language.English, language.TraditionalChinese})

// pageLang picks the page language: ?lang= wins, then the language the
// browser's Accept-Language prefers (its q-values weighed), then Chinese.
// An answer chosen by the header says so (Vary), so that a cache keeps one
// per language.
func pageLang(c echo.Context) string {
	switch c.QueryParam("lang") {
	case langEN:
		return langEN
	case langZH:
		return langZH
	}
	if h := c.Response().Header(); !slices.Contains(h.Values(echo.HeaderVary), "Accept-Language") {
		h.Add(echo.HeaderVary, "Accept-Language")
	}
	tag, _ := language.MatchStrings(pageLanguages, c.Request().Header.Get("Accept-Language"))
	if base, _ := tag.Base(); base.String() == langEN {
		return langEN
	}
	return langZH
}

// translator returns the message of key in lang, or the key itself when
// the catalogue lacks it (a test checks that both catalogues have the same
// keys).
func translator(lang string) func(key string) string {
	cat := messages[lang]
	return func(key string) string {
		if m, ok := cat[key]; ok {
			return m
		}
		return key
	}
}
