package wsol

import (
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ref converts the reference's inclusive [x0, y0, x1, y1] into a box.
func ref(x0, y0, x1, y1 int) image.Rectangle { return image.Rect(x0, y0, x1+1, y1+1) }

func mapOf(rows [][]float64) Map {
	m := Map{W: len(rows[0]), H: len(rows)}
	for _, r := range rows {
		m.Pix = append(m.Pix, r...)
	}
	return m
}

var (
	unimodal = mapOf([][]float64{
		{0, 0, 0, 0, 0},
		{0, .4, .4, .4, .6},
		{0, .4, 1, .8, .6},
		{0, .4, .4, .4, .6},
	})
	multimodal = mapOf([][]float64{
		{.4, 0, .2, .2, .2},
		{.4, .4, 0, .4, 0},
		{0, 0, 0, .4, 0},
		{1, .6, .8, .2, .2},
	})
	// evalTestTaus is np.arange(0, 1, 0.2) from the reference tests.
	evalTestTaus = []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8}
)

// TestBoxesReference checks the single-contour vectors of the reference's
// evaluation_test.EvalUtilTest (REFERENCE.md A.4).
func TestBoxesReference(t *testing.T) {
	tests := []struct {
		name string
		m    Map
		want []image.Rectangle
	}{
		{"unimodal", unimodal, []image.Rectangle{ref(1, 1, 4, 3), ref(1, 1, 4, 3), ref(2, 1, 4, 3), ref(2, 2, 4, 3), ref(2, 2, 3, 3)}},
		{"multimodal", multimodal, []image.Rectangle{ref(0, 0, 4, 3), ref(0, 0, 2, 2), ref(0, 3, 3, 3), ref(2, 3, 3, 3), ref(0, 3, 1, 3)}},
		{"zero", Map{W: 3, H: 3, Pix: make([]float64, 9)}, []image.Rectangle{NoBox(), NoBox(), NoBox(), NoBox(), NoBox()}},
	}
	for _, tc := range tests {
		for i, tau := range evalTestTaus {
			t.Run(fmt.Sprintf("%s/%v", tc.name, tau), func(t *testing.T) {
				got, err := Boxes(tc.m, tau, false)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]image.Rectangle{tc.want[i]}, got); diff != "" {
					t.Errorf("Boxes(%s, %v, false) mismatch (-want +got):\n%s", tc.name, tau, diff)
				}
			})
		}
	}
}

// TestBoxesMultiContour checks the V2 vectors (REFERENCE.md A.4): all
// contours, in OpenCV order, hole borders included.
func TestBoxesMultiContour(t *testing.T) {
	square := make([]float64, 7*7)
	for y := 1; y <= 5; y++ {
		for x := 1; x <= 5; x++ {
			square[y*7+x] = 1
		}
	}
	square[3*7+3] = 0
	tests := []struct {
		name string
		m    Map
		tau  float64
		want []image.Rectangle
	}{
		{"multimodal_0.2", multimodal, 0.2, []image.Rectangle{ref(0, 1, 4, 3), ref(0, 0, 2, 2)}},
		{"multimodal_0.6", multimodal, 0.6000000000000001, []image.Rectangle{ref(2, 3, 3, 3), ref(0, 3, 1, 3)}},
		{"square_with_hole", Map{W: 7, H: 7, Pix: square}, 0.5, []image.Rectangle{ref(1, 1, 6, 6), ref(2, 2, 5, 5)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Boxes(tc.m, tc.tau, true)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Boxes(%s, %v, true) mismatch (-want +got):\n%s", tc.name, tc.tau, diff)
			}
		})
	}
}

func TestBoxesNaN(t *testing.T) {
	m := Map{W: 3, H: 3, Pix: make([]float64, 9)}
	for i := range m.Pix {
		m.Pix[i] = math.NaN()
	}
	if _, err := Boxes(m, 0.5, false); err == nil {
		t.Error("Boxes(NaN map) error = nil, want ErrScoreRange")
	}
}

func TestContourArea(t *testing.T) {
	tests := []struct {
		name string
		rows [][]float64
		want []int64 // twice the area, OpenCV order
	}{
		{"pixel", [][]float64{{0, 0, 0}, {0, 1, 0}, {0, 0, 0}}, []int64{0}},
		{"line", [][]float64{{1, 1, 1, 1}}, []int64{0}},
		{"rect3x2", [][]float64{{1, 1, 1}, {1, 1, 1}}, []int64{4}},
		{"ring", [][]float64{{1, 1, 1}, {1, 0, 1}, {1, 1, 1}}, []int64{8, 4}},
		{"L", [][]float64{{1, 0}, {1, 1}}, []int64{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOf(tc.rows)
			u8 := make([]uint8, len(m.Pix))
			quantize(u8, m.Pix)
			var tr tracer
			tr.trace(u8, m.W, 0, 0, 0, m.W-1, m.H-1)
			var got []int64
			for _, k := range tr.order {
				got = append(got, area2(tr.contours[k].pts))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("contour areas mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIoUReference(t *testing.T) {
	tests := []struct {
		name string
		a, b image.Rectangle
		want float64
	}{
		{"8/27", ref(1, 2, 5, 6), ref(3, 1, 4, 5), 8.0 / 27},
		{"identical", ref(1, 2, 5, 6), ref(1, 2, 5, 6), 1},
		{"disjoint", ref(0, 0, 1, 1), ref(3, 3, 4, 4), 0},
		{"nobox", ref(0, 0, 0, 0), ref(0, 0, 0, 0), 1},
		{"style", image.Rect(0, 0, 2, 2), image.Rect(1, 1, 3, 3), 1.0 / 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IoU(tc.a, tc.b); got != tc.want {
				t.Errorf("IoU(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := IoU(tc.b, tc.a); got != tc.want {
				t.Errorf("IoU(%v, %v) = %v, want %v", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestScaleBox(t *testing.T) {
	tests := []struct {
		b        image.Rectangle
		from, to image.Point
		want     image.Rectangle
	}{
		{ref(1, 2, 4, 3), image.Pt(10, 20), image.Pt(35, 10), ref(3, 1, 14, 1)},
		{ref(176, 136, 459, 291), image.Pt(560, 419), image.Pt(224, 224), ref(70, 72, 183, 155)},
		// (55*224)/110 = 112 exactly, while 55*(224/110) = 111.99999999999999.
		{ref(55, 0, 55, 0), image.Pt(110, 110), image.Pt(224, 224), ref(112, 0, 112, 0)},
	}
	for _, tc := range tests {
		if got := ScaleBox(tc.b, tc.from, tc.to); got != tc.want {
			t.Errorf("ScaleBox(%v, %v, %v) = %v, want %v", inclusive(tc.b), tc.from, tc.to, inclusive(got), inclusive(tc.want))
		}
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		interval float64
		n        int
		at       int
		want     float64
	}{
		{0.001, 1000, 999, 0.999},
		{0.01, 100, 3, 0.03},
		{0.2, 5, 3, 0.6000000000000001},
		{0.3, 4, 3, 0.8999999999999999},
	}
	for _, tc := range tests {
		got := Thresholds(tc.interval)
		if len(got) != tc.n || got[tc.at] != tc.want {
			t.Errorf("Thresholds(%v): len %d, [%d] = %v; want len %d, %v", tc.interval, len(got), tc.at, got[tc.at], tc.n, tc.want)
		}
	}
	if Thresholds(0) != nil || Thresholds(-1) != nil {
		t.Error("Thresholds(<=0) != nil")
	}
}
