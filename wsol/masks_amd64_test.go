//go:build amd64 && !purego

package wsol

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestMasksAVX2 checks the AVX2 mask kernel against the portable code on
// random padded rows of few and of many distinct values, at every length
// and alignment up to 70.
func TestMasksAVX2(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
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

// TestMasksPortable runs TestMasks on the portable mask code.
func TestMasksPortable(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	useAVX2 = false
	TestMasks(t)
}
