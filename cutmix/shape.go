package cutmix

import "fmt"

// Shape is the shape of a float32 NCHW batch: N images of C channels, H
// rows and W columns, stored row-major with W varying fastest. A Shape is
// a plain value.
type Shape struct {
	N, C, H, W int
}

// String returns the shape as "NxCxHxW".
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%dx%d", s.N, s.C, s.H, s.W) }

// Len returns N·C·H·W.
func (s Shape) Len() int { return s.N * s.C * s.H * s.W }
