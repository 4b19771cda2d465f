package wsol

import (
	"encoding/binary"
	"fmt"
	"image"
	"math"
)

// Mask labels of a Mask's pixels.
const (
	MaskBackground uint8 = 0
	MaskForeground uint8 = 1
	MaskIgnore     uint8 = 255
)

// Mask is a pixel ground truth for PxAP: Pix[y*W+x] is MaskForeground,
// MaskBackground or MaskIgnore; any other value is treated as ignore.
// Like Map, a Mask is plain data, read but never written by this package.
type Mask struct {
	W, H int
	Pix  []uint8
}

// Sample is one image to score.
// A Sample is plain data; the metrics do not modify it or what it points to.
type Sample struct {
	// ID names the image (the reference's image_id); used in errors.
	ID string
	// Map is the score map, already resized to the evaluation size and
	// min-max normalised to [0, 1]. A map holding any NaN counts as
	// all-zero (the reference's normalize_scoremap) and is counted in
	// Result.NaNMaps.
	Map Map
	// Boxes are the ground-truth boxes in map pixels (exclusive Max, see
	// IoU), e.g. from ScaleBox. Box metrics skip images without boxes.
	Boxes []image.Rectangle
	// Mask is the pixel ground truth for PxAP; nil skips PxAP.
	Mask *Mask
	// Label is the ground-truth class and Pred the classifier's top-1
	// class, used by Top-1 Loc only. A negative Pred means unknown: the
	// image then counts for GT-known Loc but not for Top-1 Loc.
	Label, Pred int
}

// worker holds the per-goroutine scratch memory of the single-pass
// evaluator. It is not safe for concurrent use.
type worker struct {
	cfg  Config
	taus []float64
	// nb is the number of PxAP bins: one per tau, then [1, 2) and [2, 3]
	// (numpy.histogram over the edges taus, 1, 2, 3).
	nb  int
	inv float64 // 1/Interval, a first guess of the bin

	zero []float64
	u8   []uint8
	hist [256]int
	// histTop is the histogram of the top H/2 rows alone (sortPixels).
	histTop [256]int32
	// rowMasks holds the neighbour masks of two rows (sortPixels).
	rowMasks []byte
	// bins holds the PxAP bin of every pixel (scan).
	bins  []int32
	start [257]int32
	// Each pixel, by value (raster order within a value): its padded
	// index, its foreground neighbour mask<<32 and hole neighbour
	// mask<<40 (nbMasks), and x<<48, so that the passes read their masks
	// without a look-up.
	byXY []uint64
	next [256]int // smallest present value > thr, 256 if none

	// Union-find over set labels. Over the map padded by one pixel
	// (pw = W+2), lab holds the label a pixel got when it was added (its
	// set's, or one merged into it since; refreshed to the root when read).
	// parent and nodes are indexed by label, so the union-find and the set
	// data stay small and compact. The hole pass reserves label 0 for the
	// outside.
	pw     int
	lab    []int32
	parent []int32
	nodes  []node
	nl     int32 // labels in use
	live   []int32

	// The padded quantized map (padding 0, plus padSlack bytes for whole-
	// word loads);
	// for MaxBoxAcc also its neighbour offsets, and per key the border
	// start pixels (padded indices) of the outer borders (fgStart) and
	// hole borders (holeStart) of {u8 >= key}.
	pu8       []uint8
	delta     [16]int32
	fgStart   []int32
	fgOff     [257][2]int32
	fgWin     [257][4]int32 // bounding box of {u8 >= key}
	holeStart []int32
	holeOff   [257][2]int32

	// holes[v] is the number of holes of {u8 >= v} by the Euler number
	// (8-connected components minus 4-connected holes, from 2×2 bit quads);
	// the hole pass stops after the last level with a hole, and puts the
	// pixels of a level after which there is no hole straight into the
	// outside. noSkip (tests)
	// runs it fully and records the hole counts it sees in holesSeen.
	euler     [256]int32   // eulerTable(), indexed by a packed neighbourhood (packedNb)
	fgReps    [256]reps    // repTable(), indexed likewise
	fgNb      [256]nbEntry // both, with padded offsets for row width nbPW
	holeNb    [16]nbEntry  // the edge neighbours (bits N, W, E, S), likewise
	nbPW      int
	holes     [257]int32
	holesSeen [257]int32
	noSkip    bool

	// px holds the PxAP histograms of one image, nb bins each, by stream (the top or the bottom half of
	// the map, see scan) and label: at (stream*3 + min(label, 2))*nb, so
	// that MaskBackground and MaskForeground have their rows and every
	// other label falls in a third, ignored one without a branch.
	px []int32

	fgIoU   [257]float64
	holeIoU [257]float64
	v1IoU   [257]float64
	v1Done  [257]bool

	tr tracer
}

func newWorker(cfg Config) *worker {
	taus := Thresholds(cfg.Interval)
	w := &worker{cfg: cfg, taus: taus, nb: len(taus) + 2, inv: 1 / cfg.Interval}
	euler, reps := eulerTable(), repTable()
	for p := range 256 {
		nb := packedNb(uint32(p))
		w.euler[p], w.fgReps[p] = euler[nb], reps[nb]
	}
	return w
}

