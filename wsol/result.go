package wsol

import "fmt"

// BoxCurve is the box accuracy against the CAM threshold at one IoU
// threshold.
// It is plain data.
type BoxCurve struct {
	// IoU is the IoU threshold δ in percent.
	IoU int `json:"iou"`
	// V1[t] (largest contour, MaxBoxAcc) and V2[t] (all contours,
	// MaxBoxAccV2) are the box accuracies in percent at Thresholds[t];
	// empty if the metric was not computed.
	V1 []float64 `json:"v1,omitempty"`
	V2 []float64 `json:"v2,omitempty"`
	// MaxV1 and MaxV2 are the best accuracies, BestV1 and BestV2 the
	// smallest thresholds reaching them.
	MaxV1  float64 `json:"max_v1"`
	BestV1 float64 `json:"best_tau_v1"`
	MaxV2  float64 `json:"max_v2"`
	BestV2 float64 `json:"best_tau_v2"`
}

// PRPoint is one point of the PxAP precision-recall curve: the pixels with
// score >= Threshold are predicted foreground.
// It is plain data.
type PRPoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Result holds the metrics, in percent, and their curves. Fields of
// metrics that were not computed, or had no image to score, are zero.
// A Result is plain data.
type Result struct {
	Metrics       []Metric  `json:"metrics"`
	Thresholds    []float64 `json:"thresholds"`
	IoUThresholds []int     `json:"iou_thresholds"`
	// Images counts all scored images; NaNMaps those whose map held a NaN
	// and was scored as all-zero.
	Images  int `json:"images"`
	NaNMaps int `json:"nan_maps"`

	// BoxImages counts the images with ground-truth boxes.
	BoxImages int `json:"box_images"`
	// MaxBoxAcc is the best largest-contour accuracy at IoU 50 and
	// MaxBoxAccThreshold the smallest threshold reaching it.
	MaxBoxAcc          float64 `json:"max_box_acc"`
	MaxBoxAccThreshold float64 `json:"max_box_acc_threshold"`
	// MaxBoxAccV2 is the mean over Box of MaxV2.
	MaxBoxAccV2 float64    `json:"max_box_acc_v2"`
	Box         []BoxCurve `json:"box,omitempty"`

	// MaskImages counts the images with masks.
	MaskImages int       `json:"mask_images"`
	PxAP       float64   `json:"pxap"`
	PR         []PRPoint `json:"pr,omitempty"`

	// Sigma is the TopLoc threshold; LocImages the images with boxes and
	// PredImages those with a known prediction. GTKnownLoc and Top1Loc are
	// over LocImages.
	Sigma      float64 `json:"sigma"`
	LocImages  int     `json:"loc_images"`
	PredImages int     `json:"pred_images"`
	GTKnownLoc float64 `json:"gt_known_loc"`
	Top1Loc    float64 `json:"top1_loc"`
}

// pct is the reference's num_correct * 100. / cnt.
func pct(num, den int64) float64 { return float64(num) * 100 / float64(den) }

// curve converts per-threshold counts to accuracies and returns the
// maximum and the first threshold reaching it.
func curve(counts []int64, n int64, taus []float64) ([]float64, float64, float64) {
	acc := make([]float64, len(counts))
	best, at := -1.0, 0.0
	for t, c := range counts {
		acc[t] = pct(c, n)
		if acc[t] > best {
			best, at = acc[t], taus[t]
		}
	}
	return acc, best, at
}

func result(cfg Config, st Stats) (Result, error) {
	taus := Thresholds(cfg.Interval)
	r := Result{
		Metrics:       cfg.Metrics,
		Thresholds:    taus,
		IoUThresholds: cfg.IoUThresholds,
		Images:        int(st.Images),
		NaNMaps:       int(st.NaNMaps),
		BoxImages:     int(st.BoxImages),
		MaskImages:    int(st.MaskImages),
		Sigma:         cfg.Sigma,
		LocImages:     int(st.LocImages),
		PredImages:    int(st.PredImages),
	}
	if st.BoxImages > 0 && (st.V1Correct != nil || st.V2Correct != nil) {
		var sum float64
		for d, delta := range cfg.IoUThresholds {
			bc := BoxCurve{IoU: delta}
			if st.V1Correct != nil {
				bc.V1, bc.MaxV1, bc.BestV1 = curve(st.V1Correct[d], st.BoxImages, taus)
				if delta == 50 {
					r.MaxBoxAcc, r.MaxBoxAccThreshold = bc.MaxV1, bc.BestV1
				}
			}
			if st.V2Correct != nil {
				bc.V2, bc.MaxV2, bc.BestV2 = curve(st.V2Correct[d], st.BoxImages, taus)
				sum += bc.MaxV2
			}
			r.Box = append(r.Box, bc)
		}
		if st.V2Correct != nil && len(cfg.IoUThresholds) > 0 {
			r.MaxBoxAccV2 = sum / float64(len(cfg.IoUThresholds))
		}
	}
	if st.LocImages > 0 {
		r.GTKnownLoc = pct(st.GTKnownCorrect, st.LocImages)
		r.Top1Loc = pct(st.Top1Correct, st.LocImages)
	}
	if st.MaskImages > 0 && st.FgHist != nil {
		ap, pr, err := pxap(st.FgHist, st.BgHist, taus)
		if err != nil {
			return r, err
		}
		r.PxAP, r.PR = ap, pr
	}
	return r, nil
}

// pxap computes the reference's step AP (x100) from the pooled
// histograms, and the PR points with at least one predicted pixel.
func pxap(fg, bg []int64, taus []float64) (float64, []PRPoint, error) {
	nb := len(fg)
	// Thresholds of the reversed cumulative sums: 2, 1, taus descending.
	desc := make([]float64, nb)
	desc[0], desc[1] = 2, 1
	for k := 2; k < nb; k++ {
		desc[k] = taus[nb-1-k]
	}
	tp := make([]float64, nb)
	fp := make([]float64, nb)
	var ctp, cfp, numTrue float64
	for k := range nb {
		ctp += float64(fg[nb-1-k])
		cfp += float64(bg[nb-1-k])
		tp[k], fp[k] = ctp, cfp
	}
	numTrue = ctp
	if numTrue <= 0 {
		return 0, nil, ErrNoForeground
	}
	if cfp+ctp <= 0 {
		return 0, nil, fmt.Errorf("wsol: no scored pixel in the masks")
	}
	recall := make([]float64, nb)
	for k := range nb {
		recall[k] = tp[k] / (tp[k] + (numTrue - tp[k]))
	}
	var terms []float64
	var pr []PRPoint
	for k := 1; k < nb; k++ {
		if tp[k]+fp[k] == 0 {
			continue
		}
		prec := tp[k] / (tp[k] + fp[k])
		terms = append(terms, prec*(recall[k]-recall[k-1]))
		pr = append(pr, PRPoint{Threshold: desc[k], Precision: prec, Recall: recall[k]})
	}
	return pairwiseSum(terms) * 100, pr, nil
}

// pairwiseSum adds like numpy's float64 sum (pairwise summation with
// blocks of 128 and eight accumulators), so that it rounds the same way.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := 0.0
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += a[i+j]
			}
		}
		res := (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
}
