//go:build !amd64 || purego

package wsol

// nbMasksRowFast reports that no vector kernel exists on this platform.
func nbMasksRowFast(pu []uint8, i, pw, n int, fg, ho []byte) bool { return false }
