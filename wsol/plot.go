package wsol

import (
	"context"
	"fmt"
	"image/color"
	"io"

	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
)

// Names of the files WritePlots creates.
const (
	BoxPlotFile = "box_accuracy.png"
	PRPlotFile  = "pxap_pr.png"
)

// plotColors are the Okabe–Ito colours, distinct for colour-blind readers.
var plotColors = [...]color.NRGBA{
	{R: 0, G: 114, B: 178, A: 255},
	{R: 213, G: 94, B: 0, A: 255},
	{R: 0, G: 158, B: 115, A: 255},
	{R: 204, G: 121, B: 167, A: 255},
	{R: 230, G: 159, B: 0, A: 255},
	{R: 86, G: 180, B: 233, A: 255},
}

func addCurve(p *plot.Plot, i int, name string, xys plotter.XYs, dashed bool) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = plotColors[i%len(plotColors)]
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// BoxPlot plots box accuracy (%) against the CAM threshold: one solid line
// per IoU threshold for MaxBoxAccV2 (all contours) and a dashed one for
// MaxBoxAcc (largest contour) where computed.
func BoxPlot(r Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Box accuracy against the CAM threshold"
	p.X.Label.Text = "CAM threshold τ"
	p.Y.Label.Text = "box accuracy (%)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 100
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, c := range r.Box {
		for _, v := range []struct {
			acc    []float64
			name   string
			dashed bool
		}{{c.V2, fmt.Sprintf("IoU ≥ %d%% (all contours)", c.IoU), false}, {c.V1, fmt.Sprintf("IoU ≥ %d%% (largest)", c.IoU), true}} {
			if len(v.acc) == 0 {
				continue
			}
			xys := make(plotter.XYs, len(v.acc))
			for t, a := range v.acc {
				xys[t] = plotter.XY{X: r.Thresholds[t], Y: a}
			}
			if err := addCurve(p, i, v.name, xys, v.dashed); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// PRPlot plots the PxAP precision-recall curve.
func PRPlot(r Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Pixel precision-recall (PxAP %.2f)", r.PxAP)
	p.X.Label.Text = "recall"
	p.Y.Label.Text = "precision"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(plotter.NewGrid())
	xys := make(plotter.XYs, 0, len(r.PR))
	for _, pt := range r.PR {
		xys = append(xys, plotter.XY{X: pt.Recall, Y: pt.Precision})
	}
	if err := addCurve(p, 0, "PR", xys, false); err != nil {
		return nil, err
	}
	return p, nil
}

// WritePlots writes r's curves as 12×8 cm PNGs into dir, creating it:
// BoxPlotFile when box metrics were computed and PRPlotFile when PxAP was.
// Files are written through a temporary file and a rename.
func WritePlots(ctx context.Context, dir string, r Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("wsol: write plots: %w", err)
	}
	type job struct {
		name string
		make func(Result) (*plot.Plot, error)
	}
	var jobs []job
	if r.BoxImages > 0 && len(r.Box) > 0 {
		jobs = append(jobs, job{BoxPlotFile, BoxPlot})
	}
	if r.MaskImages > 0 && len(r.PR) > 0 {
		jobs = append(jobs, job{PRPlotFile, PRPlot})
	}
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := j.make(r)
		if err != nil {
			return err
		}
		w, err := p.WriterTo(12*vg.Centimeter, 8*vg.Centimeter, "png")
		if err != nil {
			return fmt.Errorf("wsol: plot %s: %w", j.name, err)
		}
		if err := atomicfile.Write(filepath.Join(dir, j.name), 0, func(out io.Writer) error {
			_, err := w.WriteTo(out)
			return err
		}); err != nil {
			return fmt.Errorf("wsol: %w", err)
		}
	}
	return nil
}
