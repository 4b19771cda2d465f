package onnx_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/onnx"
)

// torchRefManifest is testdata/torchref/ref/manifest.json, written by
// testdata/torchref/camref.py.
type torchRefManifest struct {
	Torch   string          `json:"torch"`
	Methods []string        `json:"methods"`
	Models  []torchRefEntry `json:"models"`
}

// torchRefEntry is one model of a torchRefManifest.
type torchRefEntry struct {
	Name    string   `json:"name"`
	Model   string   `json:"model"`
	X       string   `json:"x"`
	XUint8  bool     `json:"x_uint8"`
	Classes []int    `json:"classes"`
	Methods []string `json:"methods"`
	Cams    string   `json:"cams"`
	Logits  string   `json:"logits"`

	AdvX           string `json:"adv_x"`
	AdvImages      int    `json:"adv_images"`
	Labels         []int  `json:"labels"`
	Norm           string `json:"norm"`
	FGSMEps255     int    `json:"fgsm_eps_255"`
	FGSMSign       string `json:"fgsm_sign"`
	FGSM           string `json:"fgsm"`
	PGDEps255      int    `json:"pgd_eps_255"`
	PGDStep255     int    `json:"pgd_step_255"`
	PGDSteps       int    `json:"pgd_steps"`
	PGD            string `json:"pgd"`
	PGDStoredSteps int    `json:"pgd_stored_steps"`
	PGDTiesPerStep []int  `json:"pgd_ties_per_step"`
	FGSMTies       int    `json:"fgsm_ties"`

	// camref.py --full only.
	TargetShape      []int `json:"target_shape"`
	ScoreCAMChannels int   `json:"scorecam_channels"`
}

// torchRefDir holds camref.py's output.
func torchRefDir() string { return fixture("torchref", "ref") }

func readTorchRef(t *testing.T) torchRefManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(torchRefDir(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man torchRefManifest
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	return man
}

// refPath resolves a manifest path: relative to the repository root when
// it starts with testdata/, else to the ref folder.
func refPath(p string) string {
	if strings.HasPrefix(p, "testdata/") {
		return filepath.Join("..", filepath.FromSlash(p))
	}
	return filepath.Join(torchRefDir(), p)
}

var npyShapeRE = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)

// readNpyBytes reads a one-byte-per-element .npy ('|u1' or '|i1'), which
// internal/npy does not decode, as int values.
func readNpyBytes(t *testing.T, path string) ([]int, []int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 10 || !bytes.HasPrefix(raw, []byte("\x93NUMPY")) || raw[6] != 1 {
		t.Fatalf("%s: not a version 1 .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(raw[8:10]))
	hdr, data := string(raw[10:10+hl]), raw[10+hl:]
	signed := strings.Contains(hdr, "'|i1'")
	if !signed && !strings.Contains(hdr, "'|u1'") || strings.Contains(hdr, "True") {
		t.Fatalf("%s: want a C-order uint8 or int8 array, header %s", path, hdr)
	}
	m := npyShapeRE.FindStringSubmatch(hdr)
	if m == nil {
		t.Fatalf("%s: no shape in header %s", path, hdr)
	}
	var shape []int
	n := 1
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: shape %q: %v", path, m[1], err)
		}
		shape = append(shape, d)
		n *= d
	}
	if len(data) != n {
		t.Fatalf("%s: %d bytes of data for shape %v", path, len(data), shape)
	}
	v := make([]int, n)
	for i, b := range data {
		if signed {
			v[i] = int(int8(b))
		} else {
			v[i] = int(b)
		}
	}
	return shape, v
}

// pixels returns p/255 in float32, as PyTorch's tensor.float()/255.
func pixels(p []int) []float32 {
	x := make([]float32, len(p))
	for i, v := range p {
		x[i] = float32(v) / 255
	}
	return x
}

// pearson returns the correlation of a and b, and whether it is defined
// (neither is constant).
func pearson(a []float64, b []float32) (float64, bool) {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, float64(b[i])-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0, false
	}
	return sab / math.Sqrt(saa*sbb), true
}

