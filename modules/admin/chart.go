package admin

import (
	"fmt"
	"math"
	"time"
)

// chart is a bar chart of sign-ins and failed sign-ins drawn as SVG on the
// server (admin/overview.html): geometry only, in viewBox units, so the
// page needs no script and no inline style (presentation attributes and
// classes are allowed under the CSP). Rows repeat the data as a table for
// screen readers and for reading exact numbers.
type chart struct {
	ID, Title, Summary string
	// Axis names the x axis's unit and time zone, as "hours, UTC".
	Axis               string
	AxisX, AxisY       float64
	Width, Height      int
	PlotLeft, PlotTop  float64
	PlotRight, Base    float64
	Bars               []chartBar
	Grid               []chartTick
	Labels             []chartTick
	Rows               []chartRow
	TotalOK, TotalFail int64
}

type chartBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartRow struct {
	Label    string
	OK, Fail int64
}

const (
	chartW, chartH           = 720, 250
	plotL, plotR, plotT, plB = 44.0, 712.0, 12.0, 190.0
)

// newChart lays out ok and fail, bucket i starting at start+i·step; every
// labelEvery-th bucket gets an x label in layout, and axis names the x
// axis under the labels.
func newChart(id, title, axis string, start time.Time, step time.Duration, ok, fail []int64, layout string, labelEvery int) chart {
	c := chart{ID: id, Title: title, Axis: axis, AxisX: plotR, AxisY: plB + 52,
		Width: chartW, Height: chartH, PlotLeft: plotL, PlotTop: plotT, PlotRight: plotR, Base: plB}
	top := int64(1)
	for i := range ok {
		c.TotalOK += ok[i]
		c.TotalFail += fail[i]
		top = max(top, ok[i], fail[i])
	}
	top = niceCeil(top)
	ticks := []int64{0, top}
	if top%2 == 0 {
		ticks = []int64{0, top / 2, top}
	}
	for _, f := range ticks {
		c.Grid = append(c.Grid, chartTick{Y: round1(plB - float64(f)/float64(top)*(plB-plotT)), Label: fmt.Sprint(f)})
	}
	slot := (plotR - plotL) / float64(len(ok))
	barW := round1(math.Max(1, slot*0.38))
	height := func(v int64) float64 { return round1(float64(v) / float64(top) * (plB - plotT)) }
	for i := range ok {
		from := start.Add(time.Duration(i) * step)
		label := from.Format(layout)
		x := plotL + float64(i)*slot + slot*0.1
		tip := fmt.Sprintf("%s: %d sign-ins, %d failed", label, ok[i], fail[i])
		hOK, hFail := height(ok[i]), height(fail[i])
		c.Bars = append(c.Bars,
			chartBar{X: round1(x), Y: round1(plB - hOK), W: barW, H: hOK, Class: "bar-ok", Title: tip},
			chartBar{X: round1(x + barW), Y: round1(plB - hFail), W: barW, H: hFail, Class: "bar-fail", Title: tip})
		if i%labelEvery == 0 {
			c.Labels = append(c.Labels, chartTick{X: round1(x + barW), Y: plB + 30, Label: label})
		}
		c.Rows = append(c.Rows, chartRow{Label: label, OK: ok[i], Fail: fail[i]})
	}
	c.Summary = fmt.Sprintf("%s: %d sign-ins and %d failed sign-ins.", title, c.TotalOK, c.TotalFail)
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the grid's
// labels are round numbers.
func niceCeil(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
