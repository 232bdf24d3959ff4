package bench

import (
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// panel is one chart of the figure: one column of the table against the
// number of shards, a line per payload size.
type panel struct {
	title string
	value func(Row) (float64, bool)
}

var panels = []panel{
	{"wall time vs one shard", func(r Row) (float64, bool) { return r.WallRatio, true }},
	{"payload merge applies (most)", func(r Row) (float64, bool) { return float64(r.MergeAppliesMax), true }},
	{"mutating requests", func(r Row) (float64, bool) { return r.Mutating, true }},
	{"requests per follower", func(r Row) (float64, bool) { return r.RequestsPerFollower, r.Shards > 1 }},
	{"KiB sent + watched per follower", func(r Row) (float64, bool) { return r.BytesPerFollower / 1024, r.Shards > 1 }},
	{"KiB answered per follower", func(r Row) (float64, bool) { return r.AnswerBytesPerFollower / 1024, r.Shards > 1 }},
	{"imports", func(r Row) (float64, bool) { return r.Imports, true }},
	{"pods created", func(r Row) (float64, bool) { return r.Pods, true }},
}

// lineColors tell the payload sizes apart; they print in grey as well.
var lineColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

// WriteChart draws the rows as a PNG: one panel per column of the table,
// the numbers of shards evenly spaced on the x axis.
func WriteChart(w io.Writer, rows []Row, title string) error {
	shards, images := axes(rows)

	const cols = 3
	rowsOfPanels := (len(panels) + cols - 1) / cols
	plots := make([][]*plot.Plot, rowsOfPanels)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, pn := range panels {
		p, err := panelPlot(pn, rows, shards, images)
		if err != nil {
			return err
		}
		plots[i/cols][i%cols] = p
	}
	// The legend gets a tile of its own, so that it hides no point.
	for i := len(panels); i < rowsOfPanels*cols; i++ {
		empty := plot.New()
		empty.HideAxes()
		plots[i/cols][i%cols] = empty
	}
	legend := plots[rowsOfPanels-1][cols-1]
	legend.Legend.Top, legend.Legend.Left = true, true
	legend.Legend.TextStyle.Font.Size = vg.Points(14)
	for k, m := range images {
		line, points := style(k)
		legend.Legend.Add(fmt.Sprintf("payload of %d images", m), line, points)
	}

	width, height := 13*vg.Inch, vg.Length(rowsOfPanels)*3.6*vg.Inch+0.5*vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	heading := plot.New().Title
	heading.Text = title
	heading.TextStyle.Font.Size = vg.Points(16)
	dc.FillText(heading.TextStyle, vg.Point{X: width / 2, Y: height - 0.3*vg.Inch}, heading.Text)
	body := dc
	body.Max.Y -= 0.5 * vg.Inch
	tiles := draw.Tiles{Rows: rowsOfPanels, Cols: cols, PadX: vg.Inch / 3, PadY: vg.Inch / 3, PadTop: vg.Inch / 10, PadBottom: vg.Inch / 10, PadLeft: vg.Inch / 10, PadRight: vg.Inch / 4}
	canvases := plot.Align(plots, tiles, body)
	for j := range plots {
		for i := range plots[j] {
			plots[j][i].Draw(canvases[j][i])
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("could not write the chart: %w", err)
	}
	return nil
}

// axes are the numbers of shards and the payload sizes of the rows, sorted.
func axes(rows []Row) (shards, images []int) {
	for _, r := range rows {
		if !slices.Contains(shards, r.Shards) {
			shards = append(shards, r.Shards)
		}
		if !slices.Contains(images, r.Images) {
			images = append(images, r.Images)
		}
	}
	slices.Sort(shards)
	slices.Sort(images)
	return shards, images
}

func panelPlot(pn panel, rows []Row, shards, images []int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = "shards"
	p.Y.Min = 0
	ticks := make([]plot.Tick, len(shards))
	for i, n := range shards {
		ticks[i] = plot.Tick{Value: float64(i), Label: strconv.Itoa(n)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.3, float64(len(shards)-1)+0.3
	p.Add(plotter.NewGrid())
	for k := range images {
		m := images[k]
		var pts plotter.XYs
		for i, n := range shards {
			for _, r := range rows {
				if r.Shards != n || r.Images != m {
					continue
				}
				if v, ok := pn.value(r); ok {
					pts = append(pts, plotter.XY{X: float64(i), Y: v})
				}
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("could not draw %s: %w", pn.title, err)
		}
		line.LineStyle, points.GlyphStyle = lineStyle(k)
		p.Add(line, points)
		for _, pt := range pts {
			p.Y.Max = max(p.Y.Max, pt.Y*1.15)
		}
	}
	return p, nil
}

// lineStyle is the look of the k-th payload size's line and points.
func lineStyle(k int) (draw.LineStyle, draw.GlyphStyle) {
	c := lineColors[k%len(lineColors)]
	return draw.LineStyle{Color: c, Width: vg.Points(2)},
		draw.GlyphStyle{Color: c, Shape: draw.CircleGlyph{}, Radius: vg.Points(3.5)}
}

// style returns legend thumbnails in the k-th payload size's look.
func style(k int) (*plotter.Line, *plotter.Scatter) {
	line, points := &plotter.Line{}, &plotter.Scatter{}
	line.LineStyle, points.GlyphStyle = lineStyle(k)
	return line, points
}
