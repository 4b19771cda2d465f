package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/robust"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

// comparePartialKind names a compare shard's partial result;
// comparePartialSchema versions it.
const (
	comparePartialKind   = "cutmix-cam compare partial"
	comparePartialSchema = 1
)

// errPartialMismatch marks partials that do not belong to one run.
var errPartialMismatch = errors.New("compare partials do not belong to one run")

// comparePartial is what "compare --shard i/n" writes: the shard's
// per-image outcomes and WSOL statistics, from which "compare --merge"
// rebuilds exactly what a single run computes, bootstrap included.
type comparePartial struct {
	Kind          string         `json:"kind"`
	SchemaVersion int            `json:"schema_version"`
	ConfigHash    string         `json:"config_hash"`
	ToolVersion   string         `json:"tool_version"`
	Seed          uint64         `json:"seed"`
	Shard         wsol.Shard     `json:"shard"`
	Options       partialOptions `json:"options"`
	Data          dataInfo       `json:"data"`
	// Indices are the shard's images, indices into Data.IDs; the
	// per-image slices below follow this order.
	Indices []int          `json:"indices"`
	Models  []partialModel `json:"models"`
}

// partialOptions are compare's flags as given; merge validates them again.
type partialOptions struct {
	Methods    string `json:"methods"`
	FGSM       string `json:"fgsm"`
	PGD        string `json:"pgd"`
	Occlusion  string `json:"occlusion"`
	InBetween  bool   `json:"inbetween"`
	Steps      int    `json:"steps"`
	Norm       string `json:"norm"`
	Resize     string `json:"resize"`
	Limit      int    `json:"limit"`
	Bootstrap  int    `json:"bootstrap"`
	Batch      int    `json:"batch"`
	FaithSteps int    `json:"faith_steps"`
	FaithLimit int    `json:"faith_limit"`
	Grid       int    `json:"grid"`
	MaxPixels  int    `json:"max_pixels"`
	Size       int    `json:"size"`
}

type partialWSOL struct {
	Partial wsol.Partial `json:"partial"`
	Images  []imageStats `json:"per_image_stats"`
}

type partialFaith struct {
	Scores   []cam.FaithScore `json:"scores"`   // the shard's images among the first faith images
	Overlays [][]byte         `json:"overlays"` // PNG, the shard's images among the first --grid
	Inputs   [][]byte         `json:"inputs"`
}

type partialModel struct {
	Name    string                  `json:"name"`
	Path    string                  `json:"path"`
	SHA256  string                  `json:"sha256"`
	Layer   string                  `json:"layer"`
	Input   [3]int                  `json:"input_chw"`
	Classes int                     `json:"classes"`
	Pred    []int                   `json:"pred"`
	Correct []bool                  `json:"correct"`
	WSOL    map[string]partialWSOL  `json:"wsol,omitempty"`
	FGSM    *fgsmStage              `json:"fgsm,omitempty"`
	PGD     *pgdStage               `json:"pgd,omitempty"`
	Curves  *robust.Report          `json:"curves,omitempty"` // shard 0 only
	Faith   map[string]partialFaith `json:"faithfulness,omitempty"`
}

