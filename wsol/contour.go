package wsol

import "image"

// Border following after Suzuki and Abe (1985) as implemented by OpenCV's
// cv::findContours with RETR_TREE and CHAIN_APPROX_SIMPLE: 8-connected
// foreground, outer and hole borders, the image surrounded by a frame of
// background, contours listed in OpenCV's order (pre-order walk of the
// contour tree whose children, and roots, are in reverse discovery order).

// Direction s in 0..7 is a step to one of the 8 neighbours, counter-clockwise
// on screen starting east (y grows downwards), as in OpenCV's chain codes.

// step returns the x and y offsets of direction s.
func step(s int) (int, int) {
	const xs, ys = "\x01\x01\x00\xff\xff\xff\x00\x01", "\x00\xff\xff\xff\x00\x01\x01\x01"
	return int(int8(xs[s])), int(int8(ys[s]))
}

// contour is one traced border.
type contour struct {
	pts    []image.Point // CHAIN_APPROX_SIMPLE vertices, image coordinates
	hole   bool
	parent int // index into the discovery list, -1 for the frame
	// bounding rectangle of pts, inclusive
	x0, y0, x1, y1 int
}

// area2 returns twice cv::contourArea(pts) (the absolute shoelace sum),
// exact in integers.
func area2(pts []image.Point) int64 {
	if len(pts) == 0 {
		return 0
	}
	var a int64
	prev := pts[len(pts)-1]
	for _, p := range pts {
		a += int64(prev.X)*int64(p.Y) - int64(prev.Y)*int64(p.X)
		prev = p
	}
	if a < 0 {
		a = -a
	}
	return a
}

// tracer finds contours of a binary map; it keeps scratch memory between
// calls and is not safe for concurrent use.
type tracer struct {
	img      []int32 // padded labels: 0 background, 1 unvisited, ±(k+2) contour k
	pw, ph   int
	delta    [16]int
	contours []contour
	children [][]int
	order    []int
	stack    []int
}

// trace finds the contours of the foreground {u8 > thr} inside the inclusive
// window [wx0, wx1] × [wy0, wy1] of a w-wide map; everything outside the
// window must be background. Results are in t.contours (discovery order) and
// t.order (OpenCV's output order).
func (t *tracer) trace(u8 []uint8, w int, thr int, wx0, wy0, wx1, wy1 int) {
	t.contours = t.contours[:0]
	t.order = t.order[:0]
	if wx1 < wx0 || wy1 < wy0 {
		return
	}
	pw, ph := wx1-wx0+3, wy1-wy0+3
	t.pw, t.ph = pw, ph
	if cap(t.img) < pw*ph {
		t.img = make([]int32, pw*ph)
	}
	img := t.img[:pw*ph]
	clear(img[:pw])
	clear(img[(ph-1)*pw:])
	for y := wy0; y <= wy1; y++ {
		row := img[(y-wy0+1)*pw : (y-wy0+2)*pw]
		row[0], row[pw-1] = 0, 0
		src := u8[y*w+wx0 : y*w+wx1+1]
		for i, v := range src {
			if int(v) > thr {
				row[i+1] = 1
			} else {
				row[i+1] = 0
			}
		}
	}
	for s := range 8 {
		dx, dy := step(s)
		t.delta[s] = dy*pw + dx
		t.delta[s+8] = t.delta[s]
	}
	for y := 1; y < ph-1; y++ {
		lnbd := 0
		prev := int32(0)
		row := y * pw
		for x := 1; x < pw-1; x++ {
			p := img[row+x]
			if p == prev {
				continue
			}
			hole := false
			start := false
			if prev == 0 && p == 1 {
				start = true
			} else if p == 0 && prev >= 1 {
				start, hole = true, true
				if prev >= 2 {
					lnbd = x - 1
				}
			}
			if !start {
				prev = p
				if p != 0 && p != 1 {
					lnbd = x
				}
				continue
			}
			parent := -1
			if lnbd > 0 {
				lab := img[row+lnbd]
				if lab < 0 {
					lab = -lab
				}
				c := int(lab) - 2
				if c >= 0 && c < len(t.contours) {
					parent = c
					if t.contours[c].hole == hole {
						parent = t.contours[c].parent
					}
				}
			}
			sx := x
			if hole {
				sx = x - 1
			}
			lnbd = sx
			t.fetch(sx, y, hole, parent, wx0-1, wy0-1)
			prev = img[row+x]
		}
	}
	t.sortOrder()
}

// fetch follows one border starting at padded (x, y) and appends it.
func (t *tracer) fetch(x, y int, hole bool, parent int, offX, offY int) {
	img := t.img
	label := int32(len(t.contours) + 2)
	i0 := y*t.pw + x
	s := 4
	if hole {
		s = 0
	}
	send := s
	var i1 int
	for {
		s = (s - 1) & 7
		i1 = i0 + t.delta[s]
		if img[i1] != 0 || s == send {
			break
		}
	}
	c := contour{hole: hole, parent: parent}
	if n := len(t.contours); n < cap(t.contours) {
		c.pts = t.contours[:n+1][n].pts[:0]
	}
	pt := image.Pt(x+offX, y+offY)
	if s == send && img[i1] == 0 {
		img[i0] = -label
		c.pts = append(c.pts, pt)
	} else {
		i3 := i0
		prevS := s ^ 4
		var i4 int
		for {
			send = s
			for s < 15 {
				s++
				i4 = i3 + t.delta[s]
				if img[i4] != 0 {
					break
				}
			}
			s &= 7
			if uint(s-1) < uint(send) {
				img[i3] = -label
			} else if img[i3] == 1 {
				img[i3] = label
			}
			if s != prevS {
				c.pts = append(c.pts, pt)
				prevS = s
			}
			dx, dy := step(s)
			pt.X += dx
			pt.Y += dy
			if i4 == i0 && i3 == i1 {
				break
			}
			i3 = i4
			s = (s + 4) & 7
		}
	}
	c.x0, c.y0 = c.pts[0].X, c.pts[0].Y
	c.x1, c.y1 = c.x0, c.y0
	for _, p := range c.pts[1:] {
		c.x0 = min(c.x0, p.X)
		c.y0 = min(c.y0, p.Y)
		c.x1 = max(c.x1, p.X)
		c.y1 = max(c.y1, p.Y)
	}
	t.contours = append(t.contours, c)
}

// sortOrder fills t.order with OpenCV's output order: a pre-order walk of
// the tree, each node's children (and the roots) newest first.
func (t *tracer) sortOrder() {
	n := len(t.contours)
	for len(t.children) < n+1 {
		t.children = append(t.children, nil)
	}
	for i := range n + 1 {
		t.children[i] = t.children[i][:0]
	}
	// children[0] holds the roots; children[k+1] those of contour k.
	for k, c := range t.contours {
		t.children[c.parent+1] = append(t.children[c.parent+1], k)
	}
	t.stack = t.stack[:0]
	// Push so that the newest child is popped first.
	t.stack = append(t.stack, t.children[0]...)
	for len(t.stack) > 0 {
		k := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.order = append(t.order, k)
		t.stack = append(t.stack, t.children[k+1]...)
	}
}

// largest returns the index (into t.contours) of the first contour in
// OpenCV's order with the largest contourArea, or -1 if there is none.
func (t *tracer) largest() int {
	best, bestA := -1, int64(-1)
	for _, k := range t.order {
		if a := area2(t.contours[k].pts); a > bestA {
			best, bestA = k, a
		}
	}
	return best
}
