package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/disintegration/imaging"
	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/robust"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

// compareSchema versions results.json; cacheSchema the cache entries
// (bump it whenever a stage's computation or its cached type changes).
const (
	compareSchema = 1
	cacheSchema   = "compare-cache-1"
)

type compareOptions struct {
	g          *globalOptions
	models     []string
	data       string
	methods    string
	fgsm       string
	pgd        string
	occlusion  string
	inbetween  bool
	steps      int
	out        string
	norm       string
	resize     string
	limit      int
	bootstrap  int
	batch      int
	faithSteps int
	faithLimit int
	grid       int
	maxPixels  int
	size       int
	shard      string
	merge      bool

	meths     []cam.Method
	eps       []float64
	pgdAttack *robust.PGD // nil: no PGD
	occluders []robust.Occluder
	sh        wsol.Shard
	sharded   bool

	// afterStage, if set, is called after each stage of each model
	// (tests interrupt runs with it); computed records the stages this
	// run computed rather than read from the cache, as "model/stage".
	afterStage func(model, stage string)
	computed   []string
	// noFaith skips faithfulness and overlays (audit).
	noFaith bool
	// toolVersion, if set, is the version recorded in results.json: that
	// of the shards, when merging.
	toolVersion string
}

func newCompareCmd(g *globalOptions, runF func(*compareOptions) error) *cobra.Command {
	o := &compareOptions{g: g}
	cmd := &cobra.Command{
		Use:   "compare MODEL... --data DIR --out DIR",
		Short: "Compare checkpoints on the same images: accuracy, WSOL, robustness, faithfulness, with bootstrap CIs",
		Long: `Evaluate every MODEL on the same images, probes and seeds and compare them
with the first MODEL (the baseline):

  accuracy      top-1 accuracy
  wsol          MaxBoxAccV2, MaxBoxAcc, PxAP (with masks), Top-1 / GT-known Loc
                at σ = 0.15, per --methods, as "cutmix-cam wsol" computes them
  fgsm          top-1 accuracy under FGSM at each ε, as "cutmix-cam robust"
  pgd           top-1 accuracy under PGD (--pgd, off by default), as
                "cutmix-cam robust --pgd"; the random start is seeded by --seed
  curves        occlusion and in-between-class error curves
  faithfulness  deletion / insertion AUC (RISE) and average drop / increase in
                confidence (Grad-CAM++) of each method's map of the predicted
                class, on the first --faith-limit images

Differences to the baseline get paired bootstrap 95% confidence intervals
over images (--bootstrap resamples, seeded by --seed): each resample draws
the images with replacement once and every model is scored on the same
draw. Dataset-level metrics (MaxBoxAcc's max over thresholds, PxAP) are
recomputed from the resampled per-image statistics, not averaged.

--out receives results.json (every number), summary.md (the table) and
report.html (one self-contained file). Finished stages are cached in
--out/.cache by model hash, data fingerprint and options, so a rerun after
an interruption skips them.

DIR is a data set in wsolevaluation's layout (WSOL needs it) or an
ImageFolder tree (WSOL is skipped).

--shard i/n evaluates image k only when k mod n = i (i may be "env" to take
JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID) and writes the partial result
--out/shard-i-of-n.json instead of the report; shard 0 also computes the
occlusion and in-between curves, which are not split. "cutmix-cam compare
--merge --out DIR PARTIAL..." combines the partials of all n shards into the
results.json, summary.md and report.html of the single run, with the same
numbers and bootstrap; it refuses partials of another configuration (models,
data, options) and duplicate or missing shards. With --merge the arguments
are the partial files and every evaluation option (and --seed) comes from
them.`,
		Example: `  cutmix-cam compare --norm unit --out out/cmp --data eval/ base.onnx cutmix.onnx
  cutmix-cam compare --norm unit --shard env/3 --out out/shards --data eval/ base.onnx cutmix.onnx
  cutmix-cam compare --merge --out out/cmp out/shards/shard-0-of-3.json out/shards/shard-1-of-3.json out/shards/shard-2-of-3.json`,
		Args: minArgs(1, "at least one MODEL (with --merge, PARTIAL file)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.models = args
			if o.merge {
				if err := o.validateMerge(cmd); err != nil {
					return err
				}
				if runF != nil {
					return runF(o)
				}
				return runCompareMerge(o)
			}
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runCompare(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "labelled images (wsolevaluation layout or ImageFolder)")
	f.StringVar(&o.methods, "methods", "cam,gradcam", "comma-separated CAM methods for WSOL, faithfulness and overlays")
	f.StringVar(&o.fgsm, "fgsm", "1/255,2/255,4/255,8/255", "FGSM ε list in pixel units, or none")
	f.StringVar(&o.pgd, "pgd", "none", "PGD settings, e.g. eps=8/255,step=2/255,steps=10 (torchattacks defaults), or none")
	f.StringVar(&o.occlusion, "occlusion", "center,boundary", "occlusion curves: center, boundary, both comma-separated, or none")
	f.BoolVar(&o.inbetween, "inbetween", true, "Mixup and CutMix in-between-class curves")
	f.IntVar(&o.steps, "steps", 14, "points on the occlusion and in-between curves")
	f.StringVarP(&o.out, "out", "o", "", "output folder (created)")
	f.StringVar(&o.shard, "shard", "", "evaluate shard i/n only (i may be env) and write --out/shard-i-of-n.json")
	f.BoolVar(&o.merge, "merge", false, "merge the shard partials given as arguments into --out")
	f.StringVar(&o.norm, "norm", "imagenet", "the models' input normalisation: imagenet, unit, none or MEAN/STD")
	f.StringVar(&o.resize, "resize", "warp", "fit images to each model: warp or crop")
	f.IntVar(&o.limit, "limit", 0, "use only the first N images (0: all)")
	f.IntVar(&o.bootstrap, "bootstrap", 1000, "bootstrap resamples for the confidence intervals (0: none)")
	f.IntVar(&o.batch, "batch", 32, "images per model call")
	f.IntVar(&o.faithSteps, "faith-steps", 16, "deletion and insertion steps")
	f.IntVar(&o.faithLimit, "faith-limit", 200, "faithfulness on the first N images only (0: all)")
	f.IntVar(&o.grid, "grid", 6, "images in the overlay grid")
	f.IntVar(&o.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&o.size, "size", 0, "input height and width where a model leaves them dynamic (default 224)")
	return cmd
}

func (o *compareOptions) validate() error {
	if o.data == "" {
		return usagef("compare needs --data DIR (labelled images)")
	}
	if o.out == "" {
		return usagef("compare needs --out DIR")
	}
	if st, err := os.Stat(o.out); err == nil && !st.IsDir() {
		return usagef("--out %s: is a file, want a folder", o.out)
	}
	o.meths = nil
	for _, s := range strings.Split(o.methods, ",") {
		s = strings.TrimSpace(s)
		if s == "" || s == "none" {
			continue
		}
		m, err := cam.Lookup(s)
		if err != nil {
			return usagef("--methods %q: use %s", s, strings.Join(cam.Names(), ", "))
		}
		o.meths = append(o.meths, m)
	}
	var err error
	o.eps = nil
	if o.fgsm != "none" {
		if o.eps, err = robust.ParseEpsilons(o.fgsm); err != nil {
			return usageError{fmt.Errorf("--fgsm: %w", err)}
		}
	}
	o.pgdAttack = nil
	if o.pgd != "" && o.pgd != "none" {
		a, err := robust.ParsePGD(o.pgd)
		if err != nil {
			return usageError{fmt.Errorf("--pgd: %w", err)}
		}
		// The defaults filled in, so that they are recorded; the random
		// start is seeded by --seed, as in robust.EvalPGD.
		if a.Epsilon == 0 {
			a.Epsilon = robust.DefaultEpsilon
		}
		if a.Step == 0 {
			a.Step = robust.DefaultStep
		}
		if a.Steps == 0 {
			a.Steps = robust.DefaultSteps
		}
		a.Seed = 0
		o.pgdAttack = &a
	}
	o.sharded = false
	if o.shard != "" {
		sh, err := parseShardFlag(o.shard)
		if err != nil {
			return err
		}
		o.sh, o.sharded = sh, true
	}
	o.occluders = nil
	if o.occlusion != "none" {
		for _, s := range strings.Split(o.occlusion, ",") {
			oc, err := robust.ParseOccluder(strings.TrimSpace(s))
			if err != nil {
				return usagef("--occlusion %q: use center, boundary or none", s)
			}
			o.occluders = append(o.occluders, oc)
		}
	}
	if o.steps < 1 || o.batch < 1 || o.limit < 0 || o.bootstrap < 0 || o.faithSteps < 1 || o.faithLimit < 0 || o.grid < 0 {
		return usagef("--steps, --batch and --faith-steps must be at least 1; --limit, --bootstrap, --faith-limit and --grid not negative")
	}
	if _, err := preprocess.ParseNorm(o.norm); err != nil {
		return usageError{fmt.Errorf("--norm: %w", err)}
	}
	if _, err := preprocess.ParseFit(o.resize); err != nil {
		return usageError{fmt.Errorf("--resize: %w", err)}
	}
	return nil
}

// compareData is the image list every model sees.
type compareData struct {
	dir     string
	layout  string // "wsol" or "imagefolder"
	ids     []string
	paths   []string
	labels  []int
	wsol    *wsol.Dataset // nil for an ImageFolder tree
	maskDir string
	// fingerprint hashes the ids, labels, image bytes and ground truth.
	fingerprint string
}

func loadCompareData(ctx context.Context, dir string, limit int) (*compareData, error) {
	paths, labels, err := labelledImages(ctx, dir)
	if err != nil {
		return nil, err
	}
	if limit > 0 && limit < len(paths) {
		paths, labels = paths[:limit], labels[:limit]
	}
	d := &compareData{dir: dir, layout: "imagefolder", paths: paths, labels: labels}
	h := sha256.New()
	if st, err := os.Stat(filepath.Join(dir, "metadata")); err == nil && st.IsDir() {
		wd, maskDir, err := loadWSOLData(ctx, dir)
		if err != nil {
			return nil, err
		}
		if limit > 0 && limit < len(wd.Items) {
			wd.Items = wd.Items[:limit]
		}
		d.layout, d.wsol, d.maskDir = "wsol", wd, maskDir
		fmt.Fprintf(h, "wsol %s\n", wd.Fingerprint())
	}
	for i, p := range paths {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			rel = p
		}
		d.ids = append(d.ids, filepath.ToSlash(rel))
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("image %w", checkFile(p))
		}
		fmt.Fprintf(h, "%q %d %x\n", d.ids[i], labels[i], sha256.Sum256(b))
	}
	d.fingerprint = hex.EncodeToString(h.Sum(nil))
	return d, nil
}

