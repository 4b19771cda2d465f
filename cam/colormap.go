package cam

import (
	"image"
	"image/color"
	"strings"
)

// Colormap maps a normalised value in [0, 1] to a colour. The zero value
// is Turbo.
//
//go:generate go tool stringer -type=Colormap -linecomment
type Colormap int

const (
	// Turbo is Google's Turbo (Mikhailov 2019), the default.
	Turbo Colormap = iota // turbo
	// Viridis is matplotlib's perceptually uniform viridis.
	Viridis // viridis
	// Jet is OpenCV's COLORMAP_JET, the MATLAB jet: piecewise linear
	// with knots at 1/8, 3/8, 5/8 and 7/8,
	//
	//	r = clamp(min(4x − 1.5, 4.5 − 4x)), g = clamp(min(4x − 0.5, 3.5 − 4x)),
	//	b = clamp(min(4x + 0.5, 2.5 − 4x)),
	//
	// from dark blue (0, 0, 128) to dark red (128, 0, 0), with x = i/255
	// for table index i and 255·r rounded half to even (exact arithmetic;
	// an entry may differ by 1 from OpenCV's float table). It is not
	// perceptually uniform; it is offered for comparison with
	// pytorch-grad-cam's show_cam_on_image.
	Jet // jet
)

// ParseColormap returns the colormap named "turbo" (or ""), "viridis" or
// "jet", the names String prints; case is ignored.
func ParseColormap(s string) (Colormap, bool) {
	switch strings.ToLower(s) {
	case "turbo", "":
		return Turbo, true
	case "viridis":
		return Viridis, true
	case "jet":
		return Jet, true
	}
	return Turbo, false
}

// At returns the colour of v as OpenCV's applyColorMap and
// pytorch-grad-cam's show_cam_on_image do: v is clamped to [0, 1] (NaN
// reads as 0), quantised to the index ⌊255·v⌋ and looked up in the
// colormap's 256-entry table, whose channels are round(255·c) of the
// published definition.
func (c Colormap) At(v float64) color.NRGBA {
	i := 0
	if v >= 1 {
		i = 255
	} else if v > 0 {
		i = int(255 * v)
	}
	switch c {
	case Viridis:
		return color.NRGBA{viridisLUT[3*i], viridisLUT[3*i+1], viridisLUT[3*i+2], 255}
	case Jet:
		// Exact in half units: 2·255·r = clamp(min(8i − 765, 2295 − 8i), 0, 510).
		ch := func(a, b int) uint8 {
			n := min(max(min(a, b), 0), 510)
			v := n / 2
			if n%2 == 1 && v%2 == 1 {
				v++ // round half to even, as cvRound
			}
			return uint8(v)
		}
		return color.NRGBA{ch(8*i-765, 2295-8*i), ch(8*i-255, 1785-8*i), ch(8*i+255, 1275-8*i), 255}
	}
	return color.NRGBA{turboLUT[3*i], turboLUT[3*i+1], turboLUT[3*i+2], 255}
}

// Colorize returns m drawn with the colormap, one pixel per map value,
// pixel (x, y) from m.At(x, y). m should already be normalised to [0, 1]
// (see Normalize); values outside are clamped.
func Colorize(m Map, c Colormap) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
	for y := range m.H {
		for x := range m.W {
			img.SetNRGBA(x, y, c.At(m.V[y*m.W+x]))
		}
	}
	return img
}
