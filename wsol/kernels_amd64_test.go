//go:build amd64 && !purego

package wsol

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// TestMasksAVX2 checks the AVX2 mask kernel against the portable code on
// random padded rows of few and of many distinct values, at every length
// and alignment up to 70.
func TestMasksAVX2(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	defer func() { useAVX2 = true }()
	r := rand.New(rand.NewPCG(5, 6))
	for _, levels := range []int{2, 3, 256} {
		for w := 1; w <= 70; w++ {
			pw := w + 2
			pu := make([]uint8, pw*3+padSlack)
			for i := range pu {
				pu[i] = uint8(r.IntN(levels))
			}
			n32 := (w + 31) &^ 31
			var want, got [2][]byte
			for k := range 2 {
				want[k], got[k] = make([]byte, n32), make([]byte, n32)
			}
			useAVX2 = false
			nbMasksRow(pu, pw+1, pw, w, want[0], want[1])
			useAVX2 = true
			nbMasksRow(pu, pw+1, pw, w, got[0], got[1])
			if !bytes.Equal(want[0][:w], got[0][:w]) || !bytes.Equal(want[1][:w], got[1][:w]) {
				t.Fatalf("levels %d, width %d: AVX2 masks %v %v, portable %v %v", levels, w, got[0][:w], got[1][:w], want[0][:w], want[1][:w])
			}
		}
	}
}

// TestScanAVX2 checks the AVX2 score kernel: uint8 values, and PxAP bins
// against a search of the edges (binProbes); and that a bad score or a NaN
// anywhere makes it refuse.
func TestScanAVX2(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, step := range binGrids {
		edges, top, pix := binProbes(r, step)
		u8, bins := make([]uint8, len(pix)), make([]int32, len(pix))
		if !scanFast(pix, u8, bins, 1/step, step, top) {
			t.Fatalf("step %v: scanFast refused scores in [0, 1]", step)
		}
		for i, s := range pix {
			want := wantBin(edges, s)
			if int(bins[i]) != want || u8[i] != uint8(s*255) {
				t.Fatalf("step %v, score %v: bin %d, uint8 %d; want %d, %d", step, s, bins[i], u8[i], want, uint8(s*255))
			}
		}
		for _, bad := range []float64{math.NaN(), -0.0001, 1.0001, math.Inf(1)} {
			for _, at := range []int{0, 5, len(pix) - 1} {
				p := append([]float64(nil), pix...)
				p[at] = bad
				if scanFast(p, u8, bins, 1/step, step, top) {
					t.Fatalf("step %v: scanFast accepted %v at %d", step, bad, at)
				}
			}
		}
	}
}

// TestPortable runs the tests that go through the kernels with the
// portable code instead.
func TestPortable(t *testing.T) {
	defer func(a, k bool) { useAVX2, useKernels = a, k }(useAVX2, useKernels)
	useAVX2, useKernels = false, false
	t.Run("Masks", TestMasks)
	t.Run("NaNMaps", TestNaNMaps)
	t.Run("PxAPReference", TestPxAPReference)
	t.Run("FastMatchesOracle", TestFastMatchesOracle)
	t.Run("FastMatchesOracleCAM", TestFastMatchesOracleCAM)
}

// TestKernelLayouts checks the struct layouts that addFgFast reads.
func TestKernelLayouts(t *testing.T) {
	var n node
	var e nbEntry
	got := []uintptr{unsafe.Sizeof(n), unsafe.Offsetof(n.x0), unsafe.Offsetof(n.x1),
		unsafe.Offsetof(n.q0), unsafe.Offsetof(n.q1), unsafe.Offsetof(n.dirty),
		unsafe.Sizeof(e), unsafe.Offsetof(e.off), unsafe.Offsetof(e.n), unsafe.Offsetof(e.e4)}
	want := []uintptr{32, 4, 8, 12, 16, 20, 32, 0, 16, 20}
	if !slices.Equal(got, want) {
		t.Errorf("node and nbEntry sizes and offsets %v, addFgFast assumes %v", got, want)
	}
}

// TestKernelsMatchPortable scores maps larger than the fuzz targets reach
// (every kind randomSample draws, odd and even sizes up to 224×224, with
// masks) with and without the amd64 kernels, and wants the same
// statistics.
func TestKernelsMatchPortable(t *testing.T) {
	defer func(a, k bool) { useAVX2, useKernels = a, k }(useAVX2, useKernels)
	cfg, err := Config{Interval: 0.001}.norm()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	var samples []Sample
	for _, sz := range [][2]int{{3, 2}, {33, 17}, {64, 64}, {97, 130}, {130, 97}, {201, 3}} {
		for range 6 {
			samples = append(samples, randomSample(r, sz[0], sz[1]))
		}
	}
	samples = append(samples, benchSamples(224)[:3]...)
	for i := range samples {
		s := &samples[i]
		if s.Mask == nil {
			s.Mask = &Mask{W: s.Map.W, H: s.Map.H, Pix: make([]uint8, len(s.Map.Pix))}
			for k := range s.Mask.Pix {
				s.Mask.Pix[k] = uint8(k * 7 % 3)
			}
		}
	}
	run := func(fast bool) Stats {
		useAVX2, useKernels = fast && cpu.X86.HasAVX2, fast
		st := newStats(cfg)
		w := newWorker(cfg)
		for i := range samples {
			if err := w.add(&st, &samples[i]); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	if want, got := run(false), run(true); !reflect.DeepEqual(want, got) {
		t.Errorf("statistics with the kernels differ from the portable code's")
	}
}
