package robust

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Names of the files WritePlots creates.
const (
	AttackPlotFile    = "attack.png"
	OcclusionPlotFile = "occlusion.png"
	BetweenPlotFile   = "between.png"
)

// palette gives the lines distinct colours (Okabe–Ito).
var palette = [...]color.NRGBA{
	{R: 0, G: 114, B: 178, A: 255},
	{R: 213, G: 94, B: 0, A: 255},
	{R: 0, G: 158, B: 115, A: 255},
	{R: 204, G: 121, B: 167, A: 255},
}

// addLine adds a line with points to p, in colour i of the palette.
func addLine(p *plot.Plot, i int, name string, xys plotter.XYs) error {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	c := palette[i%len(palette)]
	l.Color, pts.Color = c, c
	pts.Radius = vg.Points(2.5)
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// AttackPlot plots top-1 accuracy (%) against ε·255 for the FGSM and PGD
// results given (either may be nil), with the clean accuracy at ε = 0.
func AttackPlot(fgsm, pgd *AttackResult) (*plot.Plot, error) {
	p := newPlot("Adversarial robustness (ε in pixel [0,1] units)", "ε × 255", "top-1 accuracy (%)")
	for i, r := range []*AttackResult{fgsm, pgd} {
		if r == nil {
			continue
		}
		xys := plotter.XYs{{X: 0, Y: 100 * r.CleanAccuracy}}
		for _, pt := range r.Points {
			xys = append(xys, plotter.XY{X: pt.Epsilon255, Y: 100 * pt.Accuracy})
		}
		name := r.Attack
		if r.Target != Untargeted.String() {
			name += " (" + r.Target + ")"
		}
		if err := addLine(p, i, name, xys); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// OcclusionPlot plots top-1 error (%) against the hole size on the
// paper's 0..224 axis, one line per occluder (paper Fig. 5a).
func OcclusionPlot(r *OcclusionResult) (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("Occlusion (fill %s)", r.Fill), "hole size s (on the 0..224 axis)", "top-1 error (%)")
	p.X.Min, p.X.Max = 0, 224
	for i, c := range r.Curves {
		xys := make(plotter.XYs, len(c.Points))
		for j, pt := range c.Points {
			xys[j] = plotter.XY{X: pt.Size224, Y: 100 * pt.Error}
		}
		if err := addLine(p, i, c.Occluder, xys); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// BetweenPlot plots the neither-class error (%) against λ, one line per
// mix (paper Fig. 5b).
func BetweenPlot(r *BetweenResult) (*plot.Plot, error) {
	p := newPlot("In-between-class samples", "combination ratio λ (weight of image A)", "neither-class error (%)")
	p.X.Min, p.X.Max = 0, 1
	for i, c := range r.Curves {
		xys := make(plotter.XYs, len(c.Points))
		for j, pt := range c.Points {
			xys[j] = plotter.XY{X: pt.Lambda, Y: 100 * pt.Error}
		}
		if err := addLine(p, i, c.Mix, xys); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// WritePlots writes the curves of r as 12×8 cm PNGs into dir, creating
// dir if needed: AttackPlotFile when r has FGSM or PGD results,
// OcclusionPlotFile and BetweenPlotFile when r has those. Files are
// written atomically (temporary file and rename).
func WritePlots(ctx context.Context, dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write plots: %w", err)
	}
	type job struct {
		name string
		make func() (*plot.Plot, error)
	}
	var jobs []job
	if r.FGSM != nil || r.PGD != nil {
		jobs = append(jobs, job{AttackPlotFile, func() (*plot.Plot, error) { return AttackPlot(r.FGSM, r.PGD) }})
	}
	if r.Occlusion != nil {
		jobs = append(jobs, job{OcclusionPlotFile, func() (*plot.Plot, error) { return OcclusionPlot(r.Occlusion) }})
	}
	if r.Between != nil {
		jobs = append(jobs, job{BetweenPlotFile, func() (*plot.Plot, error) { return BetweenPlot(r.Between) }})
	}
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write plots to %s: %w", dir, err)
		}
		p, err := j.make()
		if err != nil {
			return err
		}
		w, err := p.WriterTo(12*vg.Centimeter, 8*vg.Centimeter, "png")
		if err != nil {
			return fmt.Errorf("plot %s: %w", j.name, err)
		}
		if err := writeAtomic(dir, j.name, func(out io.Writer) error {
			_, err := w.WriteTo(out)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
