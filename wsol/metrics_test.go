package wsol

import (
	"errors"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/floats/scalar"
)

func constMap(w, h int, v float64) Map {
	m := Map{W: w, H: h, Pix: make([]float64, w*h)}
	for i := range m.Pix {
		m.Pix[i] = v
	}
	return m
}

// TestPxAPReference checks REFERENCE.md A.8: a perfect map gives 100 and a
// constant map gives 100 × the foreground fraction.
func TestPxAPReference(t *testing.T) {
	const w, h = 224, 224
	fgMask := &Mask{W: w, H: h, Pix: make([]uint8, w*h)}
	for i := range 43031 {
		fgMask.Pix[i] = MaskForeground
	}
	perfect := Map{W: w, H: h, Pix: make([]float64, w*h)}
	perfectIgn := Map{W: w, H: h, Pix: make([]float64, w*h)}
	ignoreMask := &Mask{W: w, H: h, Pix: make([]uint8, w*h)}
	for i := range perfect.Pix {
		if fgMask.Pix[i] == MaskForeground {
			perfect.Pix[i], perfectIgn.Pix[i] = 1, 1
			ignoreMask.Pix[i] = MaskForeground
		} else if i%3 == 0 {
			ignoreMask.Pix[i] = MaskIgnore
			perfectIgn.Pix[i] = float64(i % 2) // 0 or 1 on ignore pixels
		}
	}
	tests := []struct {
		name string
		m    Map
		mask *Mask
		want float64
	}{
		{"perfect", perfect, fgMask, 100},
		{"perfect_ignore", perfectIgn, ignoreMask, 100},
		{"constant_0.5", constMap(w, h, 0.5), fgMask, 100 * 43031.0 / 50176},
		{"constant_0", constMap(w, h, 0), fgMask, 100 * 43031.0 / 50176},
		{"constant_1", constMap(w, h, 1), fgMask, 100 * 43031.0 / 50176},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, iv := range []float64{0.001, 0.01} {
				r, err := Evaluate(Config{Interval: iv, Metrics: []Metric{PxAP}}, []Sample{{Map: tc.m, Mask: tc.mask}})
				if err != nil {
					t.Fatal(err)
				}
				if !scalar.EqualWithinAbsOrRel(r.PxAP, tc.want, 1e-12, 1e-12) {
					t.Errorf("PxAP(interval %v) = %v, want %v", iv, r.PxAP, tc.want)
				}
			}
		})
	}
	if got := math.Round(100*tests[2].want) / 100; got != 85.76 {
		t.Errorf("constant-map PxAP rounds to %v, want 85.76", got)
	}
}

func TestPxAPErrors(t *testing.T) {
	bg := &Mask{W: 2, H: 2, Pix: []uint8{0, 0, 0, 255}}
	_, err := Evaluate(Config{Metrics: []Metric{PxAP}}, []Sample{{Map: constMap(2, 2, 0.3), Mask: bg}})
	if !errors.Is(err, ErrNoForeground) {
		t.Errorf("Evaluate(no foreground) error = %v, want ErrNoForeground", err)
	}
	small := &Mask{W: 1, H: 2, Pix: []uint8{0, 1}}
	_, err = Evaluate(Config{}, []Sample{{Map: constMap(2, 2, 0.3), Mask: small}})
	if !errors.Is(err, ErrMapSize) {
		t.Errorf("Evaluate(mask of wrong size) error = %v, want ErrMapSize", err)
	}
}

// TestPxAPCurve checks a small hand-computed PR curve: scores 0.9 (fg),
// 0.6 (bg), 0.3 (fg), 0.1 (bg) at interval 0.5 fall in bins [0.5, 1) and
// [0, 0.5): tp = 1, fp = 1 at T = 0.5, then tp = 2, fp = 2 at T = 0:
// AP = 0.5·0.5 + 0.5·0.5 = 0.5.
func TestPxAPCurve(t *testing.T) {
	m := Map{W: 4, H: 1, Pix: []float64{0.9, 0.6, 0.3, 0.1}}
	mask := &Mask{W: 4, H: 1, Pix: []uint8{1, 0, 1, 0}}
	r, err := Evaluate(Config{Interval: 0.5, Metrics: []Metric{PxAP}}, []Sample{{Map: m, Mask: mask}})
	if err != nil {
		t.Fatal(err)
	}
	if r.PxAP != 50 {
		t.Errorf("PxAP = %v, want 50", r.PxAP)
	}
	want := []PRPoint{{0.5, 0.5, 0.5}, {0, 0.5, 1}}
	if diff := cmp.Diff(want, r.PR); diff != "" {
		t.Errorf("PR mismatch (-want +got):\n%s", diff)
	}
}

