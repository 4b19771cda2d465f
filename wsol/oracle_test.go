package wsol

import (
	"image"
	"sort"
)

// oracleAdd is the straightforward per-threshold evaluator, the test oracle
// of the single-pass evaluator: for every threshold it binarises the map,
// traces the whole image and scores the boxes, as the reference does; PxAP
// bins with a binary search like numpy.histogram.
func oracleAdd(cfg Config, st *Stats, s Sample) {
	m := s.Map
	st.Images++
	if hasNaN(m.Pix) {
		st.NaNMaps++
		m = Map{W: m.W, H: m.H, Pix: make([]float64, len(m.Pix))}
	}
	taus := Thresholds(cfg.Interval)
	u8 := make([]uint8, len(m.Pix))
	mx := quantize(u8, m.Pix)
	var tr tracer
	best := func(bs []image.Rectangle) float64 {
		b := 0.0
		for _, p := range bs {
			b = max(b, maxIoU(p, s.Boxes))
		}
		return b
	}
	if len(s.Boxes) > 0 && (cfg.has(MaxBoxAcc) || cfg.has(MaxBoxAccV2) || cfg.has(TopLoc)) {
		st.BoxImages++
		for t, tau := range taus {
			// One binarisation and one trace per threshold, as the reference.
			tr.trace(u8, m.W, level(tau, mx), 0, 0, m.W-1, m.H-1)
			v1, v2 := 0.0, 0.0
			if cfg.has(MaxBoxAcc) {
				v1 = best(boxesOf(&tr, m.W, m.H, false))
			}
			if cfg.has(MaxBoxAccV2) {
				v2 = best(boxesOf(&tr, m.W, m.H, true))
			}
			for d, delta := range cfg.IoUThresholds {
				if cfg.has(MaxBoxAcc) && v1 >= float64(delta)/100 {
					st.V1Correct[d][t]++
				}
				if cfg.has(MaxBoxAccV2) && v2 >= float64(delta)/100 {
					st.V2Correct[d][t]++
				}
			}
		}
		if cfg.has(TopLoc) {
			st.LocImages++
			if s.Pred >= 0 {
				st.PredImages++
			}
			tr.trace(u8, m.W, level(cfg.Sigma, mx), 0, 0, m.W-1, m.H-1)
			if best(boxesOf(&tr, m.W, m.H, false)) > 0.5 {
				st.GTKnownCorrect++
				if s.Pred >= 0 && s.Pred == s.Label {
					st.Top1Correct++
				}
			}
		}
	}
	if s.Mask != nil && cfg.has(PxAP) {
		st.MaskImages++
		edges := append(append([]float64(nil), taus...), 1, 2, 3)
		for i, lab := range s.Mask.Pix {
			v := m.Pix[i]
			// numpy: searchsorted(edges, v, 'right') - 1, last edge closed.
			b := sort.Search(len(edges), func(k int) bool { return edges[k] > v }) - 1
			if v == edges[len(edges)-1] {
				b = len(edges) - 2
			}
			if b < 0 || b > len(edges)-2 {
				continue
			}
			switch lab {
			case MaskForeground:
				st.FgHist[b]++
			case MaskBackground:
				st.BgHist[b]++
			}
		}
	}
}
