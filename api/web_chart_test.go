package api

import (
	"fmt"
	"strings"
	"testing"
)

func TestAxisStep(t *testing.T) {
	for peak, want := range map[int64]int64{0: 1, 1: 1, 5: 1, 6: 2, 10: 2, 11: 5, 19: 5, 25: 5, 26: 10, 480: 100, 1001: 500} {
		if got := axisStep(peak); got != want {
			t.Errorf("axisStep(%d) = %d, want %d", peak, got, want)
		}
	}
}

func TestChartDrawsEveryBarWithItsValue(t *testing.T) {
	c := newChart("deals", "许可成交 <件>", []string{"2024-01", "2024-02", "2024-03"}, []int64{3, 0, 7},
		func(total int64) string { return fmt.Sprintf("许可成交 <件>，合计 %d。", total) })
	svg := string(c.SVG)
	if c.Total != 10 || strings.Count(svg, `class="bar"`) != 3 {
		t.Fatalf("total %d, bars %d", c.Total, strings.Count(svg, `class="bar"`))
	}
	for _, want := range []string{`<title>2024-03: 7</title>`, `role="img"`, `aria-labelledby="deals-title deals-desc"`, `许可成交 &lt;件&gt;`, `>8</text>`, `<desc id="deals-desc">许可成交 &lt;件&gt;，合计 10。</desc>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}
