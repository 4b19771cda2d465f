package cam

import (
	"fmt"
	"testing"
)

// sizes are the benchmark input sizes and their ResNet-50 layer4 feature
// sizes (stride 32).
var benchSizes = []struct{ px, feat int }{{224, 7}, {512, 16}}

func BenchmarkCAMProjection(b *testing.B) {
	const c = 2048
	for _, sz := range benchSizes {
		hw := sz.feat * sz.feat
		a := pattern(c*hw, 1)
		wk := pattern(c, 2)
		dst := make([]float64, hw)
		b.Run(fmt.Sprintf("%dpx", sz.px), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				camMap(dst, a, wk, 0, c, hw)
			}
		})
	}
}

func BenchmarkGradCAMClosedForm(b *testing.B) {
	const c = 2048
	hd := Head{Weight: pattern(1000*c, 3), Classes: 1000, Channels: c}
	for _, sz := range benchSizes {
		hw := sz.feat * sz.feat
		a := pattern(c*hw, 1)
		g := make([]float32, c*hw)
		dst := make([]float64, hw)
		for _, m := range []struct {
			name string
			f    gradFunc
		}{{"gradcam", gradCAMMap}, {"gradcam++", gradCAMPPMap}, {"layercam", layerCAMMap}} {
			b.Run(fmt.Sprintf("%s/%dpx", m.name, sz.px), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					headGradient(g, hd, 7, hw)
					m.f(dst, a, g, c, sz.feat, sz.feat)
				}
			})
		}
	}
}

func BenchmarkEigenCAM(b *testing.B) {
	const c = 2048
	for _, sz := range benchSizes {
		hw := sz.feat * sz.feat
		a := pattern(c*hw, 1)
		dst := make([]float64, hw)
		b.Run(fmt.Sprintf("%dpx", sz.px), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				principal(dst, a, c, hw)
			}
		})
	}
}

func BenchmarkUpsample(b *testing.B) {
	for _, in := range []Interp{Linear, Cubic} {
		for _, sz := range benchSizes {
			src := Map{W: sz.feat, H: sz.feat, V: make([]float64, sz.feat*sz.feat)}
			for i := range src.V {
				src.V[i] = float64((i * 7) % 13)
			}
			dst := Map{W: sz.px, H: sz.px}
			b.Run(fmt.Sprintf("%v/%dpx", in, sz.px), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					Resize(&dst, src, in)
				}
			})
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, sz := range benchSizes {
		m := NewMap(sz.px, sz.px)
		b.Run(fmt.Sprintf("%dpx", sz.px), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range m.V {
					m.V[i] = float64(i % 97)
				}
				Normalize(m)
			}
		})
	}
}

func BenchmarkOverlay(b *testing.B) {
	for _, sz := range benchSizes {
		img := testImage(sz.px, sz.px)
		m := Map{W: sz.feat, H: sz.feat, V: make([]float64, sz.feat*sz.feat)}
		for i := range m.V {
			m.V[i] = float64(i % 5)
		}
		b.Run(fmt.Sprintf("%dpx", sz.px), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Overlay(img, m, Style{})
			}
		})
	}
}
