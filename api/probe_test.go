package api_test

import (
	"strings"
	"testing"
)

func TestProbeHTTP(t *testing.T) {
	w := newImportWorld(t)
	show := func(name string, r importReply) { t.Logf("%s: %d %s", name, r.status, r.body) }
	data := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,许可费支付方式,lump_sum_fen,royalty_bp,许可期限（月）,declared_on\n" +
		"ZL202010123456.2,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,一次性支付,,,36,2024-03-01\n" +
		"ZL202010654321.9,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,,,,36,\n" +
		"ZL202010000001.1,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,免费,,,,2024-03-01\n" +
		"ZL202010000002.6,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,,500000,,,\n" +
		"ZL202010000002.6,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,,500000,,,\n" +
		"ZL202010000002.6,一种电池2,中山大学,H01M 10/42,2020-03-15,2022-01-10,,500000,,,\n"
	show("partial", w.do(t, "POST", "/v1/imports/patents?dry_run=true", w.uniKey, "text/csv", strings.NewReader(data)))
}