// packedNb converts a packed 8-neighbourhood, as nbMasks writes it (bits
// 0-7: NW, SW, W, N, S, NE, SE, E), into a neighbour-bit mask (nbN...).
func packedNb(p uint32) uint8 {
	var nb uint8
	for i, bit := range [8]uint8{nbNW, nbSW, nbW, nbN, nbS, nbNE, nbSE, nbE} {
		if p>>i&1 != 0 {
			nb |= bit
		}
	}
	return nb
}

// swarGE returns, in the top bit of each byte, whether that byte of a is at
// least that byte of b (unsigned); the other bits are 0.
func swarGE(a, b uint64) uint64 {
	const h = 0x8080808080808080
	// Per byte: the top bit of d says low7(a) >= low7(b), with no borrow
	// across bytes; the top bits of a and b decide when they differ.
	d := (a | h) - (b &^ h)
	return (a&^b | ^(a^b)&d) & h
}

// nbMasks returns, for each of the 8 pixels of the padded quantized map pu
// from padded index i on (a byte each), which of its neighbours the
// passes add before it: the foreground pass adds pixels by
// decreasing value, the hole pass by increasing value, both in raster
// order within a value. fg gets all 8 neighbours as packedNb reads them;
// ho the edge neighbours (bits 0-3: N, W, E, S). N and W padding is in ho
// by the comparison; the caller adds E and S padding, which the hole pass
// puts in the outside from the start. (The padding, 0 in pu, counts as
// added in the fg of pixels of value 0, which the foreground pass never
// adds.)
func nbMasks(pu []uint8, i, pw int) (fg, ho uint64) {
	const h = 0x8080808080808080
	le := binary.LittleEndian
	// The rows above, at and below the pixels, from one column left.
	up, mid, dn := pu[i-pw-1:][:10], pu[i-1:][:10], pu[i+pw-1:][:10]
	c := le.Uint64(mid[1:])
	n, s := le.Uint64(up[1:]), le.Uint64(dn[1:])
	we, e := le.Uint64(mid[0:]), le.Uint64(mid[2:])
	// Earlier in raster order (NW, N, NE, W): added before if at least as
	// high (low) as the pixel; later ones if higher (lower).
	fg = swarGE(le.Uint64(up[0:]), c)>>7 |
		(swarGE(c, le.Uint64(dn[0:]))^h)>>6 |
		swarGE(we, c)>>5 | swarGE(n, c)>>4 |
		(swarGE(c, s)^h)>>3 |
		swarGE(le.Uint64(up[2:]), c)>>2 |
		(swarGE(c, le.Uint64(dn[2:]))^h)>>1 |
		(swarGE(c, e) ^ h)
	ho = swarGE(c, n)>>7 | swarGE(c, we)>>6 |
		(swarGE(e, c)^h)>>5 | (swarGE(s, c)^h)>>4
	return fg, ho
}

// padSlack is the zero bytes kept after the padded quantized map, for
// the whole-word loads of nbMasks and nbMasksRow.
const padSlack = 64

// nbMasksRow writes into fg[:n] and ho[:n] the masks (nbMasks) of the n
// pixels from padded index i on, with a vector kernel where there is one.
// fg and ho hold n rounded up to 32 bytes.
func nbMasksRow(pu []uint8, i, pw, n int, fg, ho []byte) {
	n32 := (n + 31) &^ 31
	if i-pw-1 < 0 || i+pw+n32+1 > len(pu) || len(fg) < n32 || len(ho) < n32 {
		panic("wsol: mask row out of bounds (internal error)")
	}
	if nbMasksRowFast(pu, i, pw, n, fg, ho) {
		return
	}
	le := binary.LittleEndian
	for x := 0; x < n; x += 8 {
		f, h := nbMasks(pu, i+x, pw)
		le.PutUint64(fg[x:], f)
		le.PutUint64(ho[x:], h)
	}
}

// nbEntry is what the foreground pass needs of a packed 8-neighbourhood:
// the padded offsets of one representative per group of foreground
// neighbours (repTable), their number, and the change of 4×(Euler number)
// (eulerTable).
type nbEntry struct {
	off [4]int32
	n   int32
	e4  int32
	_   [2]int32 // 32 bytes, so that addFgFast finds an entry by a shift
}

// maxSide bounds a map's width and height (pixel indices are int32 and
// coordinates pack into 16 bits).
const maxSide = 1 << 15

// prepare validates s and replaces a NaN map by zeros. It returns the map
// to use and whether it held a NaN.
func (w *worker) prepare(s *Sample) (Map, bool, error) {
	m := s.Map
	if m.W <= 0 || m.H <= 0 || m.W > maxSide || m.H > maxSide || len(m.Pix) != m.W*m.H {
		return m, false, fmt.Errorf("image %q: %w: map %dx%d with %d scores", s.ID, ErrMapSize, m.W, m.H, len(m.Pix))
	}
	for _, b := range s.Boxes {
		if err := checkBox(b, image.Pt(m.W, m.H)); err != nil {
			return m, false, fmt.Errorf("image %q: %w", s.ID, err)
		}
	}
	if s.Mask != nil && (s.Mask.W != m.W || s.Mask.H != m.H || len(s.Mask.Pix) != m.W*m.H) {
		return m, false, fmt.Errorf("image %q: %w: mask %dx%d, map %dx%d", s.ID, ErrMapSize, s.Mask.W, s.Mask.H, m.W, m.H)
	}
	var mask *Mask
	if w.cfg.has(PxAP) {
		mask = s.Mask
	}
	nan, bad := w.scan(m, mask)
	if nan {
		if len(w.zero) < len(m.Pix) {
			w.zero = make([]float64, len(m.Pix))
		}
		m.Pix = w.zero[:len(m.Pix)]
		w.scan(m, mask)
	} else if bad == bad {
		return m, false, fmt.Errorf("image %q: %w: %v", s.ID, ErrScoreRange, bad)
	}
	return m, nan, nil
}

