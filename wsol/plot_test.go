package wsol_test

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutmixcam/cutmix-cam/wsol"
)

func TestWritePlots(t *testing.T) {
	m := wsol.Map{W: 8, H: 8, Pix: make([]float64, 64)}
	for y := 2; y < 6; y++ {
		for x := 2; x < 6; x++ {
			m.Pix[y*8+x] = 1
		}
	}
	mask := &wsol.Mask{W: 8, H: 8, Pix: make([]uint8, 64)}
	for i, v := range m.Pix {
		if v > 0 {
			mask.Pix[i] = wsol.MaskForeground
		}
	}
	r, err := wsol.Evaluate(wsol.Config{Interval: 0.1}, []wsol.Sample{{ID: "a", Map: m, Boxes: []image.Rectangle{image.Rect(2, 2, 6, 6)}, Mask: mask, Pred: -1}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := wsol.WritePlots(context.Background(), dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{wsol.BoxPlotFile, wsol.PRPlotFile} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(fh)
		fh.Close()
		if err != nil || cfg.Width < 100 || cfg.Height < 100 {
			t.Errorf("%s: %v, %dx%d", f, err, cfg.Width, cfg.Height)
		}
	}
	// No masks, no PR plot.
	r.MaskImages, r.PR = 0, nil
	dir = t.TempDir()
	if err := wsol.WritePlots(context.Background(), dir, r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, wsol.PRPlotFile)); !os.IsNotExist(err) {
		t.Errorf("PR plot written without masks: %v", err)
	}
}