// TestBoxAccReference scores the unimodal reference map (A.4) against the
// ground truth [1,1,4,3]: the V1 boxes have IoU 1, 1, 0.75, 0.5, 1/3 at
// the five thresholds.
func TestBoxAccReference(t *testing.T) {
	s := Sample{Map: unimodal, Boxes: []image.Rectangle{ref(1, 1, 4, 3)}}
	r, err := Evaluate(Config{Interval: 0.2}, []Sample{s})
	if err != nil {
		t.Fatal(err)
	}
	wantV1 := map[int][]float64{
		30: {100, 100, 100, 100, 100},
		50: {100, 100, 100, 100, 0},
		70: {100, 100, 100, 0, 0},
	}
	for _, bc := range r.Box {
		if diff := cmp.Diff(wantV1[bc.IoU], bc.V1); diff != "" {
			t.Errorf("V1 curve at IoU %d mismatch (-want +got):\n%s", bc.IoU, diff)
		}
	}
	if r.MaxBoxAcc != 100 || r.MaxBoxAccThreshold != 0 || r.MaxBoxAccV2 != 100 {
		t.Errorf("MaxBoxAcc = %v at %v, V2 = %v; want 100 at 0, 100", r.MaxBoxAcc, r.MaxBoxAccThreshold, r.MaxBoxAccV2)
	}
}

// TestBoxAccMultipleGT checks that the best ground-truth box counts, and
// that V2 can beat V1 with a hole border or a smaller contour.
func TestBoxAccMultipleGT(t *testing.T) {
	// Multimodal at tau 0.2: V1 box [0,0,2,2], V2 boxes {[0,1,4,3], [0,0,2,2]}.
	s := Sample{Map: multimodal, Boxes: []image.Rectangle{ref(3, 3, 4, 3), ref(0, 1, 4, 3)}}
	r, err := Evaluate(Config{Interval: 0.2, IoUThresholds: []int{50, 100}}, []Sample{s})
	if err != nil {
		t.Fatal(err)
	}
	// At tau 0.2 (index 1): V1 best IoU = IoU([0,0,2,2],[0,1,4,3]) = 6/15.
	if got := r.Box[0].V1[1]; got != 0 {
		t.Errorf("V1 acc at IoU 50, tau 0.2 = %v, want 0", got)
	}
	if got := r.Box[1].V2[1]; got != 100 {
		t.Errorf("V2 acc at IoU 100, tau 0.2 = %v, want 100", got)
	}
}

func TestTopLoc(t *testing.T) {
	gt := []image.Rectangle{ref(1, 1, 4, 3)}
	samples := []Sample{
		{Map: unimodal, Boxes: gt, Label: 1, Pred: 1},  // IoU 1, correct class
		{Map: unimodal, Boxes: gt, Label: 1, Pred: 2},  // IoU 1, wrong class
		{Map: unimodal, Boxes: gt, Label: 1, Pred: -1}, // IoU 1, unknown class
		{Map: unimodal, Boxes: []image.Rectangle{ref(0, 0, 0, 0)}, Label: 0, Pred: 0},
	}
	r, err := Evaluate(Config{Metrics: []Metric{TopLoc}}, samples)
	if err != nil {
		t.Fatal(err)
	}
	if r.GTKnownLoc != 75 || r.Top1Loc != 25 || r.LocImages != 4 || r.PredImages != 3 {
		t.Errorf("TopLoc = GT-known %v, Top-1 %v over %d (%d predicted), want 75, 25 over 4 (3)",
			r.GTKnownLoc, r.Top1Loc, r.LocImages, r.PredImages)
	}
	// The threshold is strict: sigma = 0.6 gives box [2,2,4,3] with IoU
	// exactly 0.5, which is not > 0.5.
	r, err = Evaluate(Config{Metrics: []Metric{TopLoc}, Sigma: 0.6000000000000001}, samples[:1])
	if err != nil {
		t.Fatal(err)
	}
	if r.GTKnownLoc != 0 {
		t.Errorf("GT-known Loc at IoU exactly 0.5 = %v, want 0", r.GTKnownLoc)
	}
}