// add scores one sample into st with the single-pass evaluator.
func (w *worker) add(st *Stats, s *Sample) error {
	m, nan, err := w.prepare(s)
	if err != nil {
		return err
	}
	st.Images++
	if nan {
		st.NaNMaps++
	}
	boxes := len(s.Boxes) > 0 && (w.cfg.has(MaxBoxAcc) || w.cfg.has(MaxBoxAccV2) || w.cfg.has(TopLoc))
	if boxes {
		w.sortPixels(m)
		w.boxes(st, m, s)
	}
	if s.Mask != nil && w.cfg.has(PxAP) {
		st.MaskImages++
		nb := len(st.FgHist)
		for k := range nb {
			st.BgHist[k] += int64(w.px[k] + w.px[3*nb+k])
			st.FgHist[k] += int64(w.px[nb+k] + w.px[4*nb+k])
		}
	}
	return nil
}

// index quantizes m and buckets its pixels by value.
func (w *worker) index(m Map) {
	w.scan(m, nil)
	w.sortPixels(m)
}

// scan writes the uint8 map of m into w.u8 and its histogram into w.hist
// and, with a non-nil mask of m's size, the PxAP histograms of the image
// into w.px (see worker). It reports whether m holds a NaN and its first
// score outside [0, 1] (NaN if none); with either, the outputs are
// meaningless. The scores are converted once, to uint8 values and, with a
// mask, to PxAP bins (by a vector kernel where there is one), and then
// counted.
func (w *worker) scan(m Map, mask *Mask) (nan bool, bad float64) {
	n := len(m.Pix)
	if cap(w.u8) < n {
		w.u8 = make([]uint8, n)
		w.byXY = make([]uint64, n)
		w.parent = make([]int32, n+1)
		w.nodes = make([]node, n+1)
	}
	pix, u8 := m.Pix[:n], w.u8[:n]
	var bins []int32
	if mask != nil {
		if cap(w.bins) < n {
			w.bins = make([]int32, n)
		}
		bins = w.bins[:n]
	}
	top := w.nb - 3 // the last tau's bin
	if !(scanFast(pix, u8, bins, w.inv, w.cfg.Interval, top) || convert(pix, u8, bins, w.inv, w.cfg.Interval, top)) {
		// A NaN anywhere wins; else the first bad score in raster order.
		bad = math.NaN()
		for _, s := range pix {
			if s != s {
				return true, bad
			}
			if !(s >= 0 && s <= 1) && bad != bad {
				bad = s
			}
		}
		return false, bad
	}
	w.count(m, u8, bins, mask)
	return false, math.NaN()
}

// convert writes u8[i] = uint8(pix[i]*255) and, with bins non-nil,
// bins[i] = binOf(pix[i]), and reports false, with the outputs
// meaningless, at a score that is NaN or outside [0, 1]. scanFast does the
// same with a vector kernel.
func convert(pix []float64, u8 []uint8, bins []int32, inv, step float64, top int) bool {
	u8 = u8[:len(pix)]
	for i, s := range pix {
		if !(s >= 0 && s <= 1) {
			return false
		}
		u8[i] = uint8(s * 255)
	}
	if bins != nil {
		bins = bins[:len(pix)]
		for i, s := range pix {
			bins[i] = int32(binOf(s, inv, step, top))
		}
	}
	return true
}

// count writes the histogram of u8 into w.hist and, with a mask, the PxAP
// histograms of bins into w.px. The top H/2 rows and the rest are counted
// as two interleaved streams with histograms of their own (the top one is
// kept in w.histTop for sortPixels), so that neighbours with one value do
// not wait on each other's count.
func (w *worker) count(m Map, u8 []uint8, bins []int32, mask *Mask) {
	n := len(u8)
	var h [2][256]int32
	split := m.H / 2 * m.W
	if mask == nil {
		for i := range split {
			h[0][u8[i]]++
			h[1][u8[i+split]]++
		}
	} else {
		nb := w.nb
		px := w.pxRows()
		lab := mask.Pix[:n]
		for i := range split {
			h[0][u8[i]]++
			h[1][u8[i+split]]++
			px[int(min(lab[i], 2))*nb+int(bins[i])]++
			px[(3+int(min(lab[i+split], 2)))*nb+int(bins[i+split])]++
		}
		for i := 2 * split; i < n; i++ {
			px[(3+int(min(lab[i], 2)))*nb+int(bins[i])]++
		}
	}
	for i := 2 * split; i < n; i++ {
		h[1][u8[i]]++
	}
	w.histTop = h[0]
	for v := range w.hist {
		w.hist[v] = int(h[0][v] + h[1][v])
	}
}