// hash returns the configuration hash of p: the tool version, seed,
// options, data fingerprint and the models' sha256, in order.
func (p *comparePartial) hash() string {
	shas := make([]string, len(p.Models))
	for i, m := range p.Models {
		shas[i] = m.SHA256
	}
	b, _ := json.Marshal(struct {
		Kind        string
		Schema      int
		ToolVersion string
		Seed        uint64
		Options     partialOptions
		Data        string
		Models      []string
	}{p.Kind, p.SchemaVersion, p.ToolVersion, p.Seed, p.Options, p.Data.Fingerprint, shas})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func partialFileName(sh wsol.Shard) string {
	return fmt.Sprintf("shard-%d-of-%d.json", sh.Index, sh.Count)
}

// writeComparePartial writes the shard's partial result into --out.
func writeComparePartial(o *compareOptions, d *compareData, idx []int, evals []*modelEval) error {
	p := &comparePartial{Kind: comparePartialKind, SchemaVersion: comparePartialSchema, ToolVersion: toolVersion(), Seed: o.g.seed, Shard: o.sh,
		Options: partialOptions{Methods: o.methods, FGSM: o.fgsm, PGD: o.pgd, Occlusion: o.occlusion, InBetween: o.inbetween, Steps: o.steps,
			Norm: o.norm, Resize: o.resize, Limit: o.limit, Bootstrap: o.bootstrap, Batch: o.batch, FaithSteps: o.faithSteps,
			FaithLimit: o.faithLimit, Grid: o.grid, MaxPixels: o.maxPixels, Size: o.size},
		Data:    dataInfo{Dir: d.dir, Layout: d.layout, Images: len(d.paths), Limit: o.limit, Fingerprint: d.fingerprint, IDs: d.ids, Labels: d.labels},
		Indices: idx}
	if p.Indices == nil {
		p.Indices = []int{}
	}
	for _, ev := range evals {
		mr := ev.run
		pm := partialModel{Name: mr.name, Path: mr.path, SHA256: mr.sha, Layer: mr.layer, Input: [3]int{mr.c, mr.h, mr.w}, Classes: mr.classes,
			Pred: ev.predict.Pred, Correct: ev.predict.Correct, Curves: ev.curves.Report}
		for name, ws := range ev.wsol {
			if pm.WSOL == nil {
				pm.WSOL = map[string]partialWSOL{}
			}
			pm.WSOL[name] = partialWSOL{Partial: ws.Partial, Images: ws.Images}
		}
		if len(o.eps) > 0 {
			f := ev.fgsm
			pm.FGSM = &f
		}
		if o.pgdAttack != nil {
			a := ev.pgd
			pm.PGD = &a
		}
		for name, fs := range ev.faith {
			if pm.Faith == nil {
				pm.Faith = map[string]partialFaith{}
			}
			pm.Faith[name] = partialFaith(fs)
		}
		p.Models = append(p.Models, pm)
	}
	p.ConfigHash = p.hash()
	path := filepath.Join(o.out, partialFileName(o.sh))
	// One compact line: the per-image statistics are long integer arrays.
	write := func(w io.Writer) error {
		if err := json.NewEncoder(w).Encode(p); err != nil {
			return fmt.Errorf("encode partial: %w", err)
		}
		return nil
	}
	if err := atomicfile.Write(path, 0, write); err != nil {
		return err
	}
	if !o.g.quiet {
		fmt.Fprintf(o.g.errOut, "wrote shard %s of %d images to %s\n", o.sh, len(idx), path)
	}
	return nil
}

// validateMerge checks the flags of compare --merge: the evaluation
// options come from the partials, so only --out may be given.
func (o *compareOptions) validateMerge(cmd *cobra.Command) error {
	if o.out == "" {
		return usagef("compare --merge needs --out DIR")
	}
	if st, err := os.Stat(o.out); err == nil && !st.IsDir() {
		return usagef("--out %s: is a file, want a folder", o.out)
	}
	var extra []string
	for _, name := range []string{"data", "methods", "fgsm", "pgd", "occlusion", "inbetween", "steps", "norm", "resize", "limit",
		"bootstrap", "batch", "faith-steps", "faith-limit", "grid", "max-pixels", "size", "shard", "seed"} {
		if cmd.Flags().Changed(name) {
			extra = append(extra, "--"+name)
		}
	}
	if len(extra) > 0 {
		return usagef("compare --merge takes its options from the partials; drop %s", strings.Join(extra, ", "))
	}
	return nil
}

// readComparePartial decodes and checks one partial file.
func readComparePartial(path string) (*comparePartial, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("partial %w", checkFile(path))
	}
	var kind struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(b, &kind) != nil || kind.Kind != comparePartialKind {
		return nil, fmt.Errorf("partial %s: not written by compare --shard (a wsol partial merges with \"cutmix-cam merge\")", path)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	p := &comparePartial{}
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("partial %s: %w", path, err)
	}
	if p.SchemaVersion != comparePartialSchema {
		return nil, fmt.Errorf("partial %s: %w: schema version %d, want %d", path, errPartialMismatch, p.SchemaVersion, comparePartialSchema)
	}
	if h := p.hash(); h != p.ConfigHash {
		return nil, fmt.Errorf("partial %s: configuration hash %.12s does not match its contents (%.12s)", path, p.ConfigHash, h)
	}
	n := len(p.Data.IDs)
	if p.Shard.Count < 1 || p.Shard.Index < 0 || p.Shard.Index >= p.Shard.Count || len(p.Data.Labels) != n ||
		!slices.Equal(p.Indices, p.Shard.Indices(n)) {
		return nil, fmt.Errorf("partial %s: inconsistent shard %v of %d images", path, p.Shard, n)
	}
	k := len(p.Indices)
	for _, m := range p.Models {
		if len(m.Pred) != k || len(m.Correct) != k || (m.PGD != nil && m.PGD.Skipped == "" && len(m.PGD.Correct) != k) {
			return nil, fmt.Errorf("partial %s: model %s: per-image results for %d images, want %d", path, m.Name, len(m.Pred), k)
		}
		if m.FGSM != nil && m.FGSM.Skipped == "" {
			for _, c := range m.FGSM.Correct {
				if len(c) != k {
					return nil, fmt.Errorf("partial %s: model %s: FGSM results for %d images, want %d", path, m.Name, len(c), k)
				}
			}
		}
		for meth, ws := range m.WSOL {
			if len(ws.Images) != k {
				return nil, fmt.Errorf("partial %s: model %s: %s statistics for %d images, want %d", path, m.Name, meth, len(ws.Images), k)
			}
		}
	}
	return p, nil
}

