package api

import (
	"fmt"
	"html/template"
	"strings"
)

// chart is a bar chart drawn on the server as SVG, with a title and
// description for screen readers and the figures as a table beside it.
type chart struct {
	ID, Title string
	Labels    []string
	Values    []int64
	Total     int64
	SVG       template.HTML
}

// Chart geometry in SVG user units.
const (
	chartWidth  = 640
	chartHeight = 240
	chartLeft   = 48
	chartBottom = 56
	chartTop    = 12
)

// newChart draws the bars of values, labelled by labels; desc, which
// screen readers read after the title, is made by describe from the total.
func newChart(id, title string, labels []string, values []int64, describe func(total int64) string) chart {
	c := chart{ID: id, Title: title, Labels: labels, Values: values}
	var peak int64
	for _, v := range values {
		c.Total += v
		peak = max(peak, v)
	}
	step := axisStep(peak)
	c.SVG = template.HTML(drawBars(id, title, describe(c.Total), labels, values, step, max(1, (peak+step-1)/step)))
	return c
}

// axisStep returns the tick step of an axis from 0 to at least peak: 1, 2
// or 5 times a power of ten, giving at most five steps.
func axisStep(peak int64) int64 {
	for step := int64(1); ; step *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*step*5 >= peak {
				return m * step
			}
		}
	}
}

// drawBars draws the bars under a y axis of ticks steps of step each.
func drawBars(id, title, desc string, labels []string, values []int64, step, ticks int64) string {
	top := step * ticks
	var b strings.Builder
	plotW, plotH := float64(chartWidth-chartLeft-8), float64(chartHeight-chartBottom-chartTop)
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`, chartWidth, chartHeight, id, id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(title), id, template.HTMLEscapeString(desc))
	for i := int64(0); i <= ticks; i++ {
		y := float64(chartTop) + plotH*float64(ticks-i)/float64(ticks)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/>`, chartLeft, chartWidth-8, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="axis" text-anchor="end">%d</text>`, chartLeft-6, y+4, i*step)
	}
	n := max(len(values), 1)
	slot := plotW / float64(n)
	every := (n + 11) / 12 // at most about twelve x labels
	for i, v := range values {
		h := plotH * float64(v) / float64(top)
		x := float64(chartLeft) + slot*float64(i) + slot*0.15
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>%s: %d</title></rect>`,
			x, float64(chartTop)+plotH-h, slot*0.7, h, template.HTMLEscapeString(labels[i]), v)
		if i%every == 0 {
			lx, ly := x+slot*0.35, float64(chartHeight-chartBottom+14)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis" text-anchor="end" transform="rotate(-45 %.1f %.1f)">%s</text>`,
				lx, ly, lx, ly, template.HTMLEscapeString(labels[i]))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="axis-line"/></svg>`, chartLeft, chartWidth-8, float64(chartTop)+plotH, float64(chartTop)+plotH)
	return b.String()
}
