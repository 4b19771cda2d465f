//go:build amd64 && !purego

package wsol

import "golang.org/x/sys/cpu"

// useAVX2 says whether nbMasksRow and scanFast use their AVX2 kernels,
// and useKernels whether the foreground pass uses its (plain amd64)
// assembly; tests turn them off to check the portable code.
var (
	useAVX2    = cpu.X86.HasAVX2
	useKernels = true
)

// nbMasksRowAVX2 writes the masks of nbMasks for the pixels at p, p+1, …,
// 32 at a time until n are done, into fg and ho: p points into a padded
// quantized map with row width pw.
//
//go:noescape
func nbMasksRowAVX2(p *byte, pw, n int, fg, ho *byte)

// nbMasksRowFast does what nbMasksRow does with a vector kernel and
// reports whether one ran. The caller has checked the bounds.
func nbMasksRowFast(pu []uint8, i, pw, n int, fg, ho []byte) bool {
	if !useAVX2 || n <= 0 {
		return false
	}
	nbMasksRowAVX2(&pu[i], pw, n, &fg[0], &ho[0])
	return true
}

// scanAVX2 converts the n scores at pix (n a multiple of 4) into u8 and,
// with bins non-nil, into PxAP bins (see convert); it stops and returns
// false at a NaN or a score outside [0, 1].
//
//go:noescape
func scanAVX2(pix *float64, n int, u8 *byte, bins *int32, inv, step, top, one float64) bool

// scanFast does what convert does with the AVX2 kernel, and reports false
// also where there is none.
func scanFast(pix []float64, u8 []uint8, bins []int32, inv, step float64, top int) bool {
	n := len(pix)
	if !useAVX2 || n < 4 || len(u8) < n || (bins != nil && len(bins) < n) {
		return false
	}
	n4 := n &^ 3
	var bp *int32
	if bins != nil {
		bp = &bins[0]
	}
	if !scanAVX2(&pix[0], n4, &u8[0], bp, inv, step, float64(top), float64(top+1)) {
		return false
	}
	var tb []int32
	if bins != nil {
		tb = bins[n4:n]
	}
	return convert(pix[n4:], u8[n4:n], tb, inv, step, top)
}

// addFgFast is the common case of worker.addFg in assembly: it adds the
// pixels of px, in order, while each has one group of foreground
// neighbours, and returns how many it added and the change of 4×(Euler
// number). Every index it follows is one the passes wrote: a padded
// interior pixel plus a neighbour offset, or a label below worker.nl.
//
//go:noescape
func addFgFast(px *uint64, n int, lab, parent *int32, nodes *node, tab *nbEntry) (done int, e4 int32)

// addFgKernel runs addFgFast on px and reports what it added (see
// addFgFast).
func addFgKernel(px []uint64, lab, parent []int32, nodes []node, tab *[256]nbEntry) (int, int32) {
	if len(px) == 0 || !useKernels {
		return 0, 0
	}
	return addFgFast(&px[0], len(px), &lab[0], &parent[0], &nodes[0], &tab[0])
}

// addHoleFast is the common case of worker.addHole in assembly: it adds
// the pixels of px, in order, while each has added edge neighbours that
// all carry one label, and returns how many it added. Its indices are
// those of addFgFast.
//
//go:noescape
func addHoleFast(px *uint64, n int, lab, parent *int32, nodes *node, tab *nbEntry) (done int)

// addHoleKernel runs addHoleFast on px and returns how many pixels it
// added.
func addHoleKernel(px []uint64, lab, parent []int32, nodes []node, tab *[16]nbEntry) int {
	if len(px) == 0 || !useKernels {
		return 0
	}
	return addHoleFast(&px[0], len(px), &lab[0], &parent[0], &nodes[0], &tab[0])
}
