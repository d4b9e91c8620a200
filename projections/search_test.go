package projections

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestIndexTokens(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"一种固态锂电池", "一种 种固 固态 态锂 锂电 电池 池"},
		{"LED芯片，Li-ion 电池", "led 芯片 片 li ion 电池 池"},
		{"Ｈ０１Ｍ　电", "h01m 电"},
		{"一种Li₂CO₃的提纯方法", "一种 种 li2co3 的提 提纯 纯方 方法 法"},
		{"Ⅱ型糖尿病，−20℃", "ii 型糖 糖尿 尿病 病 20 c"},
		{"一種固態鋰電池", "一种 种固 固态 态锂 锂电 电池 池"},
		{"", ""},
	} {
		if got := IndexTokens(c.in); got != c.want {
			t.Errorf("IndexTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := CodeTokens([]domain.IPCCode{"H01M 10/0525"}, ""); got != "h01m h01m10 h01m10x0525" {
		t.Errorf("CodeTokens = %q", got)
	}
	if got := CodeTokens(nil, "14-03"); got != "loc14x03" {
		t.Errorf("CodeTokens of a design = %q", got)
	}
}

func TestMatchExpression(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"电池", `"电池"`},
		{"锂电池", `"锂电 电池"`},
		{"电", `"电" *`},
		{"鋰電池", `"锂电 电池"`},
		{"臺", `"台" *`},
		{"固态 电池 LED", `"固态" AND "电池" AND "led"`},
		{"h01m 10/0525 电池", `codes : "h01m10x0525" * AND "电池"`},
		{"H01M10", `"h01m10"`},
		{"H01M10/0525(2010.01)I 电池", `codes : "h01m10x0525" * AND "电池"`},
		{"h01m 10/0525 (2006.01)", `codes : "h01m10x0525" *`},
		{"Ｈ０１Ｍ１０／０５２５（２００６．０１）Ｎ", `codes : "h01m10x0525" *`},
		{"Li₂CO₃", `"li2co3"`},
		{"14-03 包装盒", `codes : "loc14x03" AND "包装 装盒"`},
		{"LOC14-03", `codes : "loc14x03"`},
		{"2024-03-05 33-01", `"2024" AND "03" AND "05" AND "33" AND "01"`}, // no Locarno class
		{"H01M 10/0525(2006.01)Ion", `codes : "h01m10x0525" * AND "ion"`},
		{"H01M 10/05", `codes : "h01m10x05" *`},           // a subgroup and those under it, as the ipc filter
		{"H01M 10/4 电池", `codes : "h01m10x4" * AND "电池"`}, // the start of a subgroup, as the ipc filter
		{`"电池" OR *`, `"电池" AND "or"`},
		{"，。！", ""},
		{"电池 LED 电池 led 锂电池 锂电池", `"电池" AND "led" AND "锂电 电池"`}, // each term once
	} {
		if got := MatchExpression(c.in); got != c.want {
			t.Errorf("MatchExpression(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// searchWords make up the random titles of the recall test.
var searchWords = []string{"一种", "固态", "锂电池", "电解质", "及其", "制备方法", "芯片", "散热", "装置", "基于", "深度学习",
	"图像识别", "LED", "封装", "结构", "抗肿瘤", "药物", "组合物", "基因编辑", "载体", "构建", "新能源", "汽车", "电池包",
	"热管理", "系统", "5G", "通信", "天线", "，"}

// TestSearchFindsEveryTitleHoldingAQuery indexes random titles and asks for
// every substring of two and three CJK characters of every title: the
// answer must be exactly the listed patents whose title or abstract holds
// it, whatever the page size.
func TestSearchFindsEveryTitleHoldingAQuery(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	svc := newService(t, st)
	uni := registerOrg(t, svc, 1, orgSpec{"清华大学", domain.OrgUniversity, "110108", false})
	rng := rand.New(rand.NewPCG(3, 4))
	texts := map[string]string{} // listed patents' title + abstract
	var titles []string
	for i := range 40 {
		title, abstract := randomText(rng, 3+rng.IntN(4)), randomText(rng, 2)
		n := patentNumber(t, 2020, 1, 500+i)
		_, err := svc.RegisterPatent(context.Background(), admin, domain.RegisterPatent{Number: string(n), Title: title,
			Abstract: abstract, PatenteeIDs: []string{uni}, IPC: []string{"H01M 10/0562"}, FiledOn: date("2020-01-10"),
			GrantedOn: date("2021-01-10")})
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, title)
		if i%5 == 4 {
			continue // never declared: must never be found
		}
		months := 36
		if i%7 == 0 {
			months = 1 // ended before today
		}
		declare(t, svc, n, date("2023-06-01"), months, lumpSum(100))
		if months > 1 {
			texts[string(n)] = title + "|" + abstract
		}
	}
	p := startPipeline(t, st, dir)
	waitHead(t, p, st)
	checked := 0
	for _, q := range cjkSubstrings(titles) {
		var want []string
		for n, text := range texts {
			if strings.Contains(text, q) {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		got := searchAll(t, p, q, 1+rng.IntN(7))
		if !slices.Equal(got, want) {
			t.Fatalf("q=%s: got %v, want %v", q, got, want)
		}
		checked++
		if tq := traditionalForm(q); tq != q {
			if got := searchAll(t, p, tq, 1+rng.IntN(7)); !slices.Equal(got, want) {
				t.Fatalf("q=%s (traditional for %s): got %v, want %v", tq, q, got, want)
			}
			checked++
		}
	}
	t.Logf("%d queries checked", checked)
}

// traditionalForm writes each character of s that domain.SimplifiedForm
// gives for a traditional one of the CJK Unified Ideographs as the first
// such traditional character.
func traditionalForm(s string) string {
	traditional := traditionalOf()
	return strings.Map(func(r rune) rune {
		if t, ok := traditional[r]; ok {
			return t
		}
		return r
	}, s)
}

// traditionalOf maps each simplified character of the CJK Unified
// Ideographs that domain.SimplifiedForm folds a traditional one to, to
// the first such traditional character; built once for every query.
var traditionalOf = sync.OnceValue(func() map[rune]rune {
	traditional := map[rune]rune{}
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if to := domain.SimplifiedForm(r); to != r {
			if _, seen := traditional[to]; !seen {
				traditional[to] = r
			}
		}
	}
	return traditional
})

// randomText joins random words.
func randomText(rng *rand.Rand, words int) string {
	var b strings.Builder
	for range words {
		b.WriteString(searchWords[rng.IntN(len(searchWords))])
	}
	return b.String()
}

// cjkSubstrings returns the distinct substrings of two and three CJK
// characters of the texts, in a stable order.
func cjkSubstrings(texts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, text := range texts {
		for _, s := range segments(text) {
			runes := []rune(s.text)
			for size := 2; size <= 3 && s.cjk; size++ {
				for i := 0; i+size <= len(runes); i++ {
					if q := string(runes[i : i+size]); !seen[q] {
						seen[q] = true
						out = append(out, q)
					}
				}
			}
		}
	}
	return out
}

// searchAll pages through a search and returns the numbers found, sorted.
func searchAll(t *testing.T, p *Pipeline, q string, limit int) []string {
	t.Helper()
	query := ListingQuery{Today: date("2024-07-01"), Text: q, Limit: limit}
	var out []string
	for range 100 {
		page, err := p.Listings(context.Background(), query)
		if err != nil {
			t.Fatalf("q=%s: %v", q, err)
		}
		for _, it := range page.Items {
			out = append(out, it.Number)
		}
		if page.NextCursor == nil {
			if int(page.Total) != len(out) {
				t.Fatalf("q=%s: total %d, paged %d", q, page.Total, len(out))
			}
			slices.Sort(out)
			return out
		}
		query.Cursor = *page.NextCursor
	}
	t.Fatalf("q=%s: too many pages", q)
	return nil
}

func TestSearchFindsIPCCodesAndSingleCharacters(t *testing.T) {
	w := newListingWorld(t)
	for _, c := range []struct {
		q    string
		want []int
	}{
		{"H01M 10/0562", []int{0}},
		{"H01M10/0562(2006.01)I", []int{0}},
		{"h01m", []int{0, 1}},
		{"池", []int{0, 1}},
		{"芯", []int{4}},
		{"H01L 芯片", []int{4}},
		{"led", []int{4}},
		{"Led芯片", []int{4}},
		{"ＬＥＤ　封装", []int{4}},
		{"H01L23/367", []int{4}},
		{"Ｌｅｄ封装结构", []int{4}},
		{`"LED" (芯片*):^-`, []int{4}},
	} {
		got := w.numbers(t, ListingQuery{Text: c.q, Today: date("2024-06-30"), Sort: SortNewest})
		want := w.want(c.want...)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("q=%s: got %v, want %v", c.q, got, want)
		}
	}
}

// TestFoldText checks the folding of texts and queries: NFKC, then
// traditional characters as simplified ones.
func TestFoldText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"電池", "电池"}, {"臺灣", "台湾"}, {"顯著", "显著"}, {"LED晶片", "LED晶片"}, {"Ｈ０１Ｍ", "H01M"}, {"鋰₂", "锂2"},
	} {
		if got := foldText(c.in); got != c.want {
			t.Errorf("foldText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSearchFoldsTraditionalAndSimplified lists one patent titled in
// traditional characters and one in simplified: a query in either script
// finds both, and the in-memory search index answers as SQL does.
func TestSearchFoldsTraditionalAndSimplified(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	svc := newService(t, st)
	uni := registerOrg(t, svc, 1, orgSpec{"香港大學", domain.OrgUniversity, "110108", false})
	var numbers []string
	for i, title := range []string{"一種鋰離子電池負極材料", "一种锂离子电池正极材料"} {
		n := patentNumber(t, 2020, 1, 700+i)
		_, err := svc.RegisterPatent(context.Background(), admin, domain.RegisterPatent{Number: string(n), Title: title,
			PatenteeIDs: []string{uni}, IPC: []string{"H01M 4/13"}, FiledOn: date("2020-01-10"), GrantedOn: date("2021-01-10")})
		if err != nil {
			t.Fatal(err)
		}
		declare(t, svc, n, date("2023-06-01"), 36, lumpSum(100))
		numbers = append(numbers, string(n))
	}
	p := startPipeline(t, st, dir)
	waitHead(t, p, st)
	built := rebuiltDB(t, st)
	if err := built.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"锂离子电池", numbers}, {"鋰離子電池", numbers}, {"電池 材料", numbers},
		{"負極", numbers[:1]}, {"负极", numbers[:1]}, {"正極", numbers[1:]}, {"極", numbers},
	} {
		if got := searchAll(t, p, c.q, 1); !slices.Equal(got, c.want) {
			t.Errorf("q=%s: got %v, want %v", c.q, got, c.want)
		}
		if _, total := compareListingPaths(t, built, ListingQuery{Today: date("2024-07-01"), Text: c.q, Limit: 10}); total != int64(len(c.want)) {
			t.Errorf("q=%s: the rebuilt read model finds %d, want %d", c.q, total, len(c.want))
		}
	}
}