// pxRows returns w.px cleared (see worker).
func (w *worker) pxRows() []int32 {
	if len(w.px) != 6*w.nb {
		w.px = make([]int32, 6*w.nb)
	}
	clear(w.px)
	return w.px
}

// binOf returns the PxAP bin of a score s in [0, 1] over the edges k*step
// (k <= top), then 1: the largest k with k*step <= s, and top+1 for s = 1.
// inv is 1/step. The edges are the taus, so this is numpy.histogram's bin
// over them, computed without them.
func binOf(s, inv, step float64, top int) int {
	if s >= 1 {
		return top + 1
	}
	k := min(int(s*inv), top)
	for k < top && float64(k+1)*step <= s {
		k++
	}
	for k > 0 && float64(k)*step > s {
		k--
	}
	return k
}

// sortPixels pads the quantized map and buckets its pixels by value,
// each with its neighbour masks (nbMasks). The top and bottom halves of the
// map fill their buckets as two interleaved streams (from histTop), so
// that neighbours with one value do not wait on each other's slot.
func (w *worker) sortPixels(m Map) {
	W, H := m.W, m.H
	n := len(m.Pix)
	np := (W+2)*(H+2) + 1
	if cap(w.lab) < np {
		w.lab = make([]int32, np)
		w.pu8 = make([]uint8, np+padSlack)
	}
	w.pw = W + 2
	pw := w.pw
	u8 := w.u8[:n]
	var acc int32
	for v := range 256 {
		w.start[v] = acc
		acc += int32(w.hist[v])
	}
	w.start[256] = acc
	pu := w.pu8[:np+padSlack]
	clear(pu)
	for y := range H {
		copy(pu[(y+1)*pw+1:], u8[y*W:(y+1)*W])
	}
	w.neighbours()
	var top, bot [256]int32
	for v := range 256 {
		top[v] = w.start[v]
		bot[v] = w.start[v] + w.histTop[v]
	}
	byXY := w.byXY[:n]
	n32 := (W + 31) &^ 31
	if len(w.rowMasks) < 4*n32 {
		w.rowMasks = make([]byte, 4*n32)
	}
	rm := w.rowMasks
	fa, ha, fb, hb := rm[:n32], rm[n32:2*n32], rm[2*n32:3*n32], rm[3*n32:4*n32]
	// E padding for the last pixel of a row, S padding for the last row.
	const eBit, sBit = 4, 8
	half := H / 2
	for y := range H - half {
		ra, rb := (y+1)*pw+1, (y+half+1)*pw+1
		nbMasksRow(pu, rb, pw, W, fb, hb)
		hb[W-1] |= eBit
		if y+half == H-1 {
			for x := range W {
				hb[x] |= sBit
			}
		}
		if y == half { // the bottom half's extra row of an odd H
			for x := range W {
				k := bot[pu[rb+x]]
				bot[pu[rb+x]]++
				byXY[k] = entry(rb, x, fb[x], hb[x])
			}
			continue
		}
		nbMasksRow(pu, ra, pw, W, fa, ha)
		ha[W-1] |= eBit
		for x := range W {
			ca, cb := pu[ra+x], pu[rb+x]
			k := top[ca]
			top[ca]++
			byXY[k] = entry(ra, x, fa[x], ha[x])
			k = bot[cb]
			bot[cb]++
			byXY[k] = entry(rb, x, fb[x], hb[x])
		}
	}
	nx := 256
	for thr := 255; thr >= 0; thr-- {
		w.next[thr] = nx
		if w.hist[thr] > 0 {
			nx = thr
		}
	}
}

// entry packs the byXY entry of the pixel in column x of the padded row
// starting at padded index row, with its masks (see worker.byXY).
func entry(row, x int, fg, ho uint8) uint64 {
	return uint64(row+x) | uint64(fg)<<32 | uint64(ho)<<40 | uint64(x)<<48
}

// neighbours sets the padded offsets that depend on the row width pw.
func (w *worker) neighbours() {
	for k := range 8 {
		dx, dy := step(k)
		w.delta[k] = int32(dy*w.pw + dx)
		w.delta[k+8] = w.delta[k]
	}
	if w.nbPW == w.pw {
		return
	}
	w.nbPW = w.pw
	pw32 := int32(w.pw)
	ring := [8]int32{-pw32, -pw32 + 1, 1, pw32 + 1, pw32, pw32 - 1, -1, -pw32 - 1}
	for p := range w.fgNb {
		e := &w.fgNb[p]
		rp := &w.fgReps[p]
		e.n, e.e4 = int32(rp.n), w.euler[p]
		for k := range e.off {
			e.off[k] = ring[rp.pos[k]&7]
		}
	}
	for p := range w.holeNb {
		e := &w.holeNb[p]
		*e = nbEntry{}
		for i, off := range [4]int32{-pw32, -1, 1, pw32} {
			if p>>i&1 != 0 {
				e.off[e.n] = off
				e.n++
			}
		}
		// Unused offsets repeat the first, so that addHole can compare all
		// four labels without a loop.
		for k := e.n; k < 4; k++ {
			e.off[k] = e.off[0]
		}
	}
}

