package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

// boxMaps writes a small data set (metadata only) and, for each image, a
// 224×224 score map that is 1 inside its scaled ground-truth box and 0
// elsewhere, named <image_id>.npy as wsolevaluation names them.
func boxMaps(t *testing.T) (data, cams string) {
	t.Helper()
	data, cams = t.TempDir(), t.TempDir()
	d := &wsol.Dataset{}
	boxes := []image.Rectangle{
		image.Rect(10, 12, 40, 50), image.Rect(0, 0, 64, 64), image.Rect(20, 5, 60, 30),
		image.Rect(30, 30, 50, 62), image.Rect(5, 40, 33, 60),
	}
	for i, b := range boxes {
		id := "test/" + string(rune('a'+i)) + ".png"
		d.Items = append(d.Items, wsol.Item{ID: id, Label: i % 3, Size: image.Pt(64, 64), Boxes: []image.Rectangle{b}})
		sb := wsol.ScaleBox(b, image.Pt(64, 64), image.Pt(224, 224))
		arr := npy.Array{Shape: []int{224, 224}, Data: make([]float64, 224*224), DType: npy.Float32}
		for y := sb.Min.Y; y < sb.Max.Y; y++ {
			for x := sb.Min.X; x < sb.Max.X; x++ {
				arr.Data[y*224+x] = 1
			}
		}
		p := filepath.Join(cams, filepath.FromSlash(id)+".npy")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := npy.Write(f, arr); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := os.MkdirAll(filepath.Join(data, "metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := wsol.WriteMetadata(context.Background(), filepath.Join(data, "metadata"), d); err != nil {
		t.Fatal(err)
	}
	return data, cams
}

// TestWSOLCams scores maps that fill each ground-truth box exactly: with
// the reference's one-pixel-larger predicted box the IoU is w·h/((w+1)(h+1)),
// above 0.7 for these boxes, so every box metric is 100.
func TestWSOLCams(t *testing.T) {
	data, cams := boxMaps(t)
	plots := t.TempDir()
	out, errOut, code := cli(t, "wsol", "--json", "--interval", "0.01", "--plots", plots, "--data", data, "--cams", cams)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep wsolReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	r := rep.Result
	if r.Images != 5 || r.MaxBoxAcc != 100 || r.MaxBoxAccV2 != 100 || r.GTKnownLoc != 100 {
		t.Errorf("perfect box maps: %d images, MaxBoxAcc %g, V2 %g, GT-known %g; want 5, 100, 100, 100", r.Images, r.MaxBoxAcc, r.MaxBoxAccV2, r.GTKnownLoc)
	}
	if len(r.Thresholds) != 100 {
		t.Errorf("%d thresholds at interval 0.01, want 100", len(r.Thresholds))
	}
	if _, err := os.Stat(filepath.Join(plots, wsol.BoxPlotFile)); err != nil {
		t.Errorf("--plots: %v", err)
	}

	// Shards merge to exactly the single run.
	dir := t.TempDir()
	for _, s := range []string{"0/2", "1/2"} {
		_, errOut, code := cli(t, "wsol", "-q", "--interval", "0.01", "--data", data, "--cams", cams, "--shard", s, "--partial", filepath.Join(dir, strings.Replace(s, "/", "of", 1)+".json"))
		if code != exitOK {
			t.Fatalf("shard %s: exit %d: %s", s, code, errOut)
		}
	}
	out, errOut, code = cli(t, "merge", "--json", filepath.Join(dir, "0of2.json"), filepath.Join(dir, "1of2.json"))
	if code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	var merged wsolReport
	if err := json.Unmarshal([]byte(out), &merged); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(rep.Result)
	b, _ := json.Marshal(merged.Result)
	if string(a) != string(b) {
		t.Errorf("merged shards differ from the single run:\n%s\n%s", a, b)
	}

	// Refusals: a duplicate shard, an incomplete set, another configuration.
	_, errOut, code = cli(t, "merge", filepath.Join(dir, "0of2.json"), filepath.Join(dir, "0of2.json"))
	if code != exitRuntime || !strings.Contains(errOut, "cutmix-cam: ") {
		t.Errorf("merge of a duplicate shard: exit %d, %q", code, errOut)
	}
	_, errOut, code = cli(t, "merge", filepath.Join(dir, "0of2.json"))
	if code != exitRuntime || !strings.Contains(errOut, "1 of 2 shards") {
		t.Errorf("merge of one of two shards: exit %d, %q", code, errOut)
	}
	other := filepath.Join(dir, "other.json")
	if _, errOut, code := cli(t, "wsol", "-q", "--interval", "0.001", "--data", data, "--cams", cams, "--shard", "1/2", "--partial", other); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, errOut, code = cli(t, "merge", filepath.Join(dir, "0of2.json"), other)
	if code != exitRuntime || !strings.Contains(errOut, "same data") {
		t.Errorf("merge across configurations: exit %d, %q", code, errOut)
	}
}

func TestWSOLShardFromEnv(t *testing.T) {
	data, cams := boxMaps(t)
	p := filepath.Join(t.TempDir(), "p.json")
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	if _, errOut, code := cli(t, "wsol", "-q", "--data", data, "--cams", cams, "--shard", "env/3", "--partial", p); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"index": 1`) && !strings.Contains(string(b), `"index":1`) {
		t.Errorf("partial does not record shard 1: %s", b[:min(len(b), 300)])
	}
}

func TestWSOLBadInput(t *testing.T) {
	data, cams := boxMaps(t)
	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, "metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "metadata", "image_ids.txt"), []byte("a.png\nb.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code exitCode
		text string
	}{
		{[]string{"wsol", "--cams", cams}, exitUsage, "--data"},
		{[]string{"wsol", "--data", data}, exitUsage, "MODEL or --cams"},
		{[]string{"wsol", "--data", data, "--cams", cams, "--interval", "0"}, exitUsage, "--interval"},
		{[]string{"wsol", "--data", data, "--cams", cams, "--protocol", "iou"}, exitUsage, "--protocol"},
		{[]string{"wsol", "--data", data, "--cams", cams, "--shard", "2/2", "--partial", "x"}, exitUsage, "--shard"},
		{[]string{"wsol", "--data", data, "--cams", cams, "--shard", "0/2"}, exitUsage, "--partial"},
		{[]string{"wsol", "--data", "nosuch", "--cams", cams}, exitRuntime, "folder not found"},
		{[]string{"wsol", "--data", empty, "--cams", cams}, exitRuntime, "class_labels.txt"},
		{[]string{"wsol", "--data", data, "--cams", t.TempDir()}, exitRuntime, ".npy"},
		{[]string{"merge", "nosuch.json"}, exitRuntime, "file not found"},
	}
	for _, tc := range tests {
		_, errOut, code := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.text) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.text)
		}
	}
}

// BenchmarkWSOLModelMaps scores, on one goroutine and on all cores, the
// CAMs of the fixture CutMix model on the first 64 images of the committed
// evaluation set (224×224 after the reference's resize, boxes and masks;
// MaxBoxAccV2 + PxAP at grid 0.001): real maps, next to the synthetic ones
// of the wsol package's benchmarks. Running the model is not timed.
func BenchmarkWSOLModelMaps(b *testing.B) {
	needRuntime(b)
	inRoot(b)
	ctx := context.Background()
	var samples []wsol.Sample
	g := &globalOptions{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}, device: "cpu", quiet: true}
	cmd := newWSOLCmd(g, func(o *wsolOptions) error {
		d, maskDir, err := loadWSOLData(ctx, o.data)
		if err != nil {
			return err
		}
		n := min(64, len(d.Items))
		src, closeModel, err := openModelSource(ctx, o, d, maskDir, wsol.Shard{Index: 0, Count: 1}, newProgress(g, "wsol", n))
		if err != nil {
			return err
		}
		defer closeModel()
		for i := range n {
			s, err := src.Sample(ctx, i)
			if err != nil {
				return err
			}
			samples = append(samples, s)
		}
		return nil
	})
	cmd.SetArgs([]string{"--norm", "unit", "--data", "testdata/fmnist-wsol", "testdata/models/fmnist_cutmix.onnx"})
	cmd.SetOut(g.out)
	cmd.SetErr(g.errOut)
	if err := cmd.ExecuteContext(ctx); err != nil {
		b.Fatal(err)
	}
	if dir := os.Getenv("CUTMIX_CAM_BENCH_MAPS"); dir != "" {
		if err := writeBenchMaps(dir, samples); err != nil {
			b.Fatal(err)
		}
	}
	for _, workers := range []int{1, 0} {
		name := "1worker"
		if workers == 0 {
			name = "allcores"
		}
		b.Run(name, func(b *testing.B) {
			cfg := wsol.Config{Workers: workers, Metrics: []wsol.Metric{wsol.MaxBoxAccV2, wsol.PxAP}}
			for b.Loop() {
				if _, err := wsol.Evaluate(cfg, samples); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*len(samples)), "ms/image")
			b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// writeBenchMaps writes samples for wsol/testdata/refbench.py --maps DIR:
// maps.npy (N×H×W scores), masks.npy (N×H×W labels, 255 where an image has
// no mask) and boxes.npy (one row per ground-truth box: image index and
// the reference's inclusive x0, y0, x1, y1), all float64.
func writeBenchMaps(dir string, samples []wsol.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	w, h := samples[0].Map.W, samples[0].Map.H
	maps := npy.Array{Shape: []int{len(samples), h, w}, DType: npy.Float64}
	masks := npy.Array{Shape: []int{len(samples), h, w}, DType: npy.Float64}
	boxes := npy.Array{Shape: []int{0, 5}, DType: npy.Float64}
	for i, s := range samples {
		maps.Data = append(maps.Data, s.Map.Pix...)
		for k := range w * h {
			v := float64(wsol.MaskIgnore)
			if s.Mask != nil {
				v = float64(s.Mask.Pix[k])
			}
			masks.Data = append(masks.Data, v)
		}
		for _, r := range s.Boxes {
			boxes.Data = append(boxes.Data, float64(i), float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X-1), float64(r.Max.Y-1))
			boxes.Shape[0]++
		}
	}
	for name, a := range map[string]npy.Array{"maps.npy": maps, "masks.npy": masks, "boxes.npy": boxes} {
		if err := atomicfile.Write(filepath.Join(dir, name), 0, func(w io.Writer) error { return npy.Write(w, a) }); err != nil {
			return err
		}
	}
	return nil
}
