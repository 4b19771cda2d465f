package wsol

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// SchemaVersion is the version of the Partial JSON schema.
const SchemaVersion = 1

// Shard selects a deterministic slice of a dataset: image i (in dataset
// order) belongs to shard Index of Count iff i mod Count == Index. The zero
// value is the whole dataset (0/1).
// Shard is a small value, safe to copy and share.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard parses "i/n" with 0 <= i < n, as given to --shard or taken
// from JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID and the job size.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("wsol: shard %q: want i/n", s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("wsol: shard %q: want i/n with 0 <= i < n", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) norm() Shard {
	if s.Count == 0 {
		return Shard{0, 1}
	}
	return s
}

// String formats s as "i/n".
func (s Shard) String() string {
	s = s.norm()
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Contains reports whether image index i belongs to s.
func (s Shard) Contains(i int) bool {
	s = s.norm()
	return i%s.Count == s.Index
}

// Indices returns the indices in 0..n-1 that belong to s, in order.
func (s Shard) Indices(n int) []int {
	s = s.norm()
	idx := []int{}
	for i := s.Index; i < n; i += s.Count {
		idx = append(idx, i)
	}
	return idx
}

// PartialConfig is the part of a Config stored in a Partial.
// It is plain data.
type PartialConfig struct {
	Interval      float64  `json:"interval"`
	IoUThresholds []int    `json:"iou_thresholds"`
	Metrics       []Metric `json:"metrics"`
	Sigma         float64  `json:"sigma"`
}

// Partial is the serialisable statistics of one or more shards of a run.
// Merging partials of all shards gives exactly the single-run result.
// A Partial is plain data; Merge does not modify its arguments.
type Partial struct {
	SchemaVersion int           `json:"schema_version"`
	ConfigHash    string        `json:"config_hash"`
	Config        PartialConfig `json:"config"`
	// Dataset fingerprints the image list (see Dataset.Fingerprint); it
	// is part of ConfigHash.
	Dataset string `json:"dataset"`
	// Shards lists the shards covered, all with the same Count.
	Shards []Shard `json:"shards"`
	Stats  Stats   `json:"stats"`
}

// Partial returns the statistics of a as the partial result of shard for
// the dataset with the given fingerprint.
func (a *Accumulator) Partial(shard Shard, dataset string) Partial {
	return Partial{
		SchemaVersion: SchemaVersion,
		ConfigHash:    a.cfg.hash(dataset),
		Config: PartialConfig{
			Interval:      a.cfg.Interval,
			IoUThresholds: slices.Clone(a.cfg.IoUThresholds),
			Metrics:       slices.Clone(a.cfg.Metrics),
			Sigma:         a.cfg.Sigma,
		},
		Dataset: dataset,
		Shards:  []Shard{shard.norm()},
		Stats:   a.stats.clone(),
	}
}

func (p Partial) config() Config {
	return Config{Interval: p.Config.Interval, IoUThresholds: p.Config.IoUThresholds,
		Metrics: p.Config.Metrics, Sigma: p.Config.Sigma}
}

// validate checks the schema version, the configuration hash and the
// statistics' shapes.
func (p Partial) validate() (Config, error) {
	if p.SchemaVersion != SchemaVersion {
		return Config{}, fmt.Errorf("%w: schema version %d, want %d", ErrMismatch, p.SchemaVersion, SchemaVersion)
	}
	cfg, err := p.config().norm()
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if h := cfg.hash(p.Dataset); h != p.ConfigHash {
		return Config{}, fmt.Errorf("%w: configuration hash %s does not match its configuration (%s)", ErrMismatch, p.ConfigHash, h)
	}
	if len(p.Shards) == 0 {
		return Config{}, fmt.Errorf("%w: no shard listed", ErrMismatch)
	}
	for _, s := range p.Shards {
		if s.Count < 1 || s.Index < 0 || s.Index >= s.Count || s.Count != p.Shards[0].Count {
			return Config{}, fmt.Errorf("%w: bad shard %d/%d", ErrMismatch, s.Index, s.Count)
		}
	}
	want := newStats(cfg)
	if err := want.Add(p.Stats); err != nil {
		return Config{}, err
	}
	if !p.Stats.sane() {
		return Config{}, fmt.Errorf("%w: inconsistent counts", ErrMismatch)
	}
	return cfg, nil
}

// Complete reports whether p covers every shard of its run.
func (p Partial) Complete() bool {
	if len(p.Shards) == 0 {
		return false
	}
	return len(p.Shards) == p.Shards[0].Count
}

// Result computes the metrics from p.
func (p Partial) Result() (Result, error) {
	cfg, err := p.validate()
	if err != nil {
		return Result{}, err
	}
	return result(cfg, p.Stats)
}

// Merge adds partial results of the same run. It refuses partials with a
// different configuration hash (configuration or dataset), a different
// shard count, or a shard given twice.
func Merge(parts ...Partial) (Partial, error) {
	if len(parts) == 0 {
		return Partial{}, fmt.Errorf("%w: nothing to merge", ErrMismatch)
	}
	cfg, err := parts[0].validate()
	if err != nil {
		return Partial{}, fmt.Errorf("partial 0: %w", err)
	}
	out := parts[0]
	out.Stats = newStats(cfg)
	out.Shards = nil
	seen := map[int]bool{}
	for i, p := range parts {
		if _, err := p.validate(); err != nil {
			return Partial{}, fmt.Errorf("partial %d: %w", i, err)
		}
		if p.ConfigHash != out.ConfigHash {
			return Partial{}, fmt.Errorf("partial %d: %w: configuration hash %s, want %s", i, ErrMismatch, p.ConfigHash, out.ConfigHash)
		}
		for _, s := range p.Shards {
			if s.Count != parts[0].Shards[0].Count {
				return Partial{}, fmt.Errorf("partial %d: %w: shard %v of a run with %d shards", i, ErrMismatch, s, parts[0].Shards[0].Count)
			}
			if seen[s.Index] {
				return Partial{}, fmt.Errorf("partial %d: %w: duplicate shard %v", i, ErrMismatch, s)
			}
			seen[s.Index] = true
			out.Shards = append(out.Shards, s)
		}
		if err := out.Stats.Add(p.Stats); err != nil {
			return Partial{}, fmt.Errorf("partial %d: %w", i, err)
		}
	}
	slices.SortFunc(out.Shards, func(a, b Shard) int { return a.Index - b.Index })
	return out, nil
}

// ReadPartial decodes and validates one JSON partial result.
func ReadPartial(r io.Reader) (Partial, error) {
	var p Partial
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Partial{}, fmt.Errorf("wsol: decode partial: %w", err)
	}
	if _, err := p.validate(); err != nil {
		return Partial{}, err
	}
	return p, nil
}

// WritePartial encodes p as one indented JSON document.
func WritePartial(w io.Writer, p Partial) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("wsol: encode partial: %w", err)
	}
	return nil
}