func (w *worker) maxU8() uint8 {
	for v := 255; v > 0; v-- {
		if w.hist[v] > 0 {
			return uint8(v)
		}
	}
	return 0
}

// boxes accumulates the box metrics of one indexed image.
func (w *worker) boxes(st *Stats, m Map, s *Sample) {
	gts := s.Boxes
	mx := w.maxU8()
	w.fgPass(m, gts)
	w.holePass(m, gts)
	w.v1Done = [257]bool{}
	st.BoxImages++
	for t, tau := range w.taus {
		key := w.next[level(tau, mx)]
		if w.cfg.has(MaxBoxAcc) {
			iou := w.v1(m, gts, key)
			for d, delta := range w.cfg.IoUThresholds {
				if iou >= float64(delta)/100 {
					st.V1Correct[d][t]++
				}
			}
		}
		if w.cfg.has(MaxBoxAccV2) {
			iou := max(w.fgIoU[key], w.holeIoU[key])
			for d, delta := range w.cfg.IoUThresholds {
				if iou >= float64(delta)/100 {
					st.V2Correct[d][t]++
				}
			}
		}
	}
	if w.cfg.has(TopLoc) {
		st.LocImages++
		key := w.next[level(w.cfg.Sigma, mx)]
		if w.v1(m, gts, key) > 0.5 {
			st.GTKnownCorrect++
			if s.Pred >= 0 && s.Pred == s.Label {
				st.Top1Correct++
			}
		}
		if s.Pred >= 0 {
			st.PredImages++
		}
	}
}

// v1 returns the IoU of the largest contour's box at the binary map
// {u8 >= key}, tracing it once per image and key.
func (w *worker) v1(m Map, gts []image.Rectangle, key int) float64 {
	if w.v1Done[key] {
		return w.v1IoU[key]
	}
	iou := maxIoU(NoBox(), gts)
	if key < 256 {
		if b, ok := w.v1Borders(key); ok {
			iou = maxIoU(predBox(b[0], b[1], b[2], b[3], m.W, m.H), gts)
			w.v1IoU[key], w.v1Done[key] = iou, true
			return iou
		}
		// A tie for the largest area: OpenCV's contour order decides, so
		// trace the whole binary map inside the bounding box of its
		// foreground.
		b := w.fgWin[key]
		x0, y0, x1, y1 := int(b[0]), int(b[1]), int(b[2]), int(b[3])
		w.tr.trace(w.u8, m.W, key-1, x0, y0, x1, y1)
		if k := w.tr.largest(); k >= 0 {
			c := w.tr.contours[k]
			iou = maxIoU(predBox(c.x0, c.y0, c.x1, c.y1, m.W, m.H), gts)
		}
	}
	w.v1IoU[key], w.v1Done[key] = iou, true
	return iou
}

// v1Borders follows every border of {u8 >= key} alone, from its start
// pixel, and returns the bounding box of the border with the largest
// contourArea. ok is false if several borders share the largest area (the
// caller then needs OpenCV's contour order) or if there is no border.
func (w *worker) v1Borders(key int) (box [4]int, ok bool) {
	best, n := int64(-1), 0
	try := func(starts []int32, hole bool) {
		for _, st := range starts {
			a, b := w.border(st, hole, key-1)
			switch {
			case a > best:
				best, n, box = a, 1, b
			case a == best:
				n++
			}
		}
	}
	f, h := w.fgOff[key], w.holeOff[key]
	try(w.fgStart[f[0]:f[1]], false)
	try(w.holeStart[h[0]:h[1]], true)
	return box, n == 1
}

// border follows one border of {pu8 > thr} from padded pixel start as
// OpenCV's border following does (same path as tracer.fetch, without
// marking) and returns twice its contourArea and its bounding box in image
// coordinates. The area is the shoelace sum over every step of the chain,
// which equals the sum over the CHAIN_APPROX_SIMPLE vertices.
func (w *worker) border(start int32, hole bool, thr int) (int64, [4]int) {
	pu, d := w.pu8, &w.delta
	fg := func(i int32) bool { return int(pu[i]) > thr }
	x, y := int(start)%w.pw-1, int(start)/w.pw-1
	box := [4]int{x, y, x, y}
	i0 := start
	s := 4
	if hole {
		s = 0
	}
	send := s
	var i1 int32
	for {
		s = (s - 1) & 7
		i1 = i0 + d[s]
		if fg(i1) || s == send {
			break
		}
	}
	if s == send && !fg(i1) {
		return 0, box
	}
	var a int64
	i3 := i0
	// A border visits each pixel at most four times; more steps mean the
	// start was not on a border, an internal bug that would otherwise hang.
	limit := 8*len(pu) + 16
	for steps := 0; ; steps++ {
		if steps > limit {
			panic("wsol: border following did not close (internal error)")
		}
		send = s
		var i4 int32
		for s < 15 {
			s++
			i4 = i3 + d[s]
			if fg(i4) {
				break
			}
		}
		s &= 7
		dx, dy := step(s)
		nx, ny := x+dx, y+dy
		a += int64(x)*int64(ny) - int64(y)*int64(nx)
		x, y = nx, ny
		box[0], box[1] = min(box[0], x), min(box[1], y)
		box[2], box[3] = max(box[2], x), max(box[3], y)
		if i4 == i0 && i3 == i1 {
			break
		}
		i3 = i4
		s = (s + 4) & 7
	}
	if a < 0 {
		a = -a
	}
	return a, box
}

