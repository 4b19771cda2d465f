package onnx_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// objectiveValue computes the batch objective from flattened scores (n×K)
// in float64, the way the gradient graph defines it.
func objectiveValue(obj onnx.Objective, scores []float32, n int, classes []int, seed []float32) float64 {
	K := len(scores) / n
	var total float64
	for i := 0; i < n; i++ {
		row := scores[i*K : (i+1)*K]
		switch obj {
		case onnx.Weighted:
			for k, v := range row {
				total += float64(seed[i*K+k]) * float64(v)
			}
			continue
		case onnx.Logit:
			total += float64(row[classes[i]])
			continue
		}
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		logp := float64(row[classes[i]]) - mx - math.Log(s)
		if obj == onnx.Probability {
			total += math.Exp(logp)
		} else {
			total -= logp
		}
	}
	return total
}

// fdCase is one finite-difference check of the input gradient.
type fdCase struct {
	obj     onnx.Objective
	classes []int // nil: top-1
	wrt     []string
	output  string // "": the model's only output
}

// fdReport holds the agreement of a finite-difference check.
type fdReport struct {
	dirErr   float64 // max over directions of |⟨g,v⟩ − fd| / (|⟨g,v⟩| + ‖g‖·‖v‖/√dim)
	coordErr float64 // max over coordinates of |g_i − fd_i| / max|g|
}

// checkFD compares the input gradient of m for c with central finite
// differences of the objective (step eps) along random directions and on
// the largest coordinates, with the objective evaluated in float64 from
// the float32 scores.
func checkFD(t *testing.T, m *onnx.Model, c fdCase, x []float32, n int, eps float64, dirs, coords int) fdReport {
	t.Helper()
	ctx := context.Background()
	req := onnx.GradRequest{Objective: c.obj, Classes: c.classes, Wrt: c.wrt, Output: c.output}
	K := 0
	var seed []float32
	if c.obj == onnx.Weighted {
		r := rand.New(rand.NewPCG(3, 3))
		first, err := m.Gradient(ctx, x, n, onnx.GradRequest{Output: c.output})
		if err != nil {
			t.Fatal(err)
		}
		K = int(first.Scores.Shape[1])
		seed = make([]float32, n*K)
		for i := range seed {
			seed[i] = 2*r.Float32() - 1
		}
		req.Seed = seed
	}
	res, err := m.Gradient(ctx, x, n, req)
	if err != nil {
		t.Fatal(err)
	}
	classes := res.Classes
	req.Classes = classes
	g := res.Grads[0].Data
	if len(g) != len(x) {
		t.Fatalf("gradient has %d values, want %d", len(g), len(x))
	}
	f := func(xp []float32) float64 {
		r, err := m.Gradient(ctx, xp, n, req)
		if err != nil {
			t.Fatal(err)
		}
		return objectiveValue(c.obj, r.Scores.Data, n, classes, seed)
	}
	var gmax, gnorm float64
	for _, v := range g {
		gmax = math.Max(gmax, math.Abs(float64(v)))
		gnorm += float64(v) * float64(v)
	}
	gnorm = math.Sqrt(gnorm)
	if gmax == 0 {
		t.Fatalf("gradient is zero")
	}
	var rep fdReport
	rng := rand.New(rand.NewPCG(11, uint64(len(x))))
	xp := make([]float32, len(x))
	for d := 0; d < dirs; d++ {
		v := make([]float64, len(x))
		var dot float64
		for i := range v {
			v[i] = 2*rng.Float64() - 1
			dot += v[i] * float64(g[i])
		}
		for i := range x {
			xp[i] = float32(float64(x[i]) + eps*v[i])
		}
		fp := f(xp)
		for i := range x {
			xp[i] = float32(float64(x[i]) - eps*v[i])
		}
		fm := f(xp)
		fd := (fp - fm) / (2 * eps)
		scale := math.Abs(dot) + gnorm*math.Sqrt(float64(len(x))/3)/math.Sqrt(float64(len(x)))
		if os.Getenv("FDDEBUG") != "" {
			t.Logf("f(x±εv) = %.9g, %.9g; ⟨g,v⟩ = %.6g, fd = %.6g, ‖g‖ = %.3g", fp, fm, dot, fd, gnorm)
		}
		rep.dirErr = math.Max(rep.dirErr, math.Abs(dot-fd)/scale)
	}
	// The largest coordinates, plus a few at random.
	idx := topK(g, coords)
	for k := 0; k < coords; k++ {
		idx = append(idx, rng.IntN(len(x)))
	}
	for _, i := range idx {
		copy(xp, x)
		xp[i] = float32(float64(x[i]) + eps)
		fp := f(xp)
		xp[i] = float32(float64(x[i]) - eps)
		fm := f(xp)
		fd := (fp - fm) / (float64(xp[i]-x[i]) * -2)
		rep.coordErr = math.Max(rep.coordErr, math.Abs(float64(g[i])-fd)/gmax)
	}
	return rep
}

