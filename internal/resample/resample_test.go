package resample

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// keys is an independent float64 Keys cubic kernel with a = -0.75.
func keys(t float64) float64 {
	const a = -0.75
	t = math.Abs(t)
	switch {
	case t <= 1:
		return (a+2)*t*t*t - (a+3)*t*t + 1
	case t < 2:
		return a*t*t*t - 5*a*t*t + 8*a*t - 4*a
	}
	return 0
}

func TestCubicWeights(t *testing.T) {
	tests := []struct {
		x    float32
		want [4]float64
	}{
		{0, [4]float64{0, 1, 0, 0}},
		{0.5, [4]float64{-0.09375, 0.59375, 0.59375, -0.09375}},
		{0.25, [4]float64{keys(1.25), keys(0.25), keys(0.75), keys(1.75)}},
		{0.75, [4]float64{keys(1.75), keys(0.75), keys(0.25), keys(1.25)}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.x), func(t *testing.T) {
			got := cubicWeights(tc.x)
			for k := range 4 {
				if math.Abs(float64(got[k])-tc.want[k]) > 1e-7 {
					t.Errorf("cubicWeights(%v)[%d] = %v, want %v", tc.x, k, got[k], tc.want[k])
				}
			}
		})
	}
}

// refCubic is a direct 2-D float64 evaluation of the same convention
// (half-pixel coordinate, replicate border, Keys a=-0.75).
func refCubic(src []float64, sw, sh, dw, dh int) []float64 {
	dst := make([]float64, dw*dh)
	for y := range dh {
		fy := (float64(y)+0.5)*float64(sh)/float64(dh) - 0.5
		iy := int(math.Floor(fy))
		for x := range dw {
			fx := (float64(x)+0.5)*float64(sw)/float64(dw) - 0.5
			ix := int(math.Floor(fx))
			var v float64
			for j := -1; j <= 2; j++ {
				for k := -1; k <= 2; k++ {
					v += keys(fy-float64(iy+j)) * keys(fx-float64(ix+k)) *
						src[clamp(iy+j, sh)*sw+clamp(ix+k, sw)]
				}
			}
			dst[y*dw+x] = v
		}
	}
	return dst
}

func pattern(w, h int) []float64 {
	s := make([]float64, w*h)
	for i := range s {
		s[i] = float64((i*7919)%101)/100 - 0.3
	}
	return s
}

