package wsol

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/cutmixcam/cutmix-cam/internal/resample"
	"github.com/google/go-cmp/cmp"
)

// randomSample draws a map of one of several kinds, boxes and a mask.
func randomSample(r *rand.Rand, w, h int) Sample {
	m := Map{W: w, H: h, Pix: make([]float64, w*h)}
	switch r.IntN(4) {
	case 0: // few levels: many ties, holes, thin parts
		lv := 2 + r.IntN(5)
		for i := range m.Pix {
			m.Pix[i] = float64(r.IntN(lv)) / float64(lv-1)
		}
	case 1: // uniform noise
		for i := range m.Pix {
			m.Pix[i] = r.Float64()
		}
	case 2: // smooth: bicubic upsampling of a coarse map, min-max normalised
		cw, ch := 2+r.IntN(4), 2+r.IntN(4)
		c := make([]float64, cw*ch)
		for i := range c {
			c[i] = r.NormFloat64()
		}
		resample.Cubic(m.Pix, w, h, c, cw, ch)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range m.Pix {
			lo, hi = min(lo, v), max(hi, v)
		}
		for i := range m.Pix {
			m.Pix[i] = (m.Pix[i] - lo) / (hi - lo)
		}
	case 3: // sparse blobs with exact u8 boundary values
		for i := range m.Pix {
			if r.IntN(4) == 0 {
				m.Pix[i] = float64(r.IntN(256)) / 255
			}
		}
	}
	s := Sample{Map: m, Label: r.IntN(3), Pred: r.IntN(4) - 1}
	for range 1 + r.IntN(3) {
		x0, y0 := r.IntN(w), r.IntN(h)
		x1, y1 := x0+r.IntN(w-x0), y0+r.IntN(h-y0)
		s.Boxes = append(s.Boxes, image.Rect(x0, y0, x1+1, y1+1))
	}
	mask := &Mask{W: w, H: h, Pix: make([]uint8, w*h)}
	for i := range mask.Pix {
		switch r.IntN(5) {
		case 0, 1:
			mask.Pix[i] = MaskForeground
		case 2:
			mask.Pix[i] = MaskIgnore
		}
	}
	s.Mask = mask
	return s
}

// TestFastMatchesOracle asserts that the single-pass evaluator gives
// exactly the per-threshold oracle's statistics.
func TestFastMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	intervals := []float64{0.001, 0.01, 0.05, 0.2, 0.3}
	for trial := range 60 {
		cfg, err := Config{Interval: intervals[trial%len(intervals)], Sigma: []float64{0.15, 0.5}[trial%2]}.norm()
		if err != nil {
			t.Fatal(err)
		}
		w, h := 1+r.IntN(24), 1+r.IntN(24)
		if trial%10 == 0 {
			w, h = 48, 40
		}
		var samples []Sample
		for range 4 {
			samples = append(samples, randomSample(r, w, h))
		}
		t.Run(fmt.Sprintf("%d_%dx%d_%v", trial, w, h, cfg.Interval), func(t *testing.T) {
			want := newStats(cfg)
			for _, s := range samples {
				oracleAdd(cfg, &want, s)
			}
			got := newStats(cfg)
			wk := newWorker(cfg)
			for _, s := range samples {
				if err := wk.add(&got, &s); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("single pass != oracle (-oracle +fast):\n%s", diff)
			}
		})
	}
}

// TestFastMatchesOracleCAM checks full-size CAM-like maps (bicubic
// upsampled, two peaks, noise) at the reference CLI grid.
func TestFastMatchesOracleCAM(t *testing.T) {
	cfg, err := Config{Interval: 0.01}.norm()
	if err != nil {
		t.Fatal(err)
	}
	want, got := newStats(cfg), newStats(cfg)
	w := newWorker(cfg)
	for i := range 3 {
		s := camLike(224, uint64(100+i))
		s.Boxes = append(s.Boxes, image.Rect(10, 150, 60, 220))
		oracleAdd(cfg, &want, s)
		if err := w.add(&got, &s); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("single pass != oracle on 224px maps (-oracle +fast):\n%s", diff)
	}
}