// runCompareMerge merges the partials of every shard of one compare run
// into the single run's outputs.
func runCompareMerge(o *compareOptions) error {
	var parts []*comparePartial
	for _, f := range o.models {
		p, err := readComparePartial(f)
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	first := parts[0]
	byIndex := map[int]string{}
	for i, p := range parts {
		switch {
		case p.ConfigHash != first.ConfigHash:
			return fmt.Errorf("partial %s: %w: configuration hash %.12s, %s has %.12s (models, data and options must match)", o.models[i], errPartialMismatch, p.ConfigHash, o.models[0], first.ConfigHash)
		case p.Shard.Count != first.Shard.Count:
			return fmt.Errorf("partial %s: %w: shard %v of a run with %d shards", o.models[i], errPartialMismatch, p.Shard, first.Shard.Count)
		}
		if f, ok := byIndex[p.Shard.Index]; ok {
			return fmt.Errorf("partial %s: %w: duplicate shard %v (also in %s)", o.models[i], errPartialMismatch, p.Shard, f)
		}
		byIndex[p.Shard.Index] = o.models[i]
	}
	var missing []string
	for i := range first.Shard.Count {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, first.Shard.Count))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d partials of %d shards: missing shard %s", len(parts), first.Shard.Count, strings.Join(missing, ", "))
	}
	slices.SortFunc(parts, func(a, b *comparePartial) int { return a.Shard.Index - b.Shard.Index })

	// The run's options, validated as compare validates its flags.
	g := *o.g
	g.seed = first.Seed
	po := first.Options
	mo := &compareOptions{g: &g, data: first.Data.Dir, out: o.out, methods: po.Methods, fgsm: po.FGSM, pgd: po.PGD, occlusion: po.Occlusion,
		inbetween: po.InBetween, steps: po.Steps, norm: po.Norm, resize: po.Resize, limit: po.Limit, bootstrap: po.Bootstrap, batch: po.Batch,
		faithSteps: po.FaithSteps, faithLimit: po.FaithLimit, grid: po.Grid, maxPixels: po.MaxPixels, size: po.Size,
		toolVersion: first.ToolVersion}
	if err := mo.validate(); err != nil {
		return fmt.Errorf("partial %s: options: %w", o.models[0], err)
	}
	for _, m := range first.Models {
		mo.models = append(mo.models, m.Path)
	}
	n := len(first.Data.IDs)
	data := &compareData{dir: first.Data.Dir, layout: first.Data.Layout, ids: first.Data.IDs, paths: first.Data.IDs,
		labels: first.Data.Labels, fingerprint: first.Data.Fingerprint}
	var evals []*modelEval
	for mi := range first.Models {
		ev, err := mergeModel(mo, parts, mi, n)
		if err != nil {
			return err
		}
		evals = append(evals, ev)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return writeCompare(mo, data, evals)
}

