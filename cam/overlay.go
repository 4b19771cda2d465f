package cam

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Style configures Overlay and Panel; it is a plain value. The zero value draws Turbo at
// alpha 0.5, resizes maps bilinearly and leaves no gap between panel
// cells.
type Style struct {
	// Colormap colours the map; the zero value is Turbo.
	Colormap Colormap
	// Alpha is the weight of the map colour in the overlay,
	// out = (1−Alpha)·image + Alpha·colour; 0 means 0.5 (the
	// pytorch-grad-cam default), values above 1 count as 1.
	Alpha float64
	// Interp resizes the map to the image; the zero value is Linear.
	Interp Interp
	// Gap is the white border, in pixels, between panel cells; 0 means
	// none.
	Gap int
}

func (s Style) alpha() float64 {
	if s.Alpha <= 0 {
		return 0.5
	}
	return min(s.Alpha, 1)
}

// fit returns m resized to w×h (if needed) and min-max normalised, as a
// new map.
func (s Style) fit(m Map, w, h int) Map {
	if m.W == w && m.H == h {
		return m.Normalized()
	}
	return m.Scoremap(w, h, s.Interp)
}

// toNRGBA returns img as an NRGBA image with origin (0, 0).
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

// Overlay returns img blended with the coloured map: m is resized to the
// image bounds with s.Interp (when its size differs), min-max normalised
// (see Normalize) and coloured with s.Colormap; each channel is
// round((1−α)·image + α·colour) and the result is opaque. The result has
// origin (0, 0); img and m are unchanged. Unlike pytorch-grad-cam's
// show_cam_on_image, the blend is not divided by its maximum.
func Overlay(img image.Image, m Map, s Style) *image.NRGBA {
	base := toNRGBA(img)
	w, h := base.Rect.Dx(), base.Rect.Dy()
	if w == 0 || h == 0 {
		return base
	}
	blend(base, base, s.fit(m, w, h), s)
	return base
}

// blend writes into dst the overlay of src (same size as mm) and the
// normalised map mm.
func blend(dst, src *image.NRGBA, mm Map, s Style) {
	a := s.alpha()
	for y := range mm.H {
		for x := range mm.W {
			p := src.NRGBAAt(x, y)
			c := s.Colormap.At(mm.V[y*mm.W+x])
			mix := func(u, v uint8) uint8 {
				return uint8(math.Round((1-a)*float64(u) + a*float64(v)))
			}
			dst.SetNRGBA(x, y, color.NRGBA{mix(p.R, c.R), mix(p.G, c.G), mix(p.B, c.B), 255})
		}
	}
}

// Panel returns a grid with one row per map and three cells per row: the
// image, the coloured map and the overlay (see Overlay), each the size of
// img, separated by s.Gap white pixels. Use it to compare several methods
// on one image. It returns the image alone for no maps.
func Panel(img image.Image, maps []Map, s Style) *image.NRGBA {
	base := toNRGBA(img)
	w, h := base.Rect.Dx(), base.Rect.Dy()
	if len(maps) == 0 || w == 0 || h == 0 {
		return base
	}
	g := max(s.Gap, 0)
	out := image.NewNRGBA(image.Rect(0, 0, 3*w+2*g, len(maps)*h+(len(maps)-1)*g))
	draw.Draw(out, out.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	cell := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, m := range maps {
		y0 := i * (h + g)
		mm := s.fit(m, w, h)
		draw.Draw(out, image.Rect(0, y0, w, y0+h), base, image.Point{}, draw.Src)
		draw.Draw(out, image.Rect(w+g, y0, 2*w+g, y0+h), Colorize(mm, s.Colormap), image.Point{}, draw.Src)
		blend(cell, base, mm, s)
		draw.Draw(out, image.Rect(2*(w+g), y0, 3*w+2*g, y0+h), cell, image.Point{}, draw.Src)
	}
	return out
}