func randomSamples(n, w, h int) []Sample {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	s := make([]Sample, n)
	for i := range s {
		s[i] = randomSample(r, w, h)
		s[i].ID = fmt.Sprintf("img%03d.jpg", i)
	}
	return s
}

// TestEulerHoles checks the Euler-number hole counts that let the hole
// pass stop early against the holes the full pass finds, level by level.
func TestEulerHoles(t *testing.T) {
	cfg, err := Config{Interval: 0.01}.norm()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(cfg)
	w.noSkip = true
	withHoles := 0
	samples := append(randomSamples(200, 17, 13), randomSamples(20, 64, 48)...)
	samples = append(samples, camLike(224, 1), camLike(224, 2))
	for i, s := range samples {
		w.index(s.Map)
		w.fgPass(s.Map, s.Boxes)
		w.holePass(s.Map, s.Boxes)
		for v := 1; v < 256; v++ {
			if w.hist[v] == 0 {
				continue
			}
			if w.holes[v] != w.holesSeen[v] {
				t.Fatalf("sample %d, level %d: Euler gives %d holes, hole pass %d", i, v, w.holes[v], w.holesSeen[v])
			}
			if w.holes[v] > 0 {
				withHoles++
			}
		}
	}
	if withHoles == 0 {
		t.Error("no level with holes: the test checks nothing")
	}
}

func TestNeighbourTables(t *testing.T) {
	euler, reps := eulerTable(), repTable()
	tests := []struct {
		name  string
		mask  uint8
		dE    int32 // change of the Euler number (components - holes)
		nReps uint8
	}{
		{"isolated", 0, 1, 0},
		{"extends", nbW, 0, 1},
		{"N_and_E", nbN | nbE, 0, 1},
		{"bridges_diagonal", nbNW | nbSE, -1, 2},
		{"merges_or_closes_loop", nbW | nbE, -1, 2},
		{"N_E_S", nbN | nbE | nbS, 0, 1},
		{"fills_hole", 0xff, 1, 1},
		{"four_corners", nbNW | nbNE | nbSW | nbSE, -3, 4},
		{"U_closed", nbW | nbNW | nbN | nbNE | nbE, 0, 1},
		{"NE_SE", nbNE | nbSE, -1, 2},
	}
	for _, tc := range tests {
		if got := euler[tc.mask]; got != 4*tc.dE {
			t.Errorf("%s: eulerTable[%08b] = %d, want %d", tc.name, tc.mask, got, 4*tc.dE)
		}
		if got := reps[tc.mask].n; got != tc.nReps {
			t.Errorf("%s: repTable[%08b].n = %d, want %d", tc.name, tc.mask, got, tc.nReps)
		}
	}
}

// TestSwarGE checks the bytewise comparison on every pair of bytes, in
// every lane, next to lanes that would borrow.
func TestSwarGE(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			for lane := range 8 {
				// Other lanes hold values that would borrow or carry.
				x := uint64(0xff00ff0001ff00ff) &^ (0xff << (8 * lane))
				y := uint64(0x00ff01ff00ff0100) &^ (0xff << (8 * lane))
				x |= uint64(a) << (8 * lane)
				y |= uint64(b) << (8 * lane)
				got := swarGE(x, y) >> (8*lane + 7) & 1
				if want := a >= b; got != 0 != want {
					t.Fatalf("swarGE lane %d: %d >= %d = %v, want %v", lane, a, b, got != 0, want)
				}
			}
		}
	}
}

