//go:build amd64 && !purego

package wsol

import "golang.org/x/sys/cpu"

// useAVX2 says whether nbMasksRow uses the AVX2 kernel; tests turn it off
// to check the portable code.
var useAVX2 = cpu.X86.HasAVX2

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
