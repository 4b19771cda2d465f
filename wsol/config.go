package wsol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
)

//go:generate go tool stringer -type=Metric

// Metric selects a localization metric.
// Metric values are constants, safe to share.
type Metric int

// Metrics. The zero-value Config computes all of them.
const (
	// MaxBoxAcc is the CVPR 2020 box accuracy: largest contour, IoU 50,
	// best threshold.
	MaxBoxAcc Metric = iota
	// MaxBoxAccV2 is the mean over the IoU thresholds of the best-threshold
	// box accuracy with all contours (hole borders included).
	MaxBoxAccV2
	// PxAP is the pixel average precision over masks.
	PxAP
	// TopLoc is the CutMix paper's Top-1 Loc and GT-known Loc at a fixed
	// threshold Sigma.
	TopLoc
)

// allMetrics lists every metric.
func allMetrics() []Metric { return []Metric{MaxBoxAcc, MaxBoxAccV2, PxAP, TopLoc} }

// Config configures the metrics. Its zero value reproduces the reference's
// training-path defaults. Flags may bind straight to its fields.
// Functions read a Config and never modify it; Progress is called from one
// goroutine at a time.
type Config struct {
	// Interval is the threshold grid step; the grid is Thresholds(Interval)
	// and may hold at most a million thresholds. 0 means 0.001 (the reference's training and evaluate_wsol default;
	// its command line and README use 0.01).
	Interval float64
	// IoUThresholds lists the box IoU thresholds δ in percent; an image is
	// correct at δ if its IoU >= δ/100. nil means {30, 50, 70}. MaxBoxAcc
	// needs 50 in the list.
	IoUThresholds []int
	// Metrics selects what to compute; nil means all.
	Metrics []Metric
	// Sigma is the fixed threshold of the CutMix protocol (TopLoc): the
	// map is binarised as for the box metrics at tau = Sigma, the largest
	// contour's box is kept and IoU > 0.5 counts. 0 means 0.15.
	Sigma float64
	// Workers is the number of images scored in parallel; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
	// Progress, if non-nil, is called after every image with the number of
	// images done and the total. Calls are serialised; it must not block
	// for long.
	Progress func(done, total int)
}

// maxThresholds bounds the threshold grid (interval >= 1e-6).
const maxThresholds = 1_000_000

// norm returns c with defaults filled in, validated.
func (c Config) norm() (Config, error) {
	if c.Interval == 0 {
		c.Interval = 0.001
	}
	if !(c.Interval > 0 && c.Interval <= 1) {
		return c, fmt.Errorf("wsol: interval %v not in (0, 1]", c.Interval)
	}
	if n := math.Ceil(1 / c.Interval); n > maxThresholds {
		return c, fmt.Errorf("wsol: interval %v gives %v thresholds, more than %d", c.Interval, n, maxThresholds)
	}
	if c.IoUThresholds == nil {
		c.IoUThresholds = []int{30, 50, 70}
	}
	c.IoUThresholds = slices.Clone(c.IoUThresholds)
	for _, d := range c.IoUThresholds {
		if d < 0 || d > 100 {
			return c, fmt.Errorf("wsol: IoU threshold %d not in [0, 100]", d)
		}
	}
	if c.Metrics == nil {
		c.Metrics = allMetrics()
	}
	ms := slices.Clone(c.Metrics)
	slices.Sort(ms)
	c.Metrics = slices.Compact(ms)
	for _, m := range c.Metrics {
		if m < MaxBoxAcc || m > TopLoc {
			return c, fmt.Errorf("wsol: unknown metric %d", int(m))
		}
	}
	if c.has(MaxBoxAcc) && !slices.Contains(c.IoUThresholds, 50) {
		return c, fmt.Errorf("wsol: MaxBoxAcc needs IoU threshold 50 in %v", c.IoUThresholds)
	}
	if c.Sigma == 0 {
		c.Sigma = 0.15
	}
	if !(c.Sigma > 0 && c.Sigma < 1) {
		return c, fmt.Errorf("wsol: sigma %v not in (0, 1)", c.Sigma)
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c, nil
}

func (c Config) has(m Metric) bool { return slices.Contains(c.Metrics, m) }

// hash identifies everything that changes the sufficient statistics (not
// Workers or Progress) plus a dataset fingerprint.
func (c Config) hash(dataset string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wsol-stats/%d\ninterval=%v\nious=%v\nmetrics=%v\nsigma=%v\ndataset=%s\n",
		SchemaVersion, c.Interval, c.IoUThresholds, c.Metrics, c.Sigma, dataset)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// ParseMetric returns the Metric named s (as printed by Metric.String).
func ParseMetric(s string) (Metric, error) {
	for _, m := range allMetrics() {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("wsol: unknown metric %q (want MaxBoxAcc, MaxBoxAccV2, PxAP or TopLoc)", s)
}

// MarshalText encodes m by name, so that JSON documents name metrics.
func (m Metric) MarshalText() ([]byte, error) {
	if m < MaxBoxAcc || m > TopLoc {
		return nil, fmt.Errorf("wsol: unknown metric %d", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes a metric name.
func (m *Metric) UnmarshalText(b []byte) error {
	v, err := ParseMetric(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