// TestMasks checks the neighbour masks against their definition: the
// neighbours that each pass adds before a pixel.
func TestMasks(t *testing.T) {
	cfg, err := Config{Interval: 0.01}.norm()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(cfg)
	r := rand.New(rand.NewPCG(3, 4))
	sizes := [][2]int{{1, 1}, {1, 9}, {9, 1}, {7, 3}, {8, 8}, {17, 5}, {33, 12}}
	for _, sz := range sizes {
		for range 5 {
			W, H := sz[0], sz[1]
			s := randomSample(r, W, H)
			w.index(s.Map)
			pw := W + 2
			// The masks each pixel was bucketed with, by padded index.
			fgOf, holeOf := map[int]uint8{}, map[int]uint8{}
			for _, e := range w.byXY[:W*H] {
				fgOf[int(uint32(e))], holeOf[int(uint32(e))] = uint8(e>>32), uint8(e>>40)&15
			}
			if len(fgOf) != W*H {
				t.Fatalf("%dx%d: %d distinct pixels bucketed, want %d", W, H, len(fgOf), W*H)
			}
			at := func(x, y int) (int, bool) { // value, and whether in the image
				if x < 0 || y < 0 || x >= W || y >= H {
					return 0, false
				}
				return int(w.u8[y*W+x]), true
			}
			for y := range H {
				for x := range W {
					c, _ := at(x, y)
					q := (y+1)*pw + x + 1
					var fg, hole uint8
					// packedNb order, then the hole mask's N, W, E, S.
					for i, d := range [8][2]int{{-1, -1}, {-1, 1}, {-1, 0}, {0, -1}, {0, 1}, {1, -1}, {1, 1}, {1, 0}} {
						v, ok := at(x+d[0], y+d[1])
						earlier := d[1] < 0 || (d[1] == 0 && d[0] < 0)
						if ok && (v > c || (v == c && earlier)) {
							fg |= 1 << i
						}
					}
					for i, d := range [4][2]int{{0, -1}, {-1, 0}, {1, 0}, {0, 1}} {
						v, ok := at(x+d[0], y+d[1])
						earlier := d[1] < 0 || (d[1] == 0 && d[0] < 0)
						if !ok || v < c || (v == c && earlier) {
							hole |= 1 << i
						}
					}
					// The foreground pass never adds pixels of value 0.
					if got := fgOf[q]; got != fg && c > 0 {
						t.Fatalf("%dx%d (%d,%d): fgMask = %08b, want %08b", W, H, x, y, got, fg)
					}
					if got := holeOf[q]; got != hole {
						t.Fatalf("%dx%d (%d,%d): holeMask = %04b, want %04b", W, H, x, y, got, hole)
					}
				}
			}
		}
	}
}

// binGrids are the threshold grids the bin tests use.
var binGrids = []float64{0.001, 0.01, 0.003, 0.1, 1.0 / 3, 0.7, 1, 0.0001}

// binProbes returns the PxAP edges of grid step, the index of its last
// tau, and scores in [0, 1] to bin: every edge up to 1, one ulp either
// side of each, and 1000 random ones.
func binProbes(r *rand.Rand, step float64) (edges []float64, top int, pix []float64) {
	edges = append(Thresholds(step), 1, 2, 3)
	top = len(edges) - 4
	for _, e := range edges[:top+2] {
		pix = append(pix, e, math.Nextafter(e, 0), math.Nextafter(e, 1))
	}
	for range 1000 {
		pix = append(pix, r.Float64())
	}
	for i := range pix {
		pix[i] = min(max(pix[i], 0), 1)
	}
	return edges, top, pix
}

// wantBin returns numpy.histogram's bin of s over edges: the largest k
// with edges[k] <= s.
func wantBin(edges []float64, s float64) int {
	return sort.SearchFloat64s(edges, math.Nextafter(s, 2)) - 1
}

// TestBinOf checks binOf against a search of the edges for several grids.
func TestBinOf(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, step := range binGrids {
		edges, top, pix := binProbes(r, step)
		for _, s := range pix {
			if got, want := binOf(s, 1/step, step, top), wantBin(edges, s); got != want {
				t.Fatalf("step %v: binOf(%v) = %d, want %d", step, s, got, want)
			}
		}
	}
}
