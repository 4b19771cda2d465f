package wsol

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrMismatch reports statistics or partial results that cannot be merged:
// different configurations, datasets or shapes, or duplicate shards.
var ErrMismatch = errors.New("wsol: mismatched statistics")

// ErrNoForeground reports a PxAP evaluation without any ground-truth
// foreground pixel (the reference raises RuntimeError).
var ErrNoForeground = errors.New("wsol: no foreground pixel in the masks")

// Stats are the sufficient statistics of the metrics: integer counts that
// add exactly, so the statistics of disjoint image sets sum to those of
// their union. Slices indexed by threshold follow Thresholds(Interval);
// those indexed by IoU follow Config.IoUThresholds.
// A Stats is plain data; Add must not run concurrently with other use of
// the same Stats.
type Stats struct {
	Images    int64 `json:"images"`
	NaNMaps   int64 `json:"nan_maps"`
	BoxImages int64 `json:"box_images"`
	// V1Correct[d][t] counts images whose largest-contour box reaches IoU
	// threshold d at CAM threshold t; V2Correct the same over all contours.
	V1Correct  [][]int64 `json:"v1_correct,omitempty"`
	V2Correct  [][]int64 `json:"v2_correct,omitempty"`
	MaskImages int64     `json:"mask_images"`
	// FgHist and BgHist count foreground and background pixels per score
	// bin [e_i, e_i+1) with edges Thresholds(Interval) + [1, 2, 3].
	FgHist []int64 `json:"fg_hist,omitempty"`
	BgHist []int64 `json:"bg_hist,omitempty"`
	// LocImages counts images scored by TopLoc, PredImages those with a
	// known prediction; GTKnownCorrect and Top1Correct the hits.
	LocImages      int64 `json:"loc_images"`
	PredImages     int64 `json:"pred_images"`
	GTKnownCorrect int64 `json:"gt_known_correct"`
	Top1Correct    int64 `json:"top1_correct"`
}

func newStats(cfg Config) Stats {
	nt := len(Thresholds(cfg.Interval))
	var s Stats
	grid := func() [][]int64 {
		g := make([][]int64, len(cfg.IoUThresholds))
		for i := range g {
			g[i] = make([]int64, nt)
		}
		return g
	}
	if cfg.has(MaxBoxAcc) {
		s.V1Correct = grid()
	}
	if cfg.has(MaxBoxAccV2) {
		s.V2Correct = grid()
	}
	if cfg.has(PxAP) {
		s.FgHist = make([]int64, nt+2)
		s.BgHist = make([]int64, nt+2)
	}
	return s
}

