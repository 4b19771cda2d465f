package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"github.com/disintegration/imaging"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// cell formats one table cell: the value, and for a non-baseline model
// the difference to the baseline with its paired 95% interval; a
// difference whose interval excludes 0 is bold.
func (r *compareResults) cell(model, key string) string {
	for _, m := range r.Models {
		if m.Name != model {
			continue
		}
		for _, mv := range m.Metrics {
			if mv.Key != key {
				continue
			}
			s := fmtNum(mv.Value, key)
			for _, c := range r.Comparisons {
				if c.Model == model && c.Key == key {
					if !c.Comparable {
						return s + " †"
					}
					d := fmt.Sprintf("%+.*f [%s, %s]", digits(key), c.Diff, fmtNum(float64(c.CILow), key), fmtNum(float64(c.CIHigh), key))
					if c.Significant {
						d = "**" + d + "**"
					}
					return s + " (" + d + ")"
				}
			}
			if len(r.Comparisons) == 0 || model == r.Models[0].Name {
				return fmt.Sprintf("%s [%s, %s]", s, fmtNum(float64(mv.CILow), key), fmtNum(float64(mv.CIHigh), key))
			}
			return s
		}
	}
	return "–"
}

func digits(key string) int {
	if strings.Contains(key, "auc") {
		return 3
	}
	return 1
}

func fmtNum(v float64, key string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits(key), v)
}

// rows lists the metric keys and labels of all models in first-seen order.
func (r *compareResults) rows() (keys, labels []string) {
	seen := map[string]bool{}
	for _, m := range r.Models {
		for _, mv := range m.Metrics {
			if !seen[mv.Key] {
				seen[mv.Key] = true
				arrow := "↑"
				if mv.Better == "lower" {
					arrow = "↓"
				}
				keys, labels = append(keys, mv.Key), append(labels, mv.Label+" "+arrow)
			}
		}
	}
	return keys, labels
}