// modelRun is one opened model with its input configuration.
type modelRun struct {
	name, path, sha string
	m               *onnx.Model
	layer           string
	c, h, w         int
	classes         int
	norm            preprocess.Norm
	pixels          preprocess.Config // [0,1] pixels at the model's size
	tensor          preprocess.Config // the model's normalised input
}

func modelName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// stageCache stores stage results as gzipped gob files named by the hash
// of everything they depend on.
type stageCache struct{ dir string }

func (c stageCache) key(parts ...string) string {
	h := sha256.New()
	for _, p := range append([]string{cacheSchema}, parts...) {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (c stageCache) path(key string) string { return filepath.Join(c.dir, key+".gob.gz") }

// load decodes the entry into v; a missing or unreadable entry reports false.
func (c stageCache) load(key string, v any) bool {
	f, err := os.Open(c.path(key))
	if err != nil {
		return false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	return gob.NewDecoder(zr).Decode(v) == nil
}

func (c stageCache) store(key string, v any) error {
	return atomicfile.Write(c.path(key), 0, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if err := gob.NewEncoder(zw).Encode(v); err != nil {
			return err
		}
		return zw.Close()
	})
}

// evaluator runs the stages of compare (and audit) on one data set.
type evaluator struct {
	g     *globalOptions
	o     *compareOptions
	data  *compareData
	cache *stageCache // nil: no caching
	// idx lists the images evaluated, in order: all of them, or a shard's.
	idx []int
}

// indices returns the images this run evaluates.
func (e *evaluator) indices() []int {
	if e.idx == nil {
		e.idx = e.o.sh.Indices(len(e.data.paths)) // the zero Shard is every image
	}
	return e.idx
}

// shardKey distinguishes a shard's cache entries from the whole run's.
func (e *evaluator) shardKey() string {
	if e.o.sharded && e.o.sh.Count > 1 {
		return "shard=" + e.o.sh.String()
	}
	return ""
}

// stage returns the cached result of stage for mr or computes and caches
// it. opts must hold every option the stage depends on.
func stage[T any](ctx context.Context, e *evaluator, mr *modelRun, name, opts string, compute func(*progress) (T, error)) (T, error) {
	var v T
	var key string
	if e.cache != nil {
		parts := []string{mr.sha, e.data.fingerprint, name, opts, e.o.norm, e.o.resize, fmt.Sprint(e.o.size, e.o.maxPixels)}
		if k := e.shardKey(); k != "" {
			parts = append(parts, k)
		}
		key = e.cache.key(parts...)
		if e.cache.load(key, &v) {
			e.logf("%s %s: cached", mr.name, name)
			if e.o.afterStage != nil {
				e.o.afterStage(mr.name, name)
			}
			return v, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return v, err
	}
	bar := newProgress(e.g, mr.name+" "+name, len(e.indices()))
	v, err := compute(bar)
	bar.done()
	if err != nil {
		return v, fmt.Errorf("%s %s: %w", mr.name, name, err)
	}
	e.o.computed = append(e.o.computed, mr.name+"/"+name)
	if e.cache != nil {
		if err := e.cache.store(key, v); err != nil {
			return v, err
		}
	}
	e.logf("%s %s: done", mr.name, name)
	if e.o.afterStage != nil {
		e.o.afterStage(mr.name, name)
	}
	return v, nil
}

// logf writes one log line on stderr when it is a terminal and --quiet
// is unset.
func (e *evaluator) logf(format string, args ...any) {
	if e.g.stderrTTY && !e.g.quiet && !e.g.json {
		fmt.Fprintf(e.g.errOut, format+"\n", args...)
	}
}

// open opens a model and finds its layer and class count.
func (e *evaluator) open(ctx context.Context, path string) (*modelRun, error) {
	m, err := e.g.openModel(path, e.o.size)
	if err != nil {
		return nil, err
	}
	mr := &modelRun{name: modelName(path), path: path, sha: m.SHA256(), m: m}
	l, err := m.TargetLayer(ctx)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	mr.layer = l.Tensor
	mr.c, mr.h, mr.w = m.InputShape()
	mr.norm, _ = preprocess.ParseNorm(e.o.norm)
	fit, _ := preprocess.ParseFit(e.o.resize)
	mr.pixels = preprocess.Config{Width: mr.w, Height: mr.h, Channels: mr.c, Fit: fit, Norm: preprocess.Unit}
	mr.tensor = mr.pixels
	mr.tensor.Norm = mr.norm
	return mr, nil
}

// imageSet returns the images this run evaluates (all, or the shard's).
func (e *evaluator) imageSet(mr *modelRun) *imageSet {
	set := &imageSet{cfg: mr.pixels, maxPixels: e.o.maxPixels}
	for _, i := range e.indices() {
		set.paths, set.labels = append(set.paths, e.data.paths[i]), append(set.labels, e.data.labels[i])
	}
	return set
}

// allImages returns every image of the data set, whatever the shard.
func (e *evaluator) allImages(mr *modelRun) *imageSet {
	return &imageSet{paths: e.data.paths, labels: e.data.labels, cfg: mr.pixels, maxPixels: e.o.maxPixels}
}

// predictStage holds each image's top-1 prediction.
type predictStage struct {
	Classes int
	Pred    []int
	Correct []bool
}

func (e *evaluator) predict(ctx context.Context, mr *modelRun) (predictStage, error) {
	return stage(ctx, e, mr, "predict", fmt.Sprint(e.o.batch), func(bar *progress) (predictStage, error) {
		var out predictStage
		set := e.imageSet(mr)
		px := &onnx.Pixels{Model: mr.m, Norm: mr.norm}
		err := batches(ctx, set, e.o.batch, func(first int, b robust.Batch, labels []int) error {
			l, k, err := px.Logits(ctx, b)
			if err != nil {
				return err
			}
			out.Classes = k
			for j := range b.N {
				p := argmax(l[j*k : (j+1)*k])
				out.Pred = append(out.Pred, p)
				out.Correct = append(out.Correct, p == labels[j])
			}
			bar.add(b.N)
			return nil
		})
		return out, err
	})
}

// batches loads set in batches of n pixel images and calls f on each.
func batches(ctx context.Context, set *imageSet, n int, f func(first int, b robust.Batch, labels []int) error) error {
	c, h, w := set.Shape()
	size := c * h * w
	for first := 0; first < set.Len(); first += n {
		k := min(n, set.Len()-first)
		b := robust.Batch{Data: make([]float32, k*size), N: k, C: c, H: h, W: w}
		labels := make([]int, k)
		for j := range k {
			if err := set.Load(ctx, first+j, b.Data[j*size:(j+1)*size]); err != nil {
				return err
			}
			labels[j] = set.Label(first + j)
		}
		if err := f(first, b, labels); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// wsolStage holds one method's WSOL result and per-image statistics.
type wsolStage struct {
	Result  wsol.Result
	Partial wsol.Partial // the whole run, the template for bootstrap statistics
	Images  []imageStats
}

func (e *evaluator) wsolMethod(ctx context.Context, mr *modelRun, meth cam.Method) (wsolStage, error) {
	wo := &wsolOptions{g: e.g, meth: meth, batch: e.o.batch, maxPixels: e.o.maxPixels, interval: 0.001, ious: []int{30, 50, 70}, sigma: 0.15}
	return stage(ctx, e, mr, "wsol/"+meth.Name(), fmt.Sprint(e.o.batch, wo.interval, wo.ious, wo.sigma), func(bar *progress) (wsolStage, error) {
		var out wsolStage
		cfg := wo.config()
		acc, err := wsol.NewAccumulator(cfg)
		if err != nil {
			return out, err
		}
		order := e.indices()
		src := &modelSource{ctx: ctx, o: wo, m: mr.m, layer: mr.layer, d: e.data.wsol, root: e.data.dir, maskDir: e.data.maskDir,
			cfg: mr.tensor, order: order, cache: map[int]wsol.Sample{}, bar: bar}
		prev := acc.Stats()
		for _, i := range order {
			smp, err := src.Sample(ctx, i)
			if err != nil {
				return out, err
			}
			if err := acc.Add(smp); err != nil {
				return out, fmt.Errorf("image %s: %w", smp.ID, err)
			}
			cur := acc.Stats()
			out.Images = append(out.Images, diffStats(cur, prev))
			prev = cur
		}
		if out.Result, err = acc.Result(); err != nil {
			return out, err
		}
		sh := wsol.Shard{Index: 0, Count: 1}
		if e.o.sharded {
			sh = e.o.sh
		}
		out.Partial = acc.Partial(sh, "dataset="+e.data.wsol.Fingerprint())
		return out, nil
	})
}

// fgsmStage holds per-ε, per-image correctness under FGSM.
type fgsmStage struct {
	Attack  *robust.AttackResult
	Correct [][]bool // [ε][image]
	Skipped string
}

// tallyClean classifies the clean batch, counts its images and the
// correctly classified ones into res, and reports which are correct.
func tallyClean(ctx context.Context, px *onnx.Pixels, b robust.Batch, labels []int, res *robust.AttackResult) ([]bool, error) {
	l, k, err := px.Logits(ctx, b)
	if err != nil {
		return nil, err
	}
	clean := make([]bool, b.N)
	for j := range b.N {
		clean[j] = argmax(l[j*k:(j+1)*k]) == labels[j]
		res.Images++
		if clean[j] {
			res.CleanCorrect++
		}
	}
	return clean, nil
}

func (e *evaluator) fgsm(ctx context.Context, mr *modelRun) (fgsmStage, error) {
	return stage(ctx, e, mr, "fgsm", fmt.Sprint(e.o.batch, e.o.eps), func(bar *progress) (fgsmStage, error) {
		out := fgsmStage{Correct: make([][]bool, len(e.o.eps))}
		res := &robust.AttackResult{Attack: "fgsm", Target: robust.Untargeted.String(), Space: robust.Space, Loss: robust.Loss,
			Clip: "[0,1]", Steps: 1, Seed: e.g.seed}
		for _, eps := range e.o.eps {
			res.Points = append(res.Points, robust.AttackPoint{Epsilon: eps, Epsilon255: eps * 255})
		}
		set := e.imageSet(mr)
		px := &onnx.Pixels{Model: mr.m, Norm: mr.norm}
		err := batches(ctx, set, e.o.batch, func(first int, b robust.Batch, labels []int) error {
			clean, err := tallyClean(ctx, px, b, labels, res)
			if err != nil {
				return err
			}
			for i, eps := range e.o.eps {
				adv, err := robust.FGSM{Epsilon: eps}.Perturb(ctx, px, b, labels)
				if err != nil {
					return err
				}
				al, k, err := px.Logits(ctx, adv)
				if err != nil {
					return err
				}
				out.Correct[i] = tallyAttack(&res.Points[i], out.Correct[i], b.Data, adv.Data, al, k, labels, clean)
			}
			bar.add(b.N)
			return nil
		})
		if errors.Is(err, robust.ErrNoGradients) {
			return fgsmStage{Skipped: oneLine(err.Error())}, nil
		}
		if err != nil {
			return out, err
		}
		finishAttack(res)
		out.Attack = res
		return out, nil
	})
}

// pgdStage holds per-image correctness under PGD.
type pgdStage struct {
	Attack  *robust.AttackResult
	Correct []bool
	Skipped string
}

// pgd attacks the images with e.o.pgdAttack as robust.EvalPGD does: image
// i (its index in the whole data set) starts from stream i of --seed, so
// a shard draws the same start as the single run.
func (e *evaluator) pgd(ctx context.Context, mr *modelRun) (pgdStage, error) {
	a := *e.o.pgdAttack
	a.Seed = e.g.seed
	return stage(ctx, e, mr, "pgd", fmt.Sprint(e.o.batch, a.Epsilon, a.Step, a.Steps, a.NoRandomStart, a.Seed), func(bar *progress) (pgdStage, error) {
		var out pgdStage
		res := &robust.AttackResult{Attack: "pgd", Target: robust.Untargeted.String(), Space: robust.Space, Loss: robust.Loss,
			Clip: "[0,1] after every step", Step: a.Step, Steps: a.Steps, RandomStart: !a.NoRandomStart, Seed: a.Seed,
			Points: []robust.AttackPoint{{Epsilon: a.Epsilon, Epsilon255: a.Epsilon * 255}}}
		idx := e.indices()
		set := e.imageSet(mr)
		px := &onnx.Pixels{Model: mr.m, Norm: mr.norm}
		err := batches(ctx, set, e.o.batch, func(first int, b robust.Batch, labels []int) error {
			clean, err := tallyClean(ctx, px, b, labels, res)
			if err != nil {
				return err
			}
			// Perturb seeds sample j of a batch from stream Stream+j, so
			// attack each run of consecutive data-set indices together.
			size := b.C * b.H * b.W
			adv := b
			adv.Data = make([]float32, len(b.Data))
			for s := 0; s < b.N; {
				t := s + 1
				for t < b.N && idx[first+t] == idx[first+t-1]+1 {
					t++
				}
				sub := robust.Batch{Data: b.Data[s*size : t*size], N: t - s, C: b.C, H: b.H, W: b.W}
				a.Stream = uint64(idx[first+s])
				x, err := a.Perturb(ctx, px, sub, labels[s:t])
				if err != nil {
					return err
				}
				copy(adv.Data[s*size:], x.Data)
				s = t
			}
			al, k, err := px.Logits(ctx, adv)
			if err != nil {
				return err
			}
			out.Correct = tallyAttack(&res.Points[0], out.Correct, b.Data, adv.Data, al, k, labels, clean)
			bar.add(b.N)
			return nil
		})
		if errors.Is(err, robust.ErrNoGradients) {
			return pgdStage{Skipped: oneLine(err.Error())}, nil
		}
		if err != nil {
			return out, err
		}
		finishAttack(res)
		out.Attack = res
		return out, nil
	})
}

// finishAttack fills in the rates of an attack from its counts.
func finishAttack(res *robust.AttackResult) {
	res.CleanAccuracy = frac(res.CleanCorrect, res.Images)
	for i := range res.Points {
		p := &res.Points[i]
		p.Accuracy, p.SuccessRate = frac(p.Correct, res.Images), frac(p.Successes, res.CleanCorrect)
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// curvesStage holds the occlusion and in-between curves.
type curvesStage struct{ Report *robust.Report }

func (e *evaluator) curves(ctx context.Context, mr *modelRun) (curvesStage, error) {
	c := robust.Config{BatchSize: e.o.batch, Seed: e.g.seed}
	if len(e.o.occluders) > 0 {
		c.Stages = append(c.Stages, robust.StageOcclusion)
		c.Occlusion.Occluders, c.Occlusion.Steps = e.o.occluders, e.o.steps
	}
	if e.o.inbetween {
		c.Stages = append(c.Stages, robust.StageBetween)
		c.Between.Steps = e.o.steps
	}
	return stage(ctx, e, mr, "curves", fmt.Sprint(e.o.batch, e.g.seed, e.o.occluders, e.o.inbetween, e.o.steps), func(bar *progress) (curvesStage, error) {
		c.Progress = func(_ robust.Stage, done, total int) { bar.total = total; bar.add(done - bar.n) }
		rep, err := robust.Evaluate(ctx, &onnx.Pixels{Model: mr.m, Norm: mr.norm}, e.allImages(mr), c)
		if err != nil {
			return curvesStage{}, err
		}
		rep.Normalization = e.o.norm
		return curvesStage{Report: rep}, nil
	})
}

// faithStage holds one method's faithfulness scores and the overlays of
// the first grid images.
type faithStage struct {
	Scores   []cam.FaithScore
	Overlays [][]byte // PNG
	Inputs   [][]byte // PNG of the resized inputs
}

// faithCount returns how many of the first images faithfulness covers.
func (o *compareOptions) faithCount(images int) int {
	n := images
	if o.faithLimit > 0 {
		n = min(n, o.faithLimit)
	}
	return max(n, min(o.grid, images))
}

// faith scores the images of this run among the first faithCount; pred
// holds this run's predictions, in the order of indices.
func (e *evaluator) faith(ctx context.Context, mr *modelRun, meth cam.Method, pred []int) (faithStage, error) {
	var imgs, imgPred []int // data-set indices and their predictions
	for k, i := range e.indices() {
		if i < e.o.faithCount(len(e.data.paths)) {
			imgs, imgPred = append(imgs, i), append(imgPred, pred[k])
		}
	}
	n := len(imgs)
	return stage(ctx, e, mr, "faith/"+meth.Name(), fmt.Sprint(e.o.batch, e.o.faithSteps, e.o.faithLimit, e.o.grid), func(bar *progress) (faithStage, error) {
		var out faithStage
		bar.total = n
		size := mr.tensor.Len()
		plane := mr.w * mr.h
		// Deletion replaces pixels with black, insertion starts from a
		// Gaussian blur of the image (RISE, σ 5 px on 224, scaled).
		base := make([]float32, size)
		for c := range mr.c {
			_, off := mr.norm.Affine(c)
			for i := range plane {
				base[c*plane+i] = off
			}
		}
		sigma := 5 * float64(mr.w) / 224
		for first := 0; first < n; first += e.o.batch {
			k := min(e.o.batch, n-first)
			data := make([]float32, k*size)
			blurred := make([][]float32, k)
			resized := make([]*image.NRGBA, k)
			for j := range k {
				p := e.data.paths[imgs[first+j]]
				img, err := preprocess.Load(p, e.o.maxPixels)
				if err != nil {
					return out, fmt.Errorf("image %w", err)
				}
				r, err := mr.tensor.Resize(img)
				if err != nil {
					return out, fmt.Errorf("image %s: %w", p, err)
				}
				resized[j] = r
				if err := mr.tensor.Tensor(data[j*size:(j+1)*size], r); err != nil {
					return out, fmt.Errorf("image %s: %w", p, err)
				}
				blurred[j] = make([]float32, size)
				if err := mr.tensor.Tensor(blurred[j], imaging.Blur(r, sigma)); err != nil {
					return out, fmt.Errorf("image %s: %w", p, err)
				}
			}
			b := cam.Batch{Data: data, N: k, C: mr.c, H: mr.h, W: mr.w}
			classes := imgPred[first : first+k]
			rs, err := cam.Compute(ctx, mr.m, b, meth, cam.Options{Layer: mr.layer, Target: cam.PerImage(classes)})
			if err != nil {
				return out, err
			}
			maps := make([]cam.Map, k)
			for j, r := range rs {
				maps[j] = r.Map.Scoremap(mr.w, mr.h, cam.Linear)
			}
			f := cam.Faithfulness{Steps: e.o.faithSteps, Baseline: base, Layer: mr.layer, StartOf: func(j int) []float32 { return blurred[j] }}
			sc, err := f.Score(ctx, mr.m, b, maps, classes)
			if err != nil {
				return out, err
			}
			out.Scores = append(out.Scores, sc...)
			for j := range k {
				if imgs[first+j] >= e.o.grid {
					break
				}
				ov := cam.Overlay(resized[j], maps[j], cam.Style{})
				out.Overlays = append(out.Overlays, pngBytes(ov))
				out.Inputs = append(out.Inputs, pngBytes(resized[j]))
			}
			bar.add(k)
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		return out, nil
	})
}

func pngBytes(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil
	}
	return buf.Bytes()
}

// modelEval is everything compare measured on one model.
type modelEval struct {
	run     *modelRun
	predict predictStage
	wsol    map[string]wsolStage
	fgsm    fgsmStage
	pgd     pgdStage
	curves  curvesStage
	faith   map[string]faithStage
}

// evaluate runs every stage on the model at path.
func (e *evaluator) evaluate(ctx context.Context, path string) (*modelEval, error) {
	mr, err := e.open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer mr.m.Close()
	ev := &modelEval{run: mr, wsol: map[string]wsolStage{}, faith: map[string]faithStage{}}
	if ev.predict, err = e.predict(ctx, mr); err != nil {
		return nil, err
	}
	mr.classes = ev.predict.Classes
	if e.data.wsol != nil {
		for _, m := range e.o.meths {
			ws, err := e.wsolMethod(ctx, mr, m)
			if err != nil {
				return nil, err
			}
			ev.wsol[m.Name()] = ws
		}
	}
	if len(e.o.eps) > 0 {
		if ev.fgsm, err = e.fgsm(ctx, mr); err != nil {
			return nil, err
		}
	}
	if e.o.pgdAttack != nil {
		if ev.pgd, err = e.pgd(ctx, mr); err != nil {
			return nil, err
		}
	}
	// The curves are not split: a shard run computes them in shard 0.
	if (len(e.o.occluders) > 0 || e.o.inbetween) && e.o.sh.Index == 0 {
		if ev.curves, err = e.curves(ctx, mr); err != nil {
			return nil, err
		}
	}
	for _, m := range e.o.meths {
		if e.o.noFaith {
			break
		}
		fs, err := e.faith(ctx, mr, m, ev.predict.Pred)
		if err != nil {
			return nil, err
		}
		ev.faith[m.Name()] = fs
	}
	return ev, nil
}

func runCompare(ctx context.Context, o *compareOptions) error {
	data, err := loadCompareData(ctx, o.data, o.limit)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(o.out, ".cache"), 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	rt, err := o.g.openRuntime()
	if err != nil {
		return err
	}
	defer rt.Close()
	e := &evaluator{g: o.g, o: o, data: data, cache: &stageCache{dir: filepath.Join(o.out, ".cache")}}
	var evals []*modelEval
	for _, p := range o.models {
		ev, err := e.evaluate(ctx, p)
		if err != nil {
			return err
		}
		evals = append(evals, ev)
	}
	if o.sharded {
		return writeComparePartial(o, data, e.indices(), evals)
	}
	return writeCompare(o, data, evals)
}

// writeCompare writes results.json, summary.md, overlays.png and
// report.html into --out and the summary (or --json) on stdout.
func writeCompare(o *compareOptions, data *compareData, evals []*modelEval) error {
	res := buildResults(o, data, evals)
	if o.toolVersion != "" {
		res.ToolVersion = o.toolVersion
	}
	if err := atomicfile.Write(filepath.Join(o.out, "results.json"), 0, func(w io.Writer) error { return encodeJSON(w, res) }); err != nil {
		return err
	}
	md := summaryMarkdown(res)
	if err := atomicfile.Write(filepath.Join(o.out, "summary.md"), 0, func(w io.Writer) error { _, err := io.WriteString(w, md); return err }); err != nil {
		return err
	}
	if grid := overlayGrid(res, evals); grid != nil {
		if err := atomicfile.Write(filepath.Join(o.out, "overlays.png"), 0, func(w io.Writer) error { return png.Encode(w, grid) }); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(filepath.Join(o.out, "report.html"), 0, func(w io.Writer) error { return writeReport(w, res, evals) }); err != nil {
		return err
	}
	if o.g.json {
		return encodeJSON(o.g.out, res)
	}
	_, err := io.WriteString(o.g.out, md)
	return err
}

// tallyAttack adds one batch's adversarial outcomes to p: per-image
// correctness (appended to correct and returned), correct and success
// counts (a success is a clean-correct image misclassified after the
// attack), and the largest pixel change between x and adv.
func tallyAttack(p *robust.AttackPoint, correct []bool, x, adv, logits []float32, k int, labels []int, clean []bool) []bool {
	for j, l := range labels {
		ok := argmax(logits[j*k:(j+1)*k]) == l
		correct = append(correct, ok)
		if ok {
			p.Correct++
		} else if clean[j] {
			p.Successes++
		}
	}
	for j, v := range x {
		p.MaxLinf = max(p.MaxLinf, float64(abs32(adv[j]-v)))
	}
	return correct
}