func sameShape(a, b [][]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

// Add adds o into s. It fails with ErrMismatch if the shapes differ.
func (s *Stats) Add(o Stats) error {
	if !sameShape(s.V1Correct, o.V1Correct) || !sameShape(s.V2Correct, o.V2Correct) ||
		len(s.FgHist) != len(o.FgHist) || len(s.BgHist) != len(o.BgHist) {
		return fmt.Errorf("%w: statistics of different shapes", ErrMismatch)
	}
	s.Images += o.Images
	s.NaNMaps += o.NaNMaps
	s.BoxImages += o.BoxImages
	for d := range s.V1Correct {
		for t := range s.V1Correct[d] {
			s.V1Correct[d][t] += o.V1Correct[d][t]
		}
	}
	for d := range s.V2Correct {
		for t := range s.V2Correct[d] {
			s.V2Correct[d][t] += o.V2Correct[d][t]
		}
	}
	s.MaskImages += o.MaskImages
	for i := range s.FgHist {
		s.FgHist[i] += o.FgHist[i]
		s.BgHist[i] += o.BgHist[i]
	}
	s.LocImages += o.LocImages
	s.PredImages += o.PredImages
	s.GTKnownCorrect += o.GTKnownCorrect
	s.Top1Correct += o.Top1Correct
	return nil
}

// sane reports whether the counts are non-negative and consistent.
func (s Stats) sane() bool {
	if s.Images < 0 || s.NaNMaps < 0 || s.NaNMaps > s.Images || s.BoxImages < 0 || s.BoxImages > s.Images ||
		s.MaskImages < 0 || s.MaskImages > s.Images || s.LocImages < 0 || s.LocImages > s.BoxImages ||
		s.PredImages < 0 || s.PredImages > s.LocImages || s.GTKnownCorrect < 0 || s.GTKnownCorrect > s.LocImages ||
		s.Top1Correct < 0 || s.Top1Correct > s.GTKnownCorrect {
		return false
	}
	for _, g := range [][][]int64{s.V1Correct, s.V2Correct} {
		for _, row := range g {
			for _, c := range row {
				if c < 0 || c > s.BoxImages {
					return false
				}
			}
		}
	}
	for i := range s.FgHist {
		if s.FgHist[i] < 0 || s.BgHist[i] < 0 {
			return false
		}
	}
	return true
}

func (s Stats) clone() Stats {
	c := s
	c.V1Correct = cloneGrid(s.V1Correct)
	c.V2Correct = cloneGrid(s.V2Correct)
	c.FgHist = slices.Clone(s.FgHist)
	c.BgHist = slices.Clone(s.BgHist)
	return c
}

func cloneGrid(g [][]int64) [][]int64 {
	if g == nil {
		return nil
	}
	c := make([][]int64, len(g))
	for i := range g {
		c[i] = slices.Clone(g[i])
	}
	return c
}

// Accumulator scores images one at a time and holds their Stats. Its zero
// value is not usable; make one with NewAccumulator. An Accumulator is not
// safe for concurrent use; score in parallel with one Accumulator per
// goroutine and Merge them, or use Evaluate or Run.
type Accumulator struct {
	cfg   Config
	stats Stats
	w     *worker
}

// NewAccumulator returns an empty accumulator for cfg.
func NewAccumulator(cfg Config) (*Accumulator, error) {
	c, err := cfg.norm()
	if err != nil {
		return nil, err
	}
	return &Accumulator{cfg: c, stats: newStats(c)}, nil
}

// Add scores one image. On error the statistics are unchanged.
func (a *Accumulator) Add(s Sample) error {
	if a.w == nil {
		a.w = newWorker(a.cfg)
	}
	// add validates the sample before it changes any count.
	return a.w.add(&a.stats, &s)
}

// Merge adds b's statistics into a. Both must come from equal
// configurations; b is unchanged.
func (a *Accumulator) Merge(b *Accumulator) error {
	if a.cfg.hash("") != b.cfg.hash("") {
		return fmt.Errorf("%w: different configurations", ErrMismatch)
	}
	return a.stats.Add(b.stats)
}

// Stats returns a copy of the accumulated statistics.
func (a *Accumulator) Stats() Stats { return a.stats.clone() }

// Result computes the metrics from the accumulated statistics.
func (a *Accumulator) Result() (Result, error) { return result(a.cfg, a.stats) }

// Evaluate scores samples in parallel (cfg.Workers) with the single-pass
// evaluator and returns the metrics. The result does not depend on the
// number of workers.
func Evaluate(cfg Config, samples []Sample) (Result, error) {
	a, err := NewAccumulator(cfg)
	if err != nil {
		return Result{}, err
	}
	st, err := parallel(a.cfg, len(samples), func(i int) (Sample, error) { return samples[i], nil }, nil)
	if err != nil {
		return Result{}, err
	}
	if err := a.stats.Add(st); err != nil {
		return Result{}, err
	}
	return a.Result()
}

// parallel scores the images at indices (all of 0..n-1 if idx is nil)
// with cfg.Workers goroutines and returns the summed statistics. get is
// called concurrently. The first error stops the work.
func parallel(cfg Config, n int, get func(i int) (Sample, error), idx []int) (Stats, error) {
	if idx == nil {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	}
	total := len(idx)
	workers := max(1, min(cfg.Workers, total))
	// Workers claim the images in order from a shared counter, with no
	// hand-over per image.
	var next atomic.Int64
	var (
		mu    sync.Mutex
		done  int
		first error
		sum   = newStats(cfg)
		wg    sync.WaitGroup
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(cfg)
			st := newStats(cfg)
			for {
				k := int(next.Add(1)) - 1
				if k >= total || failed() {
					break
				}
				s, err := get(idx[k])
				if err == nil {
					err = w.add(&st, &s)
				}
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					done++
					if cfg.Progress != nil {
						cfg.Progress(done, total)
					}
				}
				mu.Unlock()
			}
			mu.Lock()
			sum.Add(st) //nolint:errcheck // same configuration, same shapes
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		return Stats{}, first
	}
	return sum, nil
}