func TestNaNMaps(t *testing.T) {
	m := constMap(3, 3, 0.5)
	m.Pix[4] = math.NaN()
	s := Sample{Map: m, Boxes: []image.Rectangle{NoBox()}}
	r, err := Evaluate(Config{Interval: 0.2}, []Sample{s, s})
	if err != nil {
		t.Fatal(err)
	}
	// All-zero map: NoBox at every threshold, IoU 1 with the [0,0,0,0] box.
	if r.NaNMaps != 2 || r.MaxBoxAccV2 != 100 || r.Box[2].V1[4] != 100 {
		t.Errorf("NaN maps: NaNMaps %d, V2 %v; want 2, 100", r.NaNMaps, r.MaxBoxAccV2)
	}
	m.Pix[4] = 1.5
	if _, err := Evaluate(Config{}, []Sample{{Map: m}}); !errors.Is(err, ErrScoreRange) {
		t.Errorf("Evaluate(score 1.5) error = %v, want ErrScoreRange", err)
	}
	// The first bad score in raster order is named, with or without a mask
	// (also where the conversion stops at another one), and a NaN anywhere
	// wins over it.
	m.Pix[4] = 0.5
	m.Pix[2], m.Pix[3] = 1.5, -2
	mask := &Mask{W: m.W, H: m.H, Pix: make([]uint8, len(m.Pix))}
	mask.Pix[0] = MaskForeground
	for _, mk := range []*Mask{nil, mask} {
		_, err := Evaluate(Config{}, []Sample{{Map: m, Mask: mk}})
		if !errors.Is(err, ErrScoreRange) || !strings.Contains(err.Error(), "1.5") {
			t.Errorf("Evaluate(scores 1.5, -2; mask %v) error = %v, want ErrScoreRange naming 1.5", mk != nil, err)
		}
	}
	m.Pix[8] = math.NaN()
	if r, err := Evaluate(Config{}, []Sample{{Map: m, Mask: mask}}); err != nil || r.NaNMaps != 1 {
		t.Errorf("Evaluate(scores 1.5, -2, NaN) = %v NaN maps, error %v; want 1, nil", r.NaNMaps, err)
	}
	m.Pix[2], m.Pix[3], m.Pix[8] = 0.5, 0.5, 0.5
	m.Pix[4] = 0.5
	if _, err := Evaluate(Config{}, []Sample{{Map: m, Boxes: []image.Rectangle{ref(0, 0, 3, 0)}}}); !errors.Is(err, ErrBox) {
		t.Errorf("Evaluate(box outside map) error = %v, want ErrBox", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"interval", Config{Interval: 2}},
		{"tiny_interval", Config{Interval: 1e-9}},
		{"iou", Config{IoUThresholds: []int{101}}},
		{"v1_without_50", Config{IoUThresholds: []int{30}}},
		{"metric", Config{Metrics: []Metric{Metric(9)}}},
		{"sigma", Config{Sigma: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewAccumulator(tc.cfg); err == nil {
				t.Errorf("NewAccumulator(%+v) error = nil, want error", tc.cfg)
			}
		})
	}
	if _, err := NewAccumulator(Config{IoUThresholds: []int{30}, Metrics: []Metric{MaxBoxAccV2}}); err != nil {
		t.Errorf("NewAccumulator(V2 only, IoU 30) error = %v", err)
	}
}

// TestWorkersAndProgress checks that results do not depend on the number
// of workers and that progress reaches the total.
func TestWorkersAndProgress(t *testing.T) {
	samples := randomSamples(40, 20, 16)
	var ref Result
	for _, workers := range []int{1, 3, 8} {
		last := 0
		cfg := Config{Interval: 0.01, Workers: workers, Progress: func(done, total int) {
			if total != len(samples) || done != last+1 {
				t.Errorf("Progress(%d, %d) after %d", done, total, last)
			}
			last = done
		}}
		r, err := Evaluate(cfg, samples)
		if err != nil {
			t.Fatal(err)
		}
		if last != len(samples) {
			t.Errorf("Progress ended at %d, want %d", last, len(samples))
		}
		if workers == 1 {
			ref = r
		} else if diff := cmp.Diff(ref, r); diff != "" {
			t.Errorf("Workers %d changes the result:\n%s", workers, diff)
		}
	}
}

func TestPairwiseSum(t *testing.T) {
	// Values whose sum depends on the order: compare with numpy's
	// algorithm spelled out for n = 9 (one block: 8 accumulators, then the
	// rest) and with a plain sum for n < 8.
	a := []float64{1e16, 1, 1, 1, 1, 1, 1, 1, 1}
	want := (((1e16 + 1) + (1 + 1)) + ((1 + 1) + (1 + 1))) + 1
	if got := pairwiseSum(a); got != want {
		t.Errorf("pairwiseSum(%v) = %v, want %v", a, got, want)
	}
	x, y, z := 0.3, 0.2, 0.1
	if got := pairwiseSum([]float64{x, y, z}); got != (x+y)+z {
		t.Errorf("pairwiseSum(0.3, 0.2, 0.1) = %v, want %v", got, (x+y)+z)
	}
	big := make([]float64, 300)
	for i := range big {
		big[i] = 1 / float64(i+1)
	}
	// 300 -> 144 + 156 blocks.
	if got, want := pairwiseSum(big), pairwiseSum(big[:144])+pairwiseSum(big[144:]); got != want {
		t.Errorf("pairwiseSum(300) = %v, want %v", got, want)
	}
}

func TestMetricText(t *testing.T) {
	for _, m := range allMetrics() {
		b, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Metric
		if err := back.UnmarshalText(b); err != nil || back != m {
			t.Errorf("Metric %v round trip = %v, %v", m, back, err)
		}
	}
	if _, err := ParseMetric("IoU"); err == nil {
		t.Error("ParseMetric(IoU) error = nil")
	}
	if _, err := Metric(7).MarshalText(); err == nil {
		t.Error("Metric(7).MarshalText() error = nil")
	}
}
