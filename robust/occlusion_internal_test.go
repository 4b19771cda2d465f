package robust

import (
	"image"
	"strings"
	"testing"
)

func TestHole(t *testing.T) {
	tests := []struct {
		w, h, k, steps int
		want           image.Rectangle
	}{
		{4, 4, 0, 4, image.Rect(2, 2, 2, 2)},
		{4, 4, 1, 4, image.Rect(1, 1, 2, 2)}, // (4−1)/2 = 1
		{4, 4, 2, 4, image.Rect(1, 1, 3, 3)},
		{4, 4, 3, 4, image.Rect(0, 0, 3, 3)},
		{4, 4, 4, 4, image.Rect(0, 0, 4, 4)},
		{224, 224, 1, 14, image.Rect(104, 104, 120, 120)},
		{32, 32, 7, 14, image.Rect(8, 8, 24, 24)},
		{32, 32, 1, 14, image.Rect(15, 15, 17, 17)}, // round(32/14 = 2.29) = 2
		{6, 4, 1, 2, image.Rect(1, 1, 4, 3)},        // 3×2 hole in 6×4
		{5, 5, 1, 2, image.Rect(1, 1, 4, 4)},        // round(2.5) = 3
	}
	for _, tc := range tests {
		if got := Hole(tc.w, tc.h, tc.k, tc.steps); got != tc.want {
			t.Errorf("Hole(%d, %d, %d, %d) = %v, want %v", tc.w, tc.h, tc.k, tc.steps, got, tc.want)
		}
	}
}

// grid renders one plane of a w-wide image: '#' for the fill value 9,
// '.' for source pixels (all 1).
func grid(p []float32, w int) string {
	var b strings.Builder
	for i, v := range p {
		if i > 0 && i%w == 0 {
			b.WriteByte('/')
		}
		switch v {
		case 9:
			b.WriteByte('#')
		case 1:
			b.WriteByte('.')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func TestOcclude(t *testing.T) {
	const w, h = 5, 4
	src := make([]float32, 2*w*h)
	for i := range src {
		src[i] = 1
	}
	tests := []struct {
		o    Occluder
		hole image.Rectangle
		want string
	}{
		{Center, image.Rect(1, 1, 3, 3), "...../.##../.##../....."},
		{Boundary, image.Rect(1, 1, 3, 3), "#####/#..##/#..##/#####"},
		{Center, image.Rect(0, 0, 0, 0), "...../...../...../....."},
		{Boundary, image.Rect(0, 0, 0, 0), "#####/#####/#####/#####"},
		{Center, image.Rect(0, 0, 5, 4), "#####/#####/#####/#####"},
		{Boundary, image.Rect(0, 0, 5, 4), "...../...../...../....."},
		{Center, Hole(w, h, 2, 4), "...../.###./.###./....."}, // round(2.5) = 3 by 2, at (1, 1)
	}
	for _, tc := range tests {
		dst := make([]float32, len(src))
		occlude(dst, src, 2, h, w, tc.hole, tc.o, []float32{9, 9})
		for c := range 2 {
			if got := grid(dst[c*w*h:(c+1)*w*h], w); got != tc.want {
				t.Errorf("occlude %v %v channel %d = %s, want %s", tc.o, tc.hole, c, got, tc.want)
			}
		}
	}
	// Per-channel fill values.
	dst := make([]float32, len(src))
	occlude(dst, src, 2, h, w, image.Rect(0, 0, 1, 1), Center, []float32{0.25, 0.75})
	if dst[0] != 0.25 || dst[w*h] != 0.75 || dst[1] != 1 {
		t.Errorf("per-channel fill: got %v, %v, %v, want 0.25, 0.75, 1", dst[0], dst[w*h], dst[1])
	}
}
