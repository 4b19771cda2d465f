package cam

// weightedSum writes into dst (hw) Σ_c wts[c]·a[c,·].
func weightedSum(dst []float64, a []float32, wts []float64, hw int) {
	clear(dst)
	for c, wc := range wts {
		if wc == 0 {
			continue
		}
		s := a[c*hw : (c+1)*hw]
		for i, v := range s {
			dst[i] += wc * float64(v)
		}
	}
}

// relu replaces the negative values of dst with 0 (NaN stays NaN).
func relu(dst []float64) {
	for i, v := range dst {
		if v < 0 {
			dst[i] = 0
		}
	}
}