// node holds the data of a union-find root: a component or the outside.
type node struct {
	pos    int32 // index in live, -1 if not live
	x0, x1 int32 // bounding box columns, image coordinates
	q0, q1 int32 // smallest and largest padded index: the first pixel
	// in raster order, and the rows of the bounding box (q/pw - 1)
	dirty bool    // box changed since iou was computed
	iou   float64 // cached best IoU of the set's box
}

// find returns the root of label i in the forest p, halving the path.
func find(p []int32, i int32) int32 {
	for p[i] != i {
		g := p[p[i]]
		p[i] = g
		i = g
	}
	return i
}

// rootAt returns the root of the set of the padded pixel nb and makes it
// nb's label, so that later pixels find it at once.
func rootAt(lab, parent []int32, nb int32) int32 {
	r := find(parent, lab[nb])
	lab[nb] = r
	return r
}

// joinRest unites root r with the sets of the other representatives that e
// lists around padded pixel q, refreshes their labels, and returns the
// root; outside is as for unite. A label equal to the root so far needs
// no find.
func (w *worker) joinRest(e *nbEntry, q, r, outside int32) int32 {
	lab, parent := w.lab, w.parent
	for k := int32(1); k < e.n; k++ {
		nb := q + e.off[k&3]
		if l := lab[nb]; l != r {
			if rn := find(parent, l); rn != r {
				r = w.unite(r, rn, outside)
			}
			lab[nb] = r
		}
	}
	return r
}

// unite merges the sets of root labels ra and rb and returns the new
// root; outside (if >= 0) always stays a root and is never live.
func (w *worker) unite(ra, rb, outside int32) int32 {
	ns := w.nodes
	// The older set (smaller label; the outside is 0) stays the root: it
	// is mostly the larger one.
	if rb == outside || (ra != outside && rb < ra) {
		ra, rb = rb, ra
	}
	w.parent[rb] = ra
	B := &ns[rb]
	if B.pos >= 0 {
		k := B.pos
		last := w.live[len(w.live)-1]
		w.live[k] = last
		ns[last].pos = k
		w.live = w.live[:len(w.live)-1]
		B.pos = -1
	}
	if ra == outside {
		return ra
	}
	A := &ns[ra]
	A.x0, A.q0 = min(A.x0, B.x0), min(A.q0, B.q0)
	A.x1, A.q1 = max(A.x1, B.x1), max(A.q1, B.q1)
	A.dirty = true
	return ra
}

// newSet makes padded pixel q in column x a new live set and returns its
// label. It is rare in the passes' loops, so it is not inlined there.
//
//go:noinline
func (w *worker) newSet(q, x int32) int32 {
	r := w.nl
	w.nl++
	w.parent[r] = r
	w.nodes[r] = node{pos: int32(len(w.live)),
		x0: x, x1: x, q0: q, q1: q, dirty: true}
	w.live = append(w.live, r)
	return r
}

// grow adds padded pixel q in column x to set n's box.
func (n *node) grow(q, x int32) {
	if x < n.x0 || x > n.x1 || q < n.q0 || q > n.q1 {
		n.x0, n.q0 = min(n.x0, x), min(n.q0, q)
		n.x1, n.q1 = max(n.x1, x), max(n.q1, q)
		n.dirty = true
	}
}

// liveMax returns the largest IoU over the live components' boxes; box
// converts a component bbox into the predicted box.
func (w *worker) liveMax(gts []image.Rectangle, box func(b [4]int32) image.Rectangle) float64 {
	best := -1.0
	pw := int32(w.pw)
	for _, r := range w.live {
		n := &w.nodes[r]
		if n.dirty {
			n.iou = maxIoU(box([4]int32{n.x0, n.q0/pw - 1, n.x1, n.q1/pw - 1}), gts)
			n.dirty = false
		}
		best = max(best, n.iou)
	}
	return best
}

// quadEuler[m] is the contribution of a 2×2 quad with foreground bits m
// (TL<<3 | TR<<2 | BL<<1 | BR) to 4×(Euler number) under 8-connectivity
// (Gray's bit quads): +1 for one pixel, -1 for three, -2 for a diagonal
// pair.
func quadEuler(m int) int32 {
	switch m {
	case 1, 2, 4, 8:
		return 1
	case 7, 11, 13, 14:
		return -1
	case 6, 9:
		return -2
	}
	return 0
}

// Neighbour bits of a pixel's 8-neighbourhood mask.
const (
	nbN uint8 = 1 << iota
	nbS
	nbE
	nbW
	nbNW
	nbNE
	nbSW
	nbSE
)

// ringBits lists the neighbour bits around a pixel in circular order: N,
// NE, E, SE, S, SW, W, NW (even positions are edge neighbours).
func ringBits() [8]uint8 { return [8]uint8{nbN, nbNE, nbE, nbSE, nbS, nbSW, nbW, nbNW} }

// reps lists one neighbour (ring position) per group of neighbours that
// are already known to be in one set.
type reps struct {
	n   uint8
	pos [4]uint8
}

