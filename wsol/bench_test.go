package wsol

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cutmixcam/cutmix-cam/internal/resample"
)

// camLike returns a deterministic CAM-like map: a 14×14 map of two
// Gaussian bumps plus noise, bicubic-upsampled to n×n and min-max
// normalised, with a ground-truth box and a mask around the main bump.
func camLike(n int, seed uint64) Sample {
	r := rand.New(rand.NewPCG(seed, 99))
	const c = 14
	raw := make([]float64, c*c)
	cx, cy := 3+r.Float64()*8, 3+r.Float64()*8
	for y := range c {
		for x := range c {
			d := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
			raw[y*c+x] = math.Exp(-d/8) + 0.4*math.Exp(-((float64(x)-2)*(float64(x)-2)+(float64(y)-11)*(float64(y)-11))/3) + 0.1*r.Float64()
		}
	}
	m, _ := Prepare(Map{W: c, H: c, Pix: raw}, image.Pt(n, n))
	s := float64(n) / c
	box := image.Rect(int((cx-3)*s), int((cy-3)*s), int((cx+3)*s), int((cy+3)*s)).Intersect(image.Rect(0, 0, n, n))
	mask := &Mask{W: n, H: n, Pix: make([]uint8, n*n)}
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			mask.Pix[y*n+x] = MaskForeground
		}
	}
	for x := range n {
		mask.Pix[x] = MaskIgnore
	}
	return Sample{Map: m, Boxes: []image.Rectangle{box}, Mask: mask}
}

func benchSamples(n int) []Sample {
	s := make([]Sample, 8)
	for i := range s {
		s[i] = camLike(n, uint64(i))
	}
	return s
}

// reportRate reports images per second of wall time and CPU milliseconds
// per image since c0 (the CPU figure is steadier on a shared machine).
func reportRate(b *testing.B, images int, c0 float64) {
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
	if c := cpuSeconds() - c0; c > 0 {
		b.ReportMetric(c*1000/float64(images), "cpu-ms/image")
	}
}

// BenchmarkScore measures MaxBoxAccV2 + PxAP at grid 0.001 on one
// goroutine: the single-pass evaluator against the per-threshold oracle.
func BenchmarkScore(b *testing.B) {
	cfg, err := Config{Interval: 0.001, Metrics: []Metric{MaxBoxAccV2, PxAP}}.norm()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{224, 512} {
		samples := benchSamples(n)
		b.Run(fmt.Sprintf("fast/%dpx", n), func(b *testing.B) {
			b.ReportAllocs()
			w := newWorker(cfg)
			st := newStats(cfg)
			i := 0
			c0 := cpuSeconds()
			for b.Loop() {
				if err := w.add(&st, &samples[i%len(samples)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportRate(b, i, c0)
		})
	}
	samples := benchSamples(224)
	b.Run("oracle/224px", func(b *testing.B) {
		b.ReportAllocs()
		st := newStats(cfg)
		i := 0
		c0 := cpuSeconds()
		for b.Loop() {
			oracleAdd(cfg, &st, samples[i%len(samples)])
			i++
		}
		reportRate(b, i, c0)
	})
}

// BenchmarkScoreAll measures all metrics (MaxBoxAcc traces each distinct
// binary map once) at grid 0.001 on one goroutine.
func BenchmarkScoreAll(b *testing.B) {
	cfg, err := Config{Interval: 0.001}.norm()
	if err != nil {
		b.Fatal(err)
	}
	samples := benchSamples(224)
	b.Run("fast/224px", func(b *testing.B) {
		b.ReportAllocs()
		w := newWorker(cfg)
		st := newStats(cfg)
		i := 0
		c0 := cpuSeconds()
		for b.Loop() {
			if err := w.add(&st, &samples[i%len(samples)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportRate(b, i, c0)
	})
	b.Run("oracle/224px", func(b *testing.B) {
		b.ReportAllocs()
		st := newStats(cfg)
		i := 0
		c0 := cpuSeconds()
		for b.Loop() {
			oracleAdd(cfg, &st, samples[i%len(samples)])
			i++
		}
		reportRate(b, i, c0)
	})
}

// BenchmarkEvaluate measures the parallel entry point (MaxBoxAccV2 + PxAP
// at grid 0.001, one worker per CPU) on 128 images, enough that setting up
// the workers does not count.
func BenchmarkEvaluate(b *testing.B) {
	samples := make([]Sample, 128)
	for i := range samples {
		samples[i] = camLike(224, uint64(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(Config{Metrics: []Metric{MaxBoxAccV2, PxAP}}, samples); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(samples)*b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkIoU(b *testing.B) {
	boxes := make([]image.Rectangle, 256)
	for i := range boxes {
		boxes[i] = image.Rect(i%50, i%37, i%50+10+i%7, i%37+5+i%11)
	}
	b.ReportAllocs()
	var sink float64
	for b.Loop() {
		for _, a := range boxes {
			sink += maxIoU(a, boxes[:8])
		}
	}
	_ = sink
}

func BenchmarkPrepare(b *testing.B) {
	raw := make([]float64, 14*14)
	for i := range raw {
		raw[i] = float64((i*37)%101) / 100
	}
	for _, n := range []int{224, 512} {
		b.Run(fmt.Sprintf("%dpx", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Prepare(Map{W: 14, H: 14, Pix: raw}, image.Pt(n, n))
			}
		})
	}
	_ = resample.Cubic
}
