package main

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/cutmixcam/cutmix-cam/wsol"
)

// streamBootstrap is the PCG stream of the bootstrap resamples.
const streamBootstrap = 0xb0075742

// imageStats is one image's contribution to wsol.Stats. The box counts of
// one image are 0 or 1 per threshold, stored as runs [start, end) of the
// thresholds where the box hit.
type imageStats struct {
	Scalars [8]int64 // Images, NaNMaps, BoxImages, MaskImages, LocImages, PredImages, GTKnownCorrect, Top1Correct
	V1, V2  [][]int32
	Fg, Bg  []int64
}

func scalars(s wsol.Stats) [8]int64 {
	return [8]int64{s.Images, s.NaNMaps, s.BoxImages, s.MaskImages, s.LocImages, s.PredImages, s.GTKnownCorrect, s.Top1Correct}
}

// diffStats returns the contribution of the image added between prev and
// cur.
func diffStats(cur, prev wsol.Stats) imageStats {
	var d imageStats
	a, b := scalars(cur), scalars(prev)
	for i := range a {
		d.Scalars[i] = a[i] - b[i]
	}
	runs := func(c, p [][]int64) [][]int32 {
		if c == nil {
			return nil
		}
		out := make([][]int32, len(c))
		for r := range c {
			in := false
			for t := range c[r] {
				hit := c[r][t]-p[r][t] != 0
				if hit != in {
					out[r] = append(out[r], int32(t))
					in = hit
				}
			}
			if in {
				out[r] = append(out[r], int32(len(c[r])))
			}
		}
		return out
	}
	d.V1, d.V2 = runs(cur.V1Correct, prev.V1Correct), runs(cur.V2Correct, prev.V2Correct)
	if d.Scalars[3] > 0 {
		d.Fg, d.Bg = make([]int64, len(cur.FgHist)), make([]int64, len(cur.BgHist))
		for i := range cur.FgHist {
			d.Fg[i], d.Bg[i] = cur.FgHist[i]-prev.FgHist[i], cur.BgHist[i]-prev.BgHist[i]
		}
	}
	return d
}

// resampledResult returns the WSOL result of the images drawn with the
// multiplicities w, computed by wsol from the summed statistics.
func (s *wsolStage) resampledResult(w []int32) (wsol.Result, error) {
	base := s.Partial.Stats
	st := wsol.Stats{}
	grid := func(g [][]int64, img func(imageStats) [][]int32) [][]int64 {
		if g == nil {
			return nil
		}
		out := make([][]int64, len(g))
		for r := range g {
			diff := make([]int64, len(g[r])+1)
			for i, im := range s.Images {
				if w[i] == 0 {
					continue
				}
				rr := img(im)[r]
				for k := 0; k+1 < len(rr); k += 2 {
					diff[rr[k]] += int64(w[i])
					diff[rr[k+1]] -= int64(w[i])
				}
			}
			out[r] = make([]int64, len(g[r]))
			var acc int64
			for t := range out[r] {
				acc += diff[t]
				out[r][t] = acc
			}
		}
		return out
	}
	st.V1Correct = grid(base.V1Correct, func(im imageStats) [][]int32 { return im.V1 })
	st.V2Correct = grid(base.V2Correct, func(im imageStats) [][]int32 { return im.V2 })
	if base.FgHist != nil {
		st.FgHist, st.BgHist = make([]int64, len(base.FgHist)), make([]int64, len(base.BgHist))
	}
	var sc [8]int64
	for i, im := range s.Images {
		if w[i] == 0 {
			continue
		}
		wi := int64(w[i])
		for k := range sc {
			sc[k] += wi * im.Scalars[k]
		}
		if im.Fg != nil && st.FgHist != nil {
			for j := range im.Fg {
				st.FgHist[j] += wi * im.Fg[j]
				st.BgHist[j] += wi * im.Bg[j]
			}
		}
	}
	st.Images, st.NaNMaps, st.BoxImages, st.MaskImages, st.LocImages, st.PredImages, st.GTKnownCorrect, st.Top1Correct =
		sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]
	p := s.Partial
	p.Stats = st
	return p.Result()
}

// resamples returns reps draws of n images with replacement, as
// multiplicities, from PCG(seed, streamBootstrap). Every model is scored
// on the same draws, which pairs the comparison.
func resamples(n, reps int, seed uint64) [][]int32 {
	r := rand.New(rand.NewPCG(seed, streamBootstrap))
	out := make([][]int32, reps)
	for k := range out {
		w := make([]int32, n)
		for range n {
			w[r.IntN(n)]++
		}
		out[k] = w
	}
	return out
}

// bootMap evaluates f on every draw in parallel.
func bootMap(draws [][]int32, f func(w []int32) []float64) [][]float64 {
	out := make([][]float64, len(draws))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				out[k] = f(draws[k])
			}
		}()
	}
	for k := range draws {
		next <- k
	}
	close(next)
	wg.Wait()
	return out
}

// weightedMean returns Σ w_i v_i / Σ w_i over the first len(v) images.
func weightedMean(w []int32, v []float64) float64 {
	var s, n float64
	for i, x := range v {
		s += float64(w[i]) * x
		n += float64(w[i])
	}
	if n == 0 {
		return math.NaN()
	}
	return s / n
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	if len(v) == 0 {
		return math.NaN()
	}
	return s / float64(len(v))
}

func boolFloats(b []bool) []float64 {
	out := make([]float64, len(b))
	for i, x := range b {
		if x {
			out[i] = 100
		}
	}
	return out
}

// percentile returns the q-quantile of sorted v, linearly interpolated
// (numpy's default).
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// interval returns the 95% percentile interval of v, ignoring NaN.
func interval(v []float64) (lo, hi float64) {
	s := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	slices.Sort(s)
	return percentile(s, 0.025), percentile(s, 0.975)
}