// repTable returns, for every 8-neighbourhood mask of foreground pixels,
// one representative per group of them that must already share a set:
// neighbours 8-adjacent to each other (consecutive around the ring, or two
// edge neighbours such as N and E).
func repTable() [256]reps {
	ring := ringBits()
	var t [256]reps
	for m := range 256 {
		in := func(i int) bool { return uint8(m)&ring[(i+8)%8] != 0 }
		adj := func(i, j int) bool {
			d := (j - i + 8) % 8
			return d == 1 || d == 7 || ((d == 2 || d == 6) && i%2 == 0)
		}
		var seen [8]bool
		for start := range 8 {
			if !in(start) || seen[start] {
				continue
			}
			var buf [8]int
			group := append(buf[:0], start)
			seen[start] = true
			for k := 0; k < len(group); k++ {
				for j := range 8 {
					if in(j) && !seen[j] && adj(group[k], j) {
						seen[j] = true
						group = append(group, j)
					}
				}
			}
			rep := -1
			for _, want := range [4]int{6, 0, 2, 4} { // W first: the previous pixel
				for _, g := range group {
					if g == want && rep < 0 {
						rep = g
					}
				}
			}
			if rep < 0 {
				rep = group[0]
			}
			t[m].pos[t[m].n] = uint8(rep)
			t[m].n++
		}
	}
	return t
}

// eulerTable returns, for every 8-neighbourhood mask, the change of
// 4×(Euler number) when the centre pixel turns foreground: the sum over
// the four 2×2 quads holding it.
func eulerTable() [256]int32 {
	var t [256]int32
	for m := range 256 {
		b := func(bit uint8) int {
			if uint8(m)&bit != 0 {
				return 1
			}
			return 0
		}
		qNW := b(nbNW)<<3 | b(nbN)<<2 | b(nbW)<<1
		qNE := b(nbN)<<3 | b(nbNE)<<2 | b(nbE)
		qSW := b(nbW)<<3 | b(nbSW)<<1 | b(nbS)
		qSE := b(nbE)<<2 | b(nbS)<<1 | b(nbSE)
		t[m] = quadEuler(qNW|1) - quadEuler(qNW) + quadEuler(qNE|2) - quadEuler(qNE) +
			quadEuler(qSW|4) - quadEuler(qSW) + quadEuler(qSE|8) - quadEuler(qSE)
	}
	return t
}

// fgPass adds foreground pixels in decreasing value, 8-connected, and
// records for every present value v the best IoU over the outer borders of
// {u8 >= v}: each outer border's bounding box is its component's.
func (w *worker) fgPass(m Map, gts []image.Rectangle) {
	W, H := m.W, m.H
	lab := w.lab[:w.pw*(H+2)]
	w.nl = 0
	w.live = w.live[:0]
	w.fgStart = w.fgStart[:0]
	w.fgIoU[256] = maxIoU(NoBox(), gts)
	box := func(b [4]int32) image.Rectangle {
		return predBox(int(b[0]), int(b[1]), int(b[2]), int(b[3]), W, H)
	}
	euler4 := int32(0)
	for v := 255; v >= 1; v-- {
		if w.hist[v] == 0 {
			continue
		}
		euler4 += w.addFg(w.byXY[w.start[v]:w.start[v+1]], lab)
		w.fgIoU[v] = w.liveMax(gts, box)
		w.holes[v] = int32(len(w.live)) - euler4/4
		w.fgOff[v] = w.starts(&w.fgStart, 0)
		if w.cfg.has(MaxBoxAcc) || w.cfg.has(TopLoc) {
			w.fgWin[v] = w.window()
		}
	}
}

// addFg adds the pixels px of one level (entries of byXY) to the
// 8-connected foreground sets and returns the change of 4×(Euler number).
// It is kept small so that its loop stays in registers.
func (w *worker) addFg(px []uint64, lab []int32) int32 {
	tab, nodes, parent := &w.fgNb, w.nodes, w.parent
	var e4 int32
	for i := 0; i < len(px); i++ {
		// The common pixel, whose foreground neighbours are all in one
		// group, in assembly where there is a kernel, else in a loop
		// without calls.
		if n, d := addFgKernel(px[i:], lab, parent, nodes, tab); n > 0 {
			i += n
			e4 += d
		}
		for ; i < len(px); i++ {
			xy := px[i]
			e := &tab[uint8(xy>>32)]
			if e.n != 1 {
				break
			}
			q, x := int32(uint32(xy)), int32(xy>>48)
			e4 += e.e4
			r := rootAt(lab, parent, q+e.off[0])
			nodes[r].grow(q, x)
			lab[q] = r
		}
		if i == len(px) {
			break
		}
		xy := px[i]
		q, x := int32(uint32(xy)), int32(xy>>48)
		e := &tab[uint8(xy>>32)]
		e4 += e.e4
		// Foreground neighbours adjacent to each other already share a
		// set: join one representative of each group.
		if e.n == 0 {
			lab[q] = w.newSet(q, x)
			continue
		}
		r := rootAt(lab, parent, q+e.off[0])
		if e.n > 2 || lab[q+e.off[1]] != r {
			r = w.joinRest(e, q, r, -1)
		}
		nodes[r].grow(q, x)
		lab[q] = r
	}
	return e4
}