func TestCubicAgainstDirect(t *testing.T) {
	tests := []struct{ sw, sh, dw, dh int }{
		{7, 7, 224, 224}, {14, 14, 224, 224}, {4, 3, 8, 12}, {2, 2, 4, 4},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%d_%dx%d", tc.sw, tc.sh, tc.dw, tc.dh), func(t *testing.T) {
			src := pattern(tc.sw, tc.sh)
			got := make([]float64, tc.dw*tc.dh)
			Cubic(got, tc.dw, tc.dh, src, tc.sw, tc.sh)
			want := refCubic(src, tc.sw, tc.sh, tc.dw, tc.dh)
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("Cubic()[%d] = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestCubicHandValues(t *testing.T) {
	// 2x1 -> 4x1: coordinates -0.25, 0.25, 0.75, 1.25 with replicate borders.
	src := []float64{0, 1}
	got := make([]float64, 4)
	Cubic(got, 4, 1, src, 2, 1)
	// x=0: frac 0.75 over taps {0,0,0,1}: weight of tap 1 is keys(1.25).
	// x=1: frac 0.25 over taps {0,0,1,1}: keys(0.75)+keys(1.75).
	want := []float64{keys(1.25), keys(0.75) + keys(1.75), keys(0.25) + keys(1.25), 1 - keys(1.25)}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-7 {
			t.Errorf("Cubic(2->4)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if want[0] != -0.10546875 {
		t.Errorf("keys(1.25) = %v, want -0.10546875", want[0])
	}
}

func TestProperties(t *testing.T) {
	resizers := map[string]func([]float64, int, int, []float64, int, int){
		"cubic": Cubic, "linear": Linear, "nearest": Nearest,
	}
	for name, f := range resizers {
		t.Run(name+"/identity", func(t *testing.T) {
			src := pattern(9, 5)
			got := make([]float64, len(src))
			f(got, 9, 5, src, 9, 5)
			for i := range src {
				if got[i] != src[i] {
					t.Fatalf("%s identity [%d] = %v, want %v", name, i, got[i], src[i])
				}
			}
		})
		for _, sz := range [][4]int{{7, 7, 224, 224}, {13, 5, 31, 17}, {30, 20, 7, 9}} {
			t.Run(fmt.Sprintf("%s/constant_%v", name, sz), func(t *testing.T) {
				src := make([]float64, sz[0]*sz[1])
				for i := range src {
					src[i] = 0.7
				}
				got := make([]float64, sz[2]*sz[3])
				f(got, sz[2], sz[3], src, sz[0], sz[1])
				for i := range got {
					if math.Abs(got[i]-0.7) > 1e-6 {
						t.Fatalf("%s constant [%d] = %v, want 0.7", name, i, got[i])
					}
				}
			})
		}
	}
}

func TestLinearHandValues(t *testing.T) {
	got := make([]float64, 4)
	Linear(got, 4, 1, []float64{0, 1}, 2, 1)
	want := []float64{0, 0.25, 0.75, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Linear(2->4)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestNearestIndex(t *testing.T) {
	tests := []struct{ d, in, out, want int }{
		{0, 375, 224, 0}, {1, 375, 224, 1}, {223, 375, 224, 373}, {100, 60, 224, 26},
		{223, 60, 224, 59}, {3, 2, 4, 1}, {1, 2, 4, 0}, {5, 500, 224, 11},
	}
	for _, tc := range tests {
		if got := NearestIndex(tc.d, tc.in, tc.out); got != tc.want {
			t.Errorf("NearestIndex(%d, %d, %d) = %d, want %d", tc.d, tc.in, tc.out, got, tc.want)
		}
	}
}

func BenchmarkCubic(b *testing.B) {
	for _, n := range []int{224, 512} {
		b.Run(fmt.Sprintf("%dpx", n), func(b *testing.B) {
			b.ReportAllocs()
			src := pattern(14, 14)
			dst := make([]float64, n*n)
			for b.Loop() {
				Cubic(dst, n, n, src, 14, 14)
			}
		})
	}
}

// TestOpenCV compares with cv2.resize (testdata/opencv_resize.json, made by
// testdata/gen_opencv_resize.py with OpenCV 4.6).
func TestOpenCV(t *testing.T) {
	b, err := os.ReadFile("testdata/opencv_resize.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			SW, SH, DW, DH         int
			Src                    []float64
			Idx                    []int
			Cubic, Linear, Nearest []float64
		}
		Nearest []struct {
			In, Out int
			Idx     []int
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 || len(g.Nearest) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Nearest {
		for d, want := range c.Idx {
			if got := NearestIndex(d, c.In, c.Out); got != want {
				t.Errorf("NearestIndex(%d, %d, %d) = %d, cv2 %d", d, c.In, c.Out, got, want)
			}
		}
	}
	for _, c := range g.Cases {
		for _, m := range []struct {
			name string
			f    func([]float64, int, int, []float64, int, int)
			want []float64
			// tol is 0 (bit-exact) except for INTER_LINEAR downscales by
			// exactly 2, which OpenCV computes as INTER_AREA.
			tol float64
		}{
			{"cubic", Cubic, c.Cubic, 0},
			{"linear", Linear, c.Linear, linearTol(c.SW, c.SH, c.DW, c.DH)},
			{"nearest", Nearest, c.Nearest, 0},
		} {
			t.Run(fmt.Sprintf("%s/%dx%d_%dx%d", m.name, c.SW, c.SH, c.DW, c.DH), func(t *testing.T) {
				got := make([]float64, c.DW*c.DH)
				m.f(got, c.DW, c.DH, c.Src, c.SW, c.SH)
				worst := 0.0
				for k, i := range c.Idx {
					worst = max(worst, math.Abs(got[i]-m.want[k]))
				}
				if worst > m.tol {
					t.Errorf("%s(%dx%d -> %dx%d): max |diff| from cv2.resize = %g, want <= %g", m.name, c.SW, c.SH, c.DW, c.DH, worst, m.tol)
				}
			})
		}
	}
}

func linearTol(sw, sh, dw, dh int) float64 {
	if sw == 2*dw && sh == 2*dh {
		return 1e-15
	}
	return 0
}