func summaryMarkdown(r *compareResults) string {
	var b strings.Builder
	keys, labels := r.rows()
	fmt.Fprintf(&b, "| metric |")
	for _, m := range r.Models {
		fmt.Fprintf(&b, " %s |", m.Name)
	}
	b.WriteString("\n|---|")
	for range r.Models {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "| %s |", labels[i])
		for _, m := range r.Models {
			fmt.Fprintf(&b, " %s |", r.cell(m.Name, k))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d images of %s (%s layout, fingerprint %.12s), seed %d, %d paired bootstrap resamples. ",
		r.Data.Images, r.Data.Dir, r.Data.Layout, r.Data.Fingerprint, r.Seed, r.Bootstrap)
	if len(r.Models) > 1 {
		fmt.Fprintf(&b, "The first column is the baseline with its 95%% interval; the others show the difference to it with the paired 95%% interval, in bold when the interval excludes 0.")
	}
	for _, m := range r.Models {
		if f, ok := r.firstFaith(m); ok && f.Images < r.Data.Images {
			fmt.Fprintf(&b, " Faithfulness covers the first %d images.", f.Images)
			break
		}
	}
	flagged := map[string]bool{}
	for _, c := range r.Comparisons {
		if !c.Comparable && !flagged[c.Model] {
			flagged[c.Model] = true
			fmt.Fprintf(&b, "\n\n† %s: %s.", c.Model, c.Note)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func (r *compareResults) firstFaith(m modelResult) (faithSummary, bool) {
	for _, f := range m.Faithfulness {
		return f, true
	}
	return faithSummary{}, false
}

// overlayGrid returns the overlay grid: one row per grid image, the input
// and then, for each method, each model's overlay, every cell 128×128.
func overlayGrid(r *compareResults, evals []*modelEval) *image.NRGBA {
	const cell, gap = 128, 4
	if len(evals) == 0 || len(r.Options.Methods) == 0 {
		return nil
	}
	rows := 0
	for _, m := range r.Options.Methods {
		rows = max(rows, len(evals[0].faith[m].Overlays))
	}
	if rows == 0 {
		return nil
	}
	cols := 1 + len(r.Options.Methods)*len(evals)
	out := image.NewNRGBA(image.Rect(0, 0, cols*(cell+gap)-gap, rows*(cell+gap)-gap))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	put := func(png []byte, row, col int) {
		img, err := decodePNG(png)
		if err != nil {
			return
		}
		s := imaging.Resize(img, cell, cell, imaging.NearestNeighbor)
		at := image.Pt(col*(cell+gap), row*(cell+gap))
		draw.Draw(out, image.Rectangle{Min: at, Max: at.Add(image.Pt(cell, cell))}, s, image.Point{}, draw.Src)
	}
	for row := range rows {
		if fs := evals[0].faith[r.Options.Methods[0]]; row < len(fs.Inputs) {
			put(fs.Inputs[row], row, 0)
		}
		col := 1
		for _, m := range r.Options.Methods {
			for _, ev := range evals {
				if fs := ev.faith[m]; row < len(fs.Overlays) {
					put(fs.Overlays[row], row, col)
				}
				col++
			}
		}
	}
	return out
}

func decodePNG(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }

func dataURI(b []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
}

type series struct {
	name string
	x, y []float64
}

// linePlot renders the series as a PNG.
func linePlot(title, xl, yl string, ss []series) []byte {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xl, yl
	p.Legend.Top = true
	for i, s := range ss {
		pts := make(plotter.XYs, len(s.x))
		for j := range s.x {
			pts[j].X, pts[j].Y = s.x[j], s.y[j]
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / 8)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	w, err := p.WriterTo(5*vg.Inch, 3.5*vg.Inch, "png")
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil
	}
	return buf.Bytes()
}

type reportPlot struct {
	Title string
	Src   template.URL
}

// plots renders the per-metric plots of the report.
func plots(r *compareResults) []reportPlot {
	var out []reportPlot
	addPlot := func(title, xl, yl string, ss []series) {
		if len(ss) == 0 {
			return
		}
		if b := linePlot(title, xl, yl, ss); b != nil {
			out = append(out, reportPlot{Title: title, Src: dataURI(b)})
		}
	}
	for _, meth := range r.Options.Methods {
		var box, pr []series
		for _, m := range r.Models {
			w, ok := m.WSOL[meth]
			if !ok {
				continue
			}
			for _, c := range w.Box {
				if c.IoU == 50 && len(c.V2) == len(w.Thresholds) {
					box = append(box, series{m.Name, w.Thresholds, c.V2})
				}
			}
			if len(w.PR) > 0 {
				s := series{name: m.Name}
				for _, p := range w.PR {
					s.x, s.y = append(s.x, p.Recall), append(s.y, p.Precision)
				}
				pr = append(pr, s)
			}
		}
		addPlot("Box accuracy at IoU 50, all contours ("+meth+")", "CAM threshold τ", "box accuracy %", box)
		addPlot("Pixel precision-recall ("+meth+")", "recall", "precision", pr)
	}
	var fg []series
	for _, m := range r.Models {
		if m.FGSM == nil {
			continue
		}
		s := series{name: m.Name, x: []float64{0}, y: []float64{100 * m.FGSM.CleanAccuracy}}
		for _, p := range m.FGSM.Points {
			s.x, s.y = append(s.x, p.Epsilon255), append(s.y, 100*p.Accuracy)
		}
		fg = append(fg, s)
	}
	addPlot("FGSM", "ε × 255", "top-1 accuracy %", fg)
	occ := map[string][]series{}
	var occNames []string
	for _, m := range r.Models {
		if m.Occlusion == nil {
			continue
		}
		for _, c := range m.Occlusion.Curves {
			s := series{name: m.Name}
			for _, p := range c.Points {
				s.x, s.y = append(s.x, p.Size224), append(s.y, 100*p.Error)
			}
			if _, ok := occ[c.Occluder]; !ok {
				occNames = append(occNames, c.Occluder)
			}
			occ[c.Occluder] = append(occ[c.Occluder], s)
		}
	}
	for _, n := range occNames {
		addPlot("Occlusion ("+n+")", "hole side on a 224 axis", "top-1 error %", occ[n])
	}
	bet := map[string][]series{}
	var betNames []string
	for _, m := range r.Models {
		if m.Between == nil {
			continue
		}
		for _, c := range m.Between.Curves {
			s := series{name: m.Name}
			for _, p := range c.Points {
				s.x, s.y = append(s.x, p.Lambda), append(s.y, 100*p.Error)
			}
			if _, ok := bet[c.Mix]; !ok {
				betNames = append(betNames, c.Mix)
			}
			bet[c.Mix] = append(bet[c.Mix], s)
		}
	}
	for _, n := range betNames {
		addPlot("In-between class ("+n+")", "λ (share of image A)", "neither-class error %", bet[n])
	}
	for _, meth := range r.Options.Methods {
		var del, ins []series
		for _, m := range r.Models {
			f, ok := m.Faithfulness[meth]
			if !ok || len(f.DeletionCurve) < 2 {
				continue
			}
			x := make([]float64, len(f.DeletionCurve))
			for i := range x {
				x[i] = float64(i) / float64(len(x)-1)
			}
			del = append(del, series{m.Name, x, f.DeletionCurve})
			ins = append(ins, series{m.Name, x, f.InsertionCurve})
		}
		addPlot("Deletion ("+meth+")", "fraction of pixels removed", "mean class probability", del)
		addPlot("Insertion ("+meth+")", "fraction of pixels inserted", "mean class probability", ins)
	}
	return out
}

type reportGridRow struct {
	Input template.URL
	Cells []template.URL
}

// reportCell is one summary table cell; Bold marks a difference whose
// interval excludes 0.
type reportCell struct {
	Text string
	Bold bool
}

type reportData struct {
	Title   string
	Summary *compareResults
	Header  []string
	Rows    [][]reportCell
	Notes   string
	Plots   []reportPlot
	Columns []string
	Grid    []reportGridRow
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;font-size:13px}
th:first-child,td:first-child{text-align:left}
.plots img{width:480px;margin:4px}
.grid img{width:96px;height:96px;image-rendering:pixelated}
.grid td{padding:2px;text-align:center}
code{background:#f4f4f4}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.Summary.Data.Images}} images of <code>{{.Summary.Data.Dir}}</code> ({{.Summary.Data.Layout}} layout, fingerprint <code>{{.Summary.Data.Fingerprint}}</code>), seed {{.Summary.Seed}}, {{.Summary.Bootstrap}} paired bootstrap resamples, cutmix-cam {{.Summary.ToolVersion}}.</p>
<h2>Summary</h2>
<table id="summary"><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{if .Bold}}<b>{{.Text}}</b>{{else}}{{.Text}}{{end}}</td>{{end}}</tr>
{{end}}</table>
<p>{{.Notes}}</p>
<h2>Models</h2>
<table><tr><th>model</th><th>sha256</th><th>input</th><th>classes</th><th>CAM layer</th></tr>
{{range .Summary.Models}}<tr><td>{{.Name}}</td><td><code>{{.SHA256}}</code></td><td>{{index .Input 0}}×{{index .Input 1}}×{{index .Input 2}}</td><td>{{.Classes}}</td><td>{{.Layer}}</td></tr>
{{end}}</table>
<h2>Plots</h2>
<div class="plots">{{range .Plots}}<img src="{{.Src}}" alt="{{.Title}}" title="{{.Title}}">{{end}}</div>
{{if .Grid}}<h2>Overlays</h2>
<table class="grid"><tr><th>input</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Grid}}<tr><td><img src="{{.Input}}" alt="input"></td>{{range .Cells}}<td><img src="{{.}}" alt="overlay"></td>{{end}}</tr>
{{end}}</table>{{end}}
</body></html>
`))

func writeReport(w io.Writer, r *compareResults, evals []*modelEval) error {
	d := reportData{Title: "cutmix-cam compare", Summary: r, Header: []string{"metric"}, Plots: plots(r)}
	for _, m := range r.Models {
		d.Header = append(d.Header, m.Name)
	}
	keys, labels := r.rows()
	for i, k := range keys {
		row := []reportCell{{Text: labels[i]}}
		for _, m := range r.Models {
			c := r.cell(m.Name, k)
			row = append(row, reportCell{Text: strings.ReplaceAll(c, "**", ""), Bold: strings.Contains(c, "**")})
		}
		d.Rows = append(d.Rows, row)
	}
	md := summaryMarkdown(r)
	if i := strings.Index(md, "\n\n"); i >= 0 {
		d.Notes = strings.ReplaceAll(strings.TrimSpace(md[i:]), "**", "")
	}
	if len(evals) > 0 {
		for _, meth := range r.Options.Methods {
			for _, ev := range evals {
				d.Columns = append(d.Columns, ev.run.name+" · "+meth)
			}
		}
		first := evals[0].faith[firstOr(r.Options.Methods)]
		for row := range first.Inputs {
			gr := reportGridRow{Input: dataURI(first.Inputs[row])}
			for _, meth := range r.Options.Methods {
				for _, ev := range evals {
					if ov := ev.faith[meth].Overlays; row < len(ov) {
						gr.Cells = append(gr.Cells, dataURI(ov[row]))
					}
				}
			}
			d.Grid = append(d.Grid, gr)
		}
	}
	return reportTemplate.Execute(w, d)
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