// starts appends the border start pixel of every live set to *dst (its
// first pixel, shifted by off) and returns the appended range.
func (w *worker) starts(dst *[]int32, off int32) [2]int32 {
	if !w.cfg.has(MaxBoxAcc) && !w.cfg.has(TopLoc) {
		return [2]int32{}
	}
	lo := int32(len(*dst))
	for _, r := range w.live {
		*dst = append(*dst, w.nodes[r].q0+off)
	}
	return [2]int32{lo, int32(len(*dst))}
}

// window returns the bounding box of all live sets.
func (w *worker) window() [4]int32 {
	b := [4]int32{math.MaxInt32, math.MaxInt32, -1, -1}
	for _, r := range w.live {
		n := &w.nodes[r]
		b[0], b[1] = min(b[0], n.x0), min(b[1], n.q0/int32(w.pw)-1)
		b[2], b[3] = max(b[2], n.x1), max(b[3], n.q1/int32(w.pw)-1)
	}
	return b
}

// holePass adds background pixels in increasing value, 4-connected, with
// an outside set (label 0) that owns the padding, and records for every
// present value v the best IoU over the hole borders of the foreground
// {u8 >= v}: a hole border's bounding box is its hole's, grown by one pixel.
func (w *worker) holePass(m Map, gts []image.Rectangle) {
	W, H := m.W, m.H
	n := w.pw * (H + 2)
	lab := w.lab[:n]
	const outside = 0
	for x := range w.pw {
		lab[x], lab[n-1-x] = outside, outside
	}
	for y := 1; y <= H; y++ {
		lab[y*w.pw], lab[y*w.pw+W+1] = outside, outside
	}
	w.parent[outside] = outside
	w.nodes[outside] = node{pos: -1}
	w.nl = 1
	w.live = w.live[:0]
	w.holeStart = w.holeStart[:0]
	w.holeIoU[256] = -1
	box := func(b [4]int32) image.Rectangle {
		return predBox(int(b[0])-1, int(b[1])-1, int(b[2])+1, int(b[3])+1, W, H)
	}
	parent, nodes := w.parent, w.nodes
	last := 0 // last level with a hole
	for v := 1; v < 256; v++ {
		if w.hist[v] > 0 && w.holes[v] > 0 {
			last = v
		}
	}
	if w.noSkip {
		last = 255
	}
	for v := range 256 {
		if v > last {
			w.holeIoU[v] = -1
			w.holeOff[v] = [2]int32{}
			continue
		}
		if w.hist[v] == 0 {
			continue
		}
		w.holesSeen[v] = int32(len(w.live))
		w.holeIoU[v] = w.liveMax(gts, box)
		// A hole border starts at the pixel left of the hole's first pixel.
		w.holeOff[v] = w.starts(&w.holeStart, -1)
		px := w.byXY[w.start[v]:w.start[v+1]]
		if !w.noSkip && (v == last || w.holes[w.next[v]] == 0) {
			// No level after this one is recorded, or {u8 <= v} has no
			// hole (Euler): then every background pixel so far is outside,
			// so this level's pixels are put there without a look at their
			// neighbours, and the live sets are merged into it.
			if v == last {
				continue
			}
			for _, xy := range px {
				q := int32(uint32(xy))
				lab[q] = outside
			}
			for _, r := range w.live {
				parent[r] = outside
				nodes[r].pos = -1
			}
			w.live = w.live[:0]
			continue
		}
		w.addHole(px, lab)
	}
}

// addHole adds the pixels px of one level (entries of byXY) to the
// 4-connected background sets, label 0 being the outside.
func (w *worker) addHole(px []uint64, lab []int32) {
	const outside = 0
	parent, nodes, tab := w.parent, w.nodes, &w.holeNb
	for i := 0; i < len(px); i++ {
		// The common pixel, whose added neighbours are all in one set
		// already, in assembly where there is a kernel, else in a loop
		// without calls.
		i += addHoleKernel(px[i:], lab, parent, nodes, tab)
		for ; i < len(px); i++ {
			xy := px[i]
			e := &tab[xy>>40&15]
			if e.n == 0 {
				break
			}
			// The added neighbours' labels are compared as they are (equal
			// labels are one set), before the find.
			q := int32(uint32(xy))
			nb := q + e.off[0]
			l := lab[nb]
			if (lab[q+e.off[1]]^l)|(lab[q+e.off[2]]^l)|(lab[q+e.off[3]]^l) != 0 {
				break
			}
			r := find(parent, l)
			if r != l {
				lab[nb] = r
			}
			if r != outside {
				nodes[r].grow(q, int32(xy>>48))
			}
			lab[q] = r
		}
		if i == len(px) {
			break
		}
		xy := px[i]
		q, x := int32(uint32(xy)), int32(xy>>48)
		e := &tab[xy>>40&15]
		if e.n == 0 {
			lab[q] = w.newSet(q, x)
			continue
		}
		// Edge neighbours are never 4-adjacent to each other: join each.
		r := rootAt(lab, parent, q+e.off[0])
		if e.n > 1 && (e.n > 2 || lab[q+e.off[1]] != r) {
			r = w.joinRest(e, q, r, outside)
		}
		if r != outside {
			nodes[r].grow(q, x)
		}
		lab[q] = r
	}
}