// mergeModel rebuilds model mi's evaluation of all n images from the
// partials, ordered by shard.
func mergeModel(o *compareOptions, parts []*comparePartial, mi, n int) (*modelEval, error) {
	pm := parts[0].Models[mi]
	mr := &modelRun{name: pm.Name, path: pm.Path, sha: pm.SHA256, layer: pm.Layer, c: pm.Input[0], h: pm.Input[1], w: pm.Input[2]}
	ev := &modelEval{run: mr, wsol: map[string]wsolStage{}, faith: map[string]faithStage{},
		predict: predictStage{Pred: make([]int, n), Correct: make([]bool, n)}}
	for _, p := range parts {
		m := p.Models[mi]
		mr.classes = max(mr.classes, m.Classes)
		for k, i := range p.Indices {
			ev.predict.Pred[i], ev.predict.Correct[i] = m.Pred[k], m.Correct[k]
		}
		if p.Shard.Index == 0 && m.Curves != nil {
			ev.curves.Report = m.Curves
		}
	}
	ev.predict.Classes = mr.classes

	for meth := range pm.WSOL {
		var ps []wsol.Partial
		st := wsolStage{Images: make([]imageStats, n)}
		for _, p := range parts {
			w := p.Models[mi].WSOL[meth]
			ps = append(ps, w.Partial)
			for k, i := range p.Indices {
				st.Images[i] = w.Images[k]
			}
		}
		merged, err := wsol.Merge(ps...)
		if err != nil {
			return nil, fmt.Errorf("model %s wsol/%s: %w", pm.Name, meth, err)
		}
		st.Partial = merged
		if st.Result, err = merged.Result(); err != nil {
			return nil, fmt.Errorf("model %s wsol/%s: %w", pm.Name, meth, err)
		}
		ev.wsol[meth] = st
	}

	if pm.FGSM != nil {
		var attacks []*robust.AttackResult
		var correct [][][]bool
		for _, p := range parts {
			f := p.Models[mi].FGSM
			if f == nil || f.Skipped != "" {
				ev.fgsm.Skipped = pm.FGSM.Skipped
				break
			}
			attacks, correct = append(attacks, f.Attack), append(correct, f.Correct)
		}
		if ev.fgsm.Skipped == "" {
			ev.fgsm.Attack = sumAttacks(attacks)
			ev.fgsm.Correct = make([][]bool, len(ev.fgsm.Attack.Points))
			for e := range ev.fgsm.Correct {
				ev.fgsm.Correct[e] = make([]bool, n)
				for j, p := range parts {
					for k, i := range p.Indices {
						ev.fgsm.Correct[e][i] = correct[j][e][k]
					}
				}
			}
		}
	}
	if pm.PGD != nil {
		var attacks []*robust.AttackResult
		ev.pgd.Correct = make([]bool, n)
		for _, p := range parts {
			a := p.Models[mi].PGD
			if a == nil || a.Skipped != "" {
				ev.pgd = pgdStage{Skipped: pm.PGD.Skipped}
				break
			}
			attacks = append(attacks, a.Attack)
			for k, i := range p.Indices {
				ev.pgd.Correct[i] = a.Correct[k]
			}
		}
		if ev.pgd.Skipped == "" {
			ev.pgd.Attack = sumAttacks(attacks)
		}
	}

	nf, ng := o.faithCount(n), min(o.grid, n)
	for meth := range pm.Faith {
		fs := faithStage{Scores: make([]cam.FaithScore, nf), Overlays: make([][]byte, ng), Inputs: make([][]byte, ng)}
		for _, p := range parts {
			f := p.Models[mi].Faith[meth]
			k, kg := 0, 0
			for _, i := range p.Indices {
				if i < nf {
					if k >= len(f.Scores) {
						return nil, fmt.Errorf("model %s faith/%s: shard %v has %d scores: %w", pm.Name, meth, p.Shard, len(f.Scores), errPartialMismatch)
					}
					fs.Scores[i] = f.Scores[k]
					k++
				}
				if i < ng && kg < len(f.Overlays) && kg < len(f.Inputs) {
					fs.Overlays[i], fs.Inputs[i] = f.Overlays[kg], f.Inputs[kg]
					kg++
				}
			}
		}
		ev.faith[meth] = fs
	}
	return ev, nil
}

// sumAttacks adds the counts of the shards' attack results and recomputes
// the rates, as the single run computes them.
func sumAttacks(as []*robust.AttackResult) *robust.AttackResult {
	out := *as[0]
	out.Points = slices.Clone(as[0].Points)
	out.Images, out.CleanCorrect = 0, 0
	for i := range out.Points {
		p := &out.Points[i]
		p.Correct, p.Successes, p.MaxLinf = 0, 0, 0
	}
	for _, a := range as {
		out.Images += a.Images
		out.CleanCorrect += a.CleanCorrect
		for i := range out.Points {
			p, q := &out.Points[i], a.Points[i]
			p.Correct += q.Correct
			p.Successes += q.Successes
			p.MaxLinf = max(p.MaxLinf, q.MaxLinf)
		}
	}
	finishAttack(&out)
	return &out
}