// constant reports whether every value of v is the same.
func constant(v []float64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

func argmax64(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func argmax32(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestCAMTorch compares every method both implement with the PyTorch
// references of testdata/torchref/camref.py (pytorch-grad-cam's formulas on
// torch autograd, wsolevaluation's CAM) on the two torchvision-style models
// and the four fixture classifiers: Pearson correlation ≥ 0.999 per raw map
// and the same arg-max location, through the closed form for a linear head
// and through the ONNX gradient graph (cam.Options.ForceGradients). An
// arg-max that differs only between positions PyTorch itself ties within
// 1e-6 of the map's range is accepted and logged.
func TestCAMTorch(t *testing.T) {
	man := readTorchRef(t)
	for _, e := range man.Models {
		t.Run(e.Name, func(t *testing.T) {
			checkTorchCAMs(t, e, refPath, onnx.Options{Threads: 1})
		})
	}
}

// torchFullCAMDir returns the folder of camref.py --full's output named by
// CUTMIX_CAM_TORCH_REF: DIR/cams when DIR is export.py --full's folder
// (the one TestGradientTorch reads), else DIR itself; "" when unset or
// when neither holds camref.py's manifest.
func torchFullCAMDir(t *testing.T) string {
	d := os.Getenv("CUTMIX_CAM_TORCH_REF")
	if d == "" {
		return ""
	}
	for _, c := range []string{filepath.Join(d, "cams"), d} {
		b, err := os.ReadFile(filepath.Join(c, "manifest.json"))
		if err != nil {
			continue
		}
		var probe struct {
			Models []struct {
				Cams string `json:"cams"`
			} `json:"models"`
		}
		if json.Unmarshal(b, &probe) == nil && len(probe.Models) > 0 && probe.Models[0].Cams != "" {
			return c
		}
	}
	t.Logf("CUTMIX_CAM_TORCH_REF=%s holds no camref.py --full output (run it; see testdata/README.md)", d)
	return ""
}

// TestCAMTorchFull is TestCAMTorch on torchvision's resnet18,
// mobilenet_v2, vgg11_bn, densenet121, squeezenet1_1 and efficientnet_b0
// (random seeded weights, 224 px) when CUTMIX_CAM_TORCH_REF names
// export.py --full's folder holding camref.py --full's output in cams/
// (or that cams folder). Score-CAM is compared on the first
// scorecam_channels channels of the target layer on both sides (a
// cam.Model wrapper hides the rest), Score-CAM on 512–1280 channels at
// 224 px being minutes per image. CAM and Ablation-CAM are checked only
// where a GAP→linear head exists (not vgg11_bn's MLP nor squeezenet1_1's
// conv-before-pool head).
func TestCAMTorchFull(t *testing.T) {
	dir := torchFullCAMDir(t)
	if dir == "" {
		t.Skip("set CUTMIX_CAM_TORCH_REF to export.py --full's folder with camref.py --full's output in cams/")
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man torchRefManifest
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	resolve := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	for _, e := range man.Models {
		t.Run(e.Name, func(t *testing.T) {
			checkTorchCAMs(t, e, resolve, onnx.Options{})
		})
	}
}

// channelPrefix is a cam.Model that keeps only the first k channels of the
// target layer's activations (Score-CAM's reduced channel budget).
type channelPrefix struct {
	m cam.Model
	k int
}

func (p channelPrefix) Forward(ctx context.Context, b cam.Batch, layer string) (cam.Activations, error) {
	fw, err := p.m.Forward(ctx, b, layer)
	if err != nil || fw.C <= p.k {
		return fw, err
	}
	hw := fw.H * fw.W
	if len(fw.Acts) != b.N*fw.C*hw {
		return fw, nil
	}
	acts := make([]float32, b.N*p.k*hw)
	for n := range b.N {
		copy(acts[n*p.k*hw:(n+1)*p.k*hw], fw.Acts[n*fw.C*hw:])
	}
	fw.Acts, fw.C = acts, p.k
	return fw, nil
}

// checkTorchCAMs runs every method of e on e's model and inputs and
// compares the maps with PyTorch's; resolve turns manifest paths into file
// paths. It logs, per method, the lowest Pearson correlation over images
// and paths and how many arg-maxes agree.
func checkTorchCAMs(t *testing.T, e torchRefEntry, resolve func(string) string, opts onnx.Options) {
	ctx := context.Background()
	m := openModel(t, resolve(e.Model), opts)
	var x []float32
	var xs []int
	if e.XUint8 {
		var p []int
		xs, p = readNpyBytes(t, resolve(e.X))
		x = pixels(p)
	} else {
		xs, x = readNpy(t, resolve(e.X))
	}
	b := cam.Batch{Data: x, N: xs[0], C: xs[1], H: xs[2], W: xs[3]}
	_, wantLogits := readNpy(t, resolve(e.Logits))
	layer := "" // auto: the input of the global average pooling
	if len(e.TargetShape) == 4 {
		// camref.py --full splits at the input of the last average pooling;
		// vgg11_bn's AdaptiveAvgPool2d(7) is a 1×1 AveragePool before an
		// MLP, not a global pooling, so auto-detection finds nothing there
		// and the tensor is named.
		if l, err := m.TargetLayer(ctx); err == nil {
			t.Logf("%s: target layer %s (auto, %s)", e.Name, l.Tensor, l.Pool)
		} else {
			layer = torchTarget(t, m, "pool_input")
			t.Logf("%s: no auto target layer (%v); using the input of the last average pooling, %s", e.Name, err, layer)
		}
	}
	fw, err := m.Forward(ctx, b, layer)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := agreement(fw.Logits, wantLogits)
	t.Logf("%s: logits: max error / max |logit| = %.2g against PyTorch", e.Name, rel)
	if rel > 1e-4 {
		t.Fatalf("logits differ from PyTorch's by %.3g of their largest value: the rebuilt module is not the ONNX model", rel)
	}
	if len(e.TargetShape) == 4 && (e.TargetShape[1] != fw.C || e.TargetShape[2] != fw.H || e.TargetShape[3] != fw.W) {
		t.Fatalf("Go's target layer is %d×%d×%d, PyTorch's %v", fw.C, fw.H, fw.W, e.TargetShape)
	}
	ms, maps := readNpy(t, resolve(e.Cams))
	if ms[0] != len(e.Methods) || ms[1] != b.N || ms[2] != fw.H || ms[3] != fw.W {
		t.Fatalf("reference maps %v, want %d methods × %d images × %d×%d", ms, len(e.Methods), b.N, fw.H, fw.W)
	}
	hw := fw.H * fw.W
	minR := 1.0
	for mi, name := range e.Methods {
		meth, err := cam.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		paths := []bool{false}
		if cam.NeedsGradients(meth) {
			paths = append(paths, true)
		}
		var model cam.Model = m
		if _, ok := meth.(cam.ScoreCAM); ok && e.ScoreCAMChannels > 0 && e.ScoreCAMChannels < fw.C {
			model = channelPrefix{m, e.ScoreCAMChannels}
		}
		worst, maps0, agree, consts := 1.0, 0, 0, 0
		for _, force := range paths {
			rs, err := cam.Compute(ctx, model, b, meth, cam.Options{Layer: layer, Target: cam.PerImage(e.Classes), ForceGradients: force})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			path := "closed form"
			switch {
			case force:
				path = "gradient graph"
			case !cam.NeedsGradients(meth):
				path = "forward"
			}
			for n, r := range rs {
				maps0++
				want := maps[(mi*b.N+n)*hw : (mi*b.N+n+1)*hw]
				r0, ok := pearson(r.Map.V, want)
				if !ok {
					// A constant map (every value clipped by the ReLU)
					// must be constant on both sides.
					consts++
					goConst := constant(r.Map.V)
					t.Logf("%-13s %-14s image %d: constant map (Go constant: %v)", name, path, n, goConst)
					if !goConst {
						t.Errorf("%s (%s) image %d: PyTorch's map is constant, Go's is not", name, path, n)
					}
					continue
				}
				minR = math.Min(minR, r0)
				worst = math.Min(worst, r0)
				ga, ta := argmax64(r.Map.V), argmax32(want)
				tie := ""
				if ga != ta {
					lo, hi := want[0], want[0]
					for _, v := range want {
						lo, hi = min(lo, v), max(hi, v)
					}
					if float64(want[ta]-want[ga]) <= 1e-6*float64(hi-lo) {
						tie = " (PyTorch ties these positions)"
						agree++
					} else {
						t.Errorf("%s (%s) image %d: arg-max (%d,%d), PyTorch's (%d,%d)", name, path, n, ga%fw.W, ga/fw.W, ta%fw.W, ta/fw.W)
					}
				} else {
					agree++
				}
				t.Logf("%-13s %-14s image %d: 1 − pearson %.1e, argmax (%d,%d) vs PyTorch (%d,%d)%s", name, path, n, 1-r0, ga%fw.W, ga/fw.W, ta%fw.W, ta/fw.W, tie)
				if r0 < 0.999 {
					t.Errorf("%s (%s) image %d: Pearson %.6f with PyTorch, want ≥ 0.999", name, path, n, r0)
				}
			}
		}
		t.Logf("summary %s %-13s worst pearson %.9f (1 − r = %.1e), argmax %d/%d, constant %d", e.Name, name, worst, 1-worst, agree, maps0-consts, consts)
	}
	t.Logf("%s: lowest Pearson %.12f (1 − r = %.2g)", e.Name, minR, 1-minR)
}
