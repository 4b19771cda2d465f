//go:build !amd64 || purego

package wsol

// nbMasksRowFast reports that no vector kernel exists on this platform.
func nbMasksRowFast(pu []uint8, i, pw, n int, fg, ho []byte) bool { return false }

// scanFast reports that no vector kernel exists on this platform.
func scanFast(pix []float64, u8 []uint8, bins []int32, inv, step float64, top int) bool {
	return false
}

// addFgKernel reports that no assembly kernel exists on this platform.
func addFgKernel(px []uint64, lab, parent []int32, nodes []node, tab *[256]nbEntry) (int, int32) {
	return 0, 0
}

// addHoleKernel reports that no assembly kernel exists on this platform.
func addHoleKernel(px []uint64, lab, parent []int32, nodes []node, tab *[16]nbEntry) int {
	return 0
}