// topK returns the indices of the k largest |v|.
func topK(v []float32, k int) []int {
	var idx []int
	used := map[int]bool{}
	for len(idx) < k && len(idx) < len(v) {
		best := -1
		for i, x := range v {
			if !used[i] && (best < 0 || math.Abs(float64(x)) > math.Abs(float64(v[best]))) {
				best = i
			}
		}
		used[best] = true
		idx = append(idx, best)
	}
	return idx
}

func TestGradientFixturesFD(t *testing.T) {
	cases := []struct {
		name  string
		model string
		n     int
		fd    fdCase
	}{
		{"tiny_cam/logit", "tiny_cam.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{1, 3}}},
		{"tiny_cam/prob", "tiny_cam.onnx", 2, fdCase{obj: onnx.Probability}},
		{"tiny_cam/ce", "tiny_cam.onnx", 2, fdCase{obj: onnx.CrossEntropy, classes: []int{0, 4}}},
		{"tiny_cam/seed", "tiny_cam.onnx", 2, fdCase{obj: onnx.Weighted}},
		{"tiny_gray_static/logit", "tiny_gray_static.onnx", 3, fdCase{obj: onnx.Logit}},
		{"tiny_avgpool/ce", "tiny_avgpool.onnx", 1, fdCase{obj: onnx.CrossEntropy, classes: []int{2}}},
		{"grad_conv/logit", "grad_conv.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{0, 2}}},
		{"grad_conv/ce", "grad_conv.onnx", 2, fdCase{obj: onnx.CrossEntropy}},
		{"grad_ops/logit", "grad_ops.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{4, 1}}},
		{"grad_ops/prob", "grad_ops.onnx", 2, fdCase{obj: onnx.Probability}},
		{"grad_shape/logit", "grad_shape.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{3, 0}}},
		{"grad_shape/seed", "grad_shape.onnx", 2, fdCase{obj: onnx.Weighted}},
		{"grad_maxpool/seed", "grad_maxpool.onnx", 2, fdCase{obj: onnx.Weighted}},
		{"grad_norm/logit", "grad_norm.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{3, 1}}},
		{"grad_norm/seed", "grad_norm.onnx", 2, fdCase{obj: onnx.Weighted}},
		{"grad_misc/logit", "grad_misc.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{2, 0}}},
		{"grad_misc/ce", "grad_misc.onnx", 2, fdCase{obj: onnx.CrossEntropy}},
		{"grad_silu/logit", "grad_silu.onnx", 2, fdCase{obj: onnx.Logit, classes: []int{1, 2}}},
		{"grad_silu/seed", "grad_silu.onnx", 2, fdCase{obj: onnx.Weighted}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := openModel(t, fixture("models", tc.model), onnx.Options{Threads: 1})
			c, h, w := m.InputShape()
			x := randomInput(tc.n*c*h*w, 5)
			rep := checkFD(t, m, tc.fd, x, tc.n, 1e-3, 3, 4)
			t.Logf("directional error %.2g, coordinate error %.2g", rep.dirErr, rep.coordErr)
			if rep.dirErr > 2e-2 || rep.coordErr > 1e-2 {
				t.Errorf("gradient disagrees with finite differences: directional %.3g, coordinate %.3g (tolerance 2e-2, 1e-2)", rep.dirErr, rep.coordErr)
			}
		})
	}
}

// TestGradientOutputsFD checks, against finite differences, the gradient
// of a random weighting of each output of the fixtures that give every
// rule variant an output of its own (those named bad_* have no rule).
func TestGradientOutputsFD(t *testing.T) {
	for _, tc := range []struct {
		model string
		n     int
	}{
		{"grad_resize.onnx", 2},
		{"grad_attrs.onnx", 2},
		{"grad_legacy.onnx", 2},
		{"grad_vector.onnx", 1},
	} {
		m := openModel(t, fixture("models", tc.model), onnx.Options{Threads: 1})
		c, h, w := m.InputShape()
		x := randomInput(tc.n*c*h*w, 5)
		for _, out := range m.Info().Outputs {
			if strings.HasPrefix(out.Name, "bad_") {
				continue
			}
			t.Run(strings.TrimSuffix(tc.model, ".onnx")+"/"+out.Name, func(t *testing.T) {
				rep := checkFD(t, m, fdCase{obj: onnx.Weighted, output: out.Name}, x, tc.n, 1e-3, 3, 4)
				t.Logf("directional error %.2g, coordinate error %.2g", rep.dirErr, rep.coordErr)
				if rep.dirErr > 2e-2 || rep.coordErr > 1e-2 {
					t.Errorf("gradient disagrees with finite differences: directional %.3g, coordinate %.3g (tolerance 2e-2, 1e-2)", rep.dirErr, rep.coordErr)
				}
			})
		}
	}
}

// TestGradientMaxPoolTies feeds inputs full of ties to an overlapping,
// dilated, padded MaxPool and checks that each window's gradient goes to
// its first maximum in row-major window order (as PyTorch and ONNX
// Runtime's Indices do), counting overlaps, against a plain-Go reference:
// at the fixture's opset 12 (one-hot transposed convolution) and declared
// at opset 13 (its gradient model is then at opset 16 and scatter-adds).
func TestGradientMaxPoolTies(t *testing.T) {
	for _, opset := range []int64{12, 13} {
		t.Run(fmt.Sprint("opset", opset), func(t *testing.T) { testMaxPoolTies(t, opset) })
	}
}

func testMaxPoolTies(t *testing.T, opset int64) {
	path := fixture("models", "grad_maxpool.onnx")
	if opset != 12 {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mp := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(b, mp); err != nil {
			t.Fatal(err)
		}
		mp.OpsetImport[0].Version = proto.Int64(opset)
		if b, err = proto.Marshal(mp); err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(t.TempDir(), "maxpool.onnx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := openModel(t, path, onnx.Options{Threads: 1})
	const n, H, W = 2, 6, 6
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*H*W)
	for i := range x {
		x[i] = float32(r.IntN(3)) // many ties
	}
	copy(x[H*W:], make([]float32, H*W)) // the second image is all ties
	seed := make([]float32, 15)
	for i := range seed {
		seed[i] = float32(i + 1)
	}
	res, err := m.Gradient(context.Background(), x, n, onnx.GradRequest{Objective: onnx.Weighted, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(x))
	for b := 0; b < n; b++ {
		for oy := 0; oy < 5; oy++ {
			for ox := 0; ox < 3; ox++ {
				best, at := float32(math.Inf(-1)), -1
				for i := 0; i < 3; i++ {
					for j := 0; j < 2; j++ {
						iy, ix := oy-1+i, ox*2+j*2
						if iy < 0 || iy >= H || ix >= W {
							continue
						}
						if v := x[b*H*W+iy*W+ix]; v > best {
							best, at = v, iy*W+ix
						}
					}
				}
				want[b*H*W+at] += seed[oy*3+ox]
			}
		}
	}
	if d := maxAbsDiff(res.Grads[0].Data, want); d != 0 {
		t.Errorf("MaxPool gradient with ties: max |got − want| = %g\ngot  %v\nwant %v", d, res.Grads[0].Data, want)
	}
	data, err := m.GradientModel(context.Background(), onnx.GradRequest{Objective: onnx.Weighted})
	if err != nil {
		t.Fatal(err)
	}
	gm := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, gm); err != nil {
		t.Fatal(err)
	}
	scatter := false
	for _, nd := range gm.GetGraph().GetNode() {
		scatter = scatter || nd.GetOpType() == "ScatterElements"
	}
	if v := gm.GetOpsetImport()[0].GetVersion(); scatter != (opset >= 13) || (opset >= 13) != (v == 16) {
		t.Errorf("source opset %d: gradient model at opset %d, ScatterElements %v", opset, v, scatter)
	}
	if v := gm.GetOpsetImport()[0].GetVersion(); v == 16 && gm.GetIrVersion() < 8 {
		t.Errorf("gradient model at opset 16 with IR version %d, want 8 or later", gm.GetIrVersion())
	}
}

// TestGradientIntermediate checks gradients with respect to intermediate
// tensors: exactly against the linear head of tiny_cam, and by the chain
// rule ⟨∂f/∂A, dA⟩ = ⟨∂f/∂x, v⟩ with dA the central difference of the
// activation A along v.
func TestGradientIntermediate(t *testing.T) {
	ctx := context.Background()
	t.Run("tiny_cam/exact", func(t *testing.T) {
		path := fixture("models", "tiny_cam.onnx")
		m := openModel(t, path, onnx.Options{Threads: 1})
		w := initializers(t, path)["fc.w"] // 5×6
		x := randomInput(2*3*16*16, 9)
		res, err := m.Gradient(ctx, x, 2, onnx.GradRequest{Wrt: []string{"features"}, Classes: []int{4, 1}})
		if err != nil {
			t.Fatal(err)
		}
		g := res.Grads[0]
		if len(g.Shape) != 4 || g.Shape[1] != 6 || g.Shape[2] != 8 {
			t.Fatalf("gradient shape %v, want [2 6 8 8]", g.Shape)
		}
		for i, v := range g.Data {
			b, c := i/(6*64), (i/64)%6
			want := w[res.Classes[b]*6+c] / 64
			if math.Abs(float64(v-want)) > 1e-6 {
				t.Fatalf("∂logit/∂features[%d] = %g, want %g", i, v, want)
			}
		}
	})
	for _, tc := range []struct{ model, tensor string }{
		{"grad_conv.onnx", "clip"},
		{"grad_conv.onnx", "l1"},
		{"grad_ops.onnx", "act"},
		{"grad_shape.onnx", "s"},
		{"grad_norm.onnx", "in"},
		{"grad_misc.onnx", "g"},
		{"grad_silu.onnx", "y1"},
	} {
		t.Run(tc.model+"/"+tc.tensor, func(t *testing.T) {
			m := openModel(t, fixture("models", tc.model), onnx.Options{Threads: 1})
			c, h, w := m.InputShape()
			const n = 2
			x := randomInput(n*c*h*w, 21)
			req := onnx.GradRequest{Objective: onnx.CrossEntropy, Classes: []int{1, 2}, Wrt: []string{"x", tc.tensor}}
			res, err := m.Gradient(ctx, x, n, req)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(4, 4))
			const eps = 1e-3
			v := make([]float64, len(x))
			xp, xm := make([]float32, len(x)), make([]float32, len(x))
			var gv float64
			for i := range v {
				v[i] = 2*r.Float64() - 1
				xp[i], xm[i] = float32(float64(x[i])+eps*v[i]), float32(float64(x[i])-eps*v[i])
				gv += v[i] * float64(res.Grads[0].Data[i])
			}
			rp, err := m.Gradient(ctx, xp, n, req)
			if err != nil {
				t.Fatal(err)
			}
			rm, err := m.Gradient(ctx, xm, n, req)
			if err != nil {
				t.Fatal(err)
			}
			var ga, norm float64
			gA := res.Grads[1].Data
			for i := range gA {
				dA := (float64(rp.Values[1].Data[i]) - float64(rm.Values[1].Data[i])) / (2 * eps)
				ga += float64(gA[i]) * dA
				norm += math.Abs(float64(gA[i]) * dA)
			}
			if err := math.Abs(ga-gv) / norm; err > 1e-2 {
				t.Errorf("⟨∂f/∂%s, dA⟩ = %g, ⟨∂f/∂x, v⟩ = %g: relative error %.3g > 1e-2", tc.tensor, ga, gv, err)
			}
		})
	}
}

func TestGradientErrors(t *testing.T) {
	ctx := context.Background()
	conv := openModel(t, fixture("models", "grad_conv.onnx"), onnx.Options{Threads: 1})
	bad := openModel(t, fixture("models", "grad_bad.onnx"), onnx.Options{Threads: 1})
	resize := openModel(t, fixture("models", "grad_resize.onnx"), onnx.Options{Threads: 1})
	attrs := openModel(t, fixture("models", "grad_attrs.onnx"), onnx.Options{Threads: 1})
	for _, tc := range []struct {
		name string
		m    *onnx.Model
		req  onnx.GradRequest
		is   error // nil: any error with msg
		msg  string
	}{
		{"resize antialias", resize, onnx.GradRequest{Output: "bad_antialias"}, nil, "Resize with antialias=1 is not supported"},
		{"resize crop", resize, onnx.GradRequest{Output: "bad_crop"}, nil, `coordinate_transformation_mode "tf_crop_and_resize" is not supported`},
		{"batch slice", attrs, onnx.GradRequest{Output: "bad_batch_slice"}, nil, "Slice along the batch axis is not supported"},
		{"unknown tensor", conv, onnx.GradRequest{Wrt: []string{"nope"}}, onnx.ErrNoTensor, "candidates"},
		{"not dependent", conv, onnx.GradRequest{Output: "c1", Wrt: []string{"clip"}}, onnx.ErrNotDependent, `"clip"`},
		{"several outputs", bad, onnx.GradRequest{}, onnx.ErrScores, "floor, int"},
		{"no rule", bad, onnx.GradRequest{Output: "floor"}, onnx.ErrNoRule, "op Floor"},
		{"integer path", bad, onnx.GradRequest{Output: "int"}, onnx.ErrIntegerPath, `"xi" is int64, written by Cast`},
		{"unknown output", conv, onnx.GradRequest{Output: "nope"}, onnx.ErrNoTensor, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, h, w := tc.m.InputShape()
			_, err := tc.m.Gradient(ctx, make([]float32, c*h*w), 1, tc.req)
			t.Log(err)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Gradient(%+v) = %v, want %v mentioning %q", tc.req, err, tc.is, tc.msg)
			}
		})
	}
	t.Run("bad class", func(t *testing.T) {
		_, err := conv.Gradient(ctx, make([]float32, 3*11*10), 1, onnx.GradRequest{Classes: []int{5}})
		if err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("class 5 of 5: err = %v, want out of range", err)
		}
	})
}

// TestGradientZoo builds gradient graphs of real third-party classifiers
// and checks their input gradients against finite differences.
func TestGradientZoo(t *testing.T) {
	for _, tc := range []struct {
		file  string
		input string // TensorProto test vector; "" for a seeded random image
		fd    fdCase
		dirs  int
	}{
		{"mnist-8.onnx", "", fdCase{obj: onnx.Logit}, 2},
		{"mnist-8.onnx", "", fdCase{obj: onnx.CrossEntropy, classes: []int{3}}, 2},
		{"winml-cifar10-tutorial.onnx", "", fdCase{obj: onnx.Probability}, 2},
		{"st-mobilenet_v2_0.5_128-person.onnx", "", fdCase{obj: onnx.Logit, classes: []int{1}}, 2},
	} {
		t.Run(tc.file+"/"+tc.fd.obj.String(), func(t *testing.T) {
			m := openModel(t, zoo(t, tc.file), onnx.Options{Threads: 2})
			c, h, w := m.InputShape()
			x := randomInput(c*h*w, 17)
			if tc.input != "" {
				_, x = readTensor(t, zoo(t, tc.input))
			}
			eps := 1e-3
			if e := os.Getenv("FDEPS"); e != "" {
				eps, _ = strconv.ParseFloat(e, 64)
			}
			rep := checkFD(t, m, tc.fd, x, 1, eps, tc.dirs, 2)
			t.Logf("directional error %.2g, coordinate error %.2g", rep.dirErr, rep.coordErr)
			// float32 round-off of deep nets (~1e-5 of the objective)
			// over 2ε, and ReLU kinks, bound what differences can show.
			if rep.dirErr > 3e-2 || rep.coordErr > 3e-2 {
				t.Errorf("gradient disagrees with finite differences: directional %.3g, coordinate %.3g (tolerance 3e-2)", rep.dirErr, rep.coordErr)
			}
		})
	}
}

// TestGradientZooLight builds and runs gradient graphs of the onnx/models
// "light" graphs (real architectures, constant weights): their scores reach
// 1e20, beyond what float32 differences can check, so only the build, the
// shapes and finite, non-zero gradients are checked.
func TestGradientZooLight(t *testing.T) {
	for _, file := range []string{"light_squeezenet.onnx", "light_inception_v1.onnx"} {
		t.Run(file, func(t *testing.T) {
			m := openModel(t, zoo(t, file), onnx.Options{Threads: 2})
			l, err := m.TargetLayer(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c, h, w := m.InputShape()
			x := randomInput(c*h*w, 3)
			res, err := m.Gradient(context.Background(), x, 1, onnx.GradRequest{Wrt: []string{m.Info().Inputs[0].Name, l.Tensor}})
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range res.Grads {
				var nonzero bool
				for _, v := range g.Data {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("gradient of %s has %v", g.Name, v)
					}
					nonzero = nonzero || v != 0
				}
				if !nonzero || len(g.Data) != len(res.Values[i].Data) {
					t.Errorf("gradient of %s: %d values, all zero %v; value has %d", g.Name, len(g.Data), !nonzero, len(res.Values[i].Data))
				}
			}
		})
	}
}

// TestGradientBatchSizes checks that a graph built from a probe at batch
// size 2 gives each sample of a batch of 3 the gradient it gets alone.
func TestGradientBatchSizes(t *testing.T) {
	ctx := context.Background()
	for _, file := range []string{"grad_ops.onnx", "grad_shape.onnx", "grad_conv.onnx", "grad_misc.onnx"} {
		t.Run(file, func(t *testing.T) {
			m := openModel(t, fixture("models", file), onnx.Options{Threads: 1})
			c, h, w := m.InputShape()
			per := c * h * w
			x := randomInput(3*per, 8)
			req := onnx.GradRequest{Objective: onnx.Probability, Classes: []int{0, 2, -1}, Wrt: []string{"x"}}
			all, err := m.Gradient(ctx, x, 3, req)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				one, err := m.Gradient(ctx, x[i*per:(i+1)*per], 1, onnx.GradRequest{Objective: onnx.Probability, Classes: []int{all.Classes[i]}, Wrt: []string{"x"}})
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(one.Grads[0].Data, all.Grads[0].Data[i*per:(i+1)*per]); d > 1e-6 {
					t.Errorf("sample %d: alone and in a batch of 3 differ by %g", i, d)
				}
			}
		})
	}
}

// TestGradientSiLUTarget checks that the fused SiLU rule steps aside when
// the sigmoid is itself a target: ∂f/∂σ must then be the partial
// derivative ∂f/∂y · x of y = x·σ, and ∂f/∂x must not change.
func TestGradientSiLUTarget(t *testing.T) {
	ctx := context.Background()
	m := openModel(t, fixture("models", "grad_silu.onnx"), onnx.Options{Threads: 1})
	c, h, w := m.InputShape()
	const n = 2
	x := randomInput(n*c*h*w, 31)
	fused, err := m.Gradient(ctx, x, n, onnx.GradRequest{Classes: []int{0, 2}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Gradient(ctx, x, n, onnx.GradRequest{Classes: []int{0, 2}, Wrt: []string{"x", "s1", "y1", "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	gx, gs, gy, c1 := res.Grads[0].Data, res.Grads[1].Data, res.Grads[2].Data, res.Values[3].Data
	if d, m := maxAbsDiff(gx, fused.Grads[0].Data), maxAbs(gx); d > 1e-5*m {
		t.Errorf("∂f/∂x with σ as a target differs from the fused rule's by %g (max |∂f/∂x| %g)", d, m)
	}
	for i := range gs {
		if want := gy[i] * c1[i]; math.Abs(float64(gs[i]-want)) > 1e-6*math.Abs(float64(want))+1e-9 {
			t.Fatalf("∂f/∂s1[%d] = %g, want ∂f/∂y1·c1 = %g", i, gs[i], want)
		}
	}
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}
