package robust_test

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

func TestWritePlots(t *testing.T) {
	r := goldenReport(t)
	dir := t.TempDir()
	if err := robust.WritePlots(context.Background(), dir, r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{robust.AttackPlotFile, robust.OcclusionPlotFile, robust.BetweenPlotFile} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 100 || cfg.Height < 100 {
			t.Errorf("%s: %v, %dx%d", name, err, cfg.Width, cfg.Height)
		}
	}
}
