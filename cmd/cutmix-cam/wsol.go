package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

type wsolOptions struct {
	g         *globalOptions
	model     string
	data      string
	cams      string
	method    string
	layer     string
	protocol  string
	interval  float64
	iou       string
	sigma     float64
	shard     string
	partial   string
	plots     string
	norm      string
	resize    string
	batch     int
	workers   int
	maxPixels int
	size      int

	meth    cam.Method
	metrics []wsol.Metric
	ious    []int
	sh      wsol.Shard
	sharded bool
}

func newWSOLCmd(g *globalOptions, runF func(*wsolOptions) error) *cobra.Command {
	o := &wsolOptions{g: g}
	cmd := &cobra.Command{
		Use:   "wsol [MODEL] --data DIR",
		Short: "Score weakly supervised localization: MaxBoxAccV2, MaxBoxAcc, PxAP, Top-1/GT-known Loc",
		Long: `Score how well class activation maps localize objects, with wsolevaluation's
exact conventions (Choe et al., CVPR 2020): maps of the ground-truth class,
bicubic resize to 224×224, per-image min-max, the uint8 threshold grid,
OpenCV-equivalent contours, inclusive IoU.

DIR holds the images at DIR/<image_id>, the reference's metadata files in
DIR/metadata (image_ids.txt, class_labels.txt, image_sizes.txt,
localization.txt) and, for PxAP, mask metadata and mask PNGs in DIR/masks.

With MODEL the maps are computed here (--method, default cam). With --cams
ROOT, precomputed maps are read from ROOT/<image_id>.npy, as wsolevaluation
names them (already 224×224 in [0,1], or raw maps resized with --prepare).

--shard i/n scores every n-th image starting at i and writes the sufficient
statistics to --partial FILE; "cutmix-cam merge" adds partials to exactly
the single-run numbers. i may be "env" to take JOB_COMPLETION_INDEX
(Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("wsol takes at most one MODEL, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.model = args[0]
			}
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runWSOL(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "dataset folder (images, metadata/, optional masks/)")
	f.StringVar(&o.cams, "cams", "", "read precomputed maps from ROOT/<image_id>.npy instead of running a model")
	f.StringVar(&o.method, "method", "cam", "CAM method when a MODEL is given")
	f.StringVar(&o.layer, "layer", "auto", "target layer when a MODEL is given")
	f.StringVar(&o.protocol, "protocol", "all", "maxboxacc-v2, maxboxacc, pxap, top1loc or all (comma-separated)")
	f.Float64Var(&o.interval, "interval", 0.001, "threshold grid step (the reference's training path uses 0.001, its CLI 0.01)")
	f.StringVar(&o.iou, "iou", "30,50,70", "IoU thresholds in percent for MaxBoxAccV2")
	f.Float64Var(&o.sigma, "sigma", 0.15, "fixed CAM threshold of the CutMix paper's Top-1/GT-known Loc")
	f.StringVar(&o.shard, "shard", "", "score shard i/n only (i may be env) and write --partial")
	f.StringVar(&o.partial, "partial", "", "where --shard writes its partial result")
	f.StringVar(&o.plots, "plots", "", "write accuracy-vs-threshold and PR curves as PNGs into this folder")
	f.StringVar(&o.norm, "norm", "imagenet", "input normalisation when a MODEL is given")
	f.StringVar(&o.resize, "resize", "warp", "fit images to the model: warp (the reference) or crop")
	f.IntVar(&o.batch, "batch", 16, "images per model call")
	f.IntVar(&o.workers, "workers", 0, "maps scored in parallel (0: all cores)")
	f.IntVar(&o.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&o.size, "size", 0, "input height and width where the model leaves them dynamic (default 224)")
	return cmd
}

func (o *wsolOptions) validate() error {
	if o.data == "" {
		return usagef("wsol needs --data DIR")
	}
	switch {
	case o.model == "" && o.cams == "":
		return usagef("wsol needs a MODEL or --cams ROOT")
	case o.model != "" && o.cams != "":
		return usagef("wsol takes a MODEL or --cams ROOT, not both")
	}
	if o.model != "" {
		m, err := cam.Lookup(o.method)
		if err != nil {
			return usagef("--method %q: use %s", o.method, strings.Join(cam.Names(), ", "))
		}
		o.meth = m
		if _, err := preprocess.ParseNorm(o.norm); err != nil {
			return usageError{fmt.Errorf("--norm: %w", err)}
		}
		if _, err := preprocess.ParseFit(o.resize); err != nil {
			return usageError{fmt.Errorf("--resize: %w", err)}
		}
	}
	if o.protocol != "all" {
		for _, p := range strings.Split(o.protocol, ",") {
			m, err := wsol.ParseMetric(strings.TrimSpace(p))
			if err != nil {
				return usagef("--protocol %q: use maxboxacc-v2, maxboxacc, pxap, top1loc or all", p)
			}
			o.metrics = append(o.metrics, m)
		}
	}
	if !(o.interval > 0 && o.interval < 1) {
		return usagef("--interval %g: must be in (0, 1)", o.interval)
	}
	for _, p := range strings.Split(o.iou, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 || v > 100 {
			return usagef("--iou %q: want percentages such as 30,50,70", o.iou)
		}
		o.ious = append(o.ious, v)
	}
	if !(o.sigma > 0 && o.sigma < 1) {
		return usagef("--sigma %g: must be in (0, 1)", o.sigma)
	}
	if o.batch < 1 || o.workers < 0 {
		return usagef("--batch must be at least 1 and --workers not negative")
	}
	if o.shard != "" {
		sh, err := parseShardFlag(o.shard)
		if err != nil {
			return err
		}
		if o.partial == "" {
			return usagef("--shard needs --partial FILE")
		}
		o.sh, o.sharded = sh, true
	} else if o.partial != "" {
		return usagef("--partial needs --shard i/n")
	}
	return nil
}

// parseShardFlag parses --shard i/n, where i may be "env" to read
// JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID.
func parseShardFlag(s string) (wsol.Shard, error) {
	if i, n, ok := strings.Cut(s, "/"); ok && i == "env" {
		idx := os.Getenv("JOB_COMPLETION_INDEX")
		if idx == "" {
			idx = os.Getenv("SLURM_ARRAY_TASK_ID")
		}
		if idx == "" {
			return wsol.Shard{}, usagef("--shard env/%s: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set", n)
		}
		s = idx + "/" + n
	}
	sh, err := wsol.ParseShard(s)
	if err != nil {
		return wsol.Shard{}, usageError{fmt.Errorf("--shard: %w", err)}
	}
	return sh, nil
}

func (o *wsolOptions) config() wsol.Config {
	return wsol.Config{Interval: o.interval, IoUThresholds: o.ious, Metrics: o.metrics, Sigma: o.sigma, Workers: o.workers}
}

// loadWSOLData reads DIR/metadata and, when present, the masks of
// DIR/masks into one dataset.
func loadWSOLData(ctx context.Context, dir string) (*wsol.Dataset, string, error) {
	if err := checkDir(dir); err != nil {
		return nil, "", fmt.Errorf("--data %w", err)
	}
	d, err := wsol.ReadMetadata(ctx, filepath.Join(dir, "metadata"))
	if err != nil {
		return nil, "", fmt.Errorf("--data: %w", err)
	}
	maskDir := filepath.Join(dir, "masks")
	if _, err := os.Stat(filepath.Join(maskDir, wsol.FileLocalization)); err != nil {
		return d, "", nil
	}
	md, err := wsol.ReadMetadata(ctx, maskDir)
	if err != nil {
		return nil, "", fmt.Errorf("--data masks: %w", err)
	}
	byID := map[string]wsol.Item{}
	for _, it := range md.Items {
		byID[it.ID] = it
	}
	for i, it := range d.Items {
		if m, ok := byID[it.ID]; ok {
			d.Items[i].Masks, d.Items[i].Ignore = m.Masks, m.Ignore
		}
	}
	return d, maskDir, nil
}

// modelSource computes each sample's map with a CAM method on the fly, in
// batches, for wsol.Run.
type modelSource struct {
	ctx     context.Context
	o       *wsolOptions
	m       *onnx.Model
	layer   string
	d       *wsol.Dataset
	root    string
	maskDir string
	cfg     preprocess.Config
	order   []int       // the shard's items
	pos     map[int]int // item → position in order
	cache   map[int]wsol.Sample
	bar     *progress
}

// openModelSource opens o's model and returns the source of its maps for
// the images of d in shard, and a function that closes the model.
func openModelSource(ctx context.Context, o *wsolOptions, d *wsol.Dataset, maskDir string, shard wsol.Shard, bar *progress) (*modelSource, func(), error) {
	m, closeModel, err := o.g.openSingle(o.model, o.size)
	if err != nil {
		return nil, nil, err
	}
	l, err := layerFlag(ctx, m, o.layer)
	if err != nil {
		closeModel()
		return nil, nil, err
	}
	norm, _ := preprocess.ParseNorm(o.norm)
	fit, _ := preprocess.ParseFit(o.resize)
	c, h, w := m.InputShape()
	return &modelSource{ctx: ctx, o: o, m: m, layer: l.Tensor, d: d, root: o.data, maskDir: maskDir,
		cfg:   preprocess.Config{Width: w, Height: h, Channels: c, Fit: fit, Norm: norm},
		order: shard.Indices(len(d.Items)), cache: map[int]wsol.Sample{}, bar: bar}, closeModel, nil
}

func (s *modelSource) Len() int { return len(s.d.Items) }

// Sample returns item i, computing the maps of the batch of shard items
// that holds it on first use.
func (s *modelSource) Sample(ctx context.Context, i int) (wsol.Sample, error) {
	if smp, ok := s.cache[i]; ok {
		delete(s.cache, i)
		return smp, nil
	}
	if s.pos == nil {
		s.pos = make(map[int]int, len(s.order))
		for k, j := range s.order {
			s.pos[j] = k
		}
	}
	pos, ok := s.pos[i]
	if !ok {
		return wsol.Sample{}, fmt.Errorf("item %d not in this shard", i)
	}
	start := pos - pos%s.o.batch
	idx := s.order[start:min(start+s.o.batch, len(s.order))]
	if err := s.fill(ctx, idx); err != nil {
		return wsol.Sample{}, err
	}
	smp := s.cache[i]
	delete(s.cache, i)
	return smp, nil
}

func (s *modelSource) fill(ctx context.Context, idx []int) error {
	data := make([]float32, len(idx)*s.cfg.Len())
	labels := make([]int, len(idx))
	for k, i := range idx {
		it := s.d.Items[i]
		p := filepath.Join(s.root, filepath.FromSlash(it.ID))
		if err := checkFile(p); err != nil {
			return fmt.Errorf("image %w", err)
		}
		img, err := preprocess.Load(p, s.o.maxPixels)
		if err != nil {
			return fmt.Errorf("image %w", err)
		}
		if err := s.cfg.Tensor(data[k*s.cfg.Len():(k+1)*s.cfg.Len()], img); err != nil {
			return fmt.Errorf("image %s: %w", p, err)
		}
		labels[k] = it.Label
	}
	b := cam.Batch{Data: data, N: len(idx), C: s.cfg.Channels, H: s.cfg.Height, W: s.cfg.Width}
	// The reference scores the ground-truth class's map (GT-known); the
	// prediction only enters Top-1 Loc.
	rs, err := cam.Compute(ctx, s.m, b, s.o.meth, cam.Options{Layer: s.layer, Target: cam.PerImage(labels)})
	if err != nil {
		return err
	}
	fw, err := s.m.Forward(ctx, b, s.layer)
	if err != nil {
		return err
	}
	size := image.Pt(wsol.EvalSize, wsol.EvalSize)
	for k, i := range idx {
		it := s.d.Items[i]
		r := rs[k]
		raw := wsol.Map{W: r.Map.W, H: r.Map.H, Pix: r.Map.V}
		m, _ := wsol.Prepare(raw, size)
		smp := wsol.Sample{ID: it.ID, Map: m, Label: it.Label, Pred: argmax(fw.Logits[k*fw.K : (k+1)*fw.K])}
		from := it.Size
		if from == (image.Point{}) {
			from = image.Pt(s.cfg.Width, s.cfg.Height)
		}
		for _, bx := range it.Boxes {
			smp.Boxes = append(smp.Boxes, wsol.ScaleBox(bx, from, size))
		}
		if len(it.Masks) > 0 && s.maskDir != "" {
			mk, err := wsol.LoadMask(ctx, s.maskDir, it.Masks, it.Ignore, size)
			if err != nil {
				return err
			}
			smp.Mask = mk
		}
		s.cache[i] = smp
	}
	s.bar.add(len(idx))
	return nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

type wsolReport struct {
	SchemaVersion int         `json:"schema_version"`
	Seed          uint64      `json:"seed"`
	Data          string      `json:"data"`
	Model         string      `json:"model,omitempty"`
	SHA256        string      `json:"model_sha256,omitempty"`
	Method        string      `json:"method,omitempty"`
	Layer         string      `json:"layer,omitempty"`
	CAMs          string      `json:"cams,omitempty"`
	Conventions   string      `json:"conventions"`
	Result        wsol.Result `json:"result"`
}

const wsolConventions = "wsolevaluation: GT-class maps, bicubic resize to 224x224 then min-max; uint8 thresholds, u8 > int(tau*max); OpenCV contours; inclusive IoU; GT boxes int(c*224/size)"

func runWSOL(ctx context.Context, o *wsolOptions) error {
	d, maskDir, err := loadWSOLData(ctx, o.data)
	if err != nil {
		return err
	}
	rep := wsolReport{SchemaVersion: 1, Seed: o.g.seed, Data: o.data, Conventions: wsolConventions}
	cfg := o.config()
	fingerprint := "dataset=" + d.Fingerprint()
	var src wsol.Source
	shard := o.sh
	if !o.sharded {
		shard = wsol.Shard{Index: 0, Count: 1}
	}
	var bar *progress
	if o.cams != "" {
		if err := checkDir(o.cams); err != nil {
			return fmt.Errorf("--cams %w", err)
		}
		src = &wsol.Files{Data: d, CAMRoot: o.cams, MaskRoot: maskDir}
		rep.CAMs = o.cams
		fingerprint += ";cams=" + o.cams
		bar = newProgress(o.g, "wsol", len(shard.Indices(len(d.Items))))
		cfg.Progress = func(done, total int) { bar.add(1) }
	} else {
		bar = newProgress(o.g, "wsol", len(shard.Indices(len(d.Items))))
		ms, closeModel, err := openModelSource(ctx, o, d, maskDir, shard, bar)
		if err != nil {
			return err
		}
		defer closeModel()
		src = ms
		// Maps are computed in model batches, so score one image at a time
		// in order; the scoring is cheap next to the model.
		cfg.Workers = 1
		rep.Model, rep.SHA256, rep.Method, rep.Layer = o.model, ms.m.SHA256(), o.meth.Name(), ms.layer
		fingerprint += fmt.Sprintf(";model=%s;method=%s;layer=%s;norm=%s;resize=%s", ms.m.SHA256(), o.meth.Name(), ms.layer, o.norm, o.resize)
	}
	acc, err := wsol.Run(ctx, cfg, src, shard)
	bar.done()
	if err != nil {
		return err
	}
	if o.sharded {
		p := acc.Partial(o.sh, fingerprint)
		if err := atomicfile.Write(o.partial, 0, func(w io.Writer) error { return wsol.WritePartial(w, p) }); err != nil {
			return err
		}
		if !o.g.quiet {
			fmt.Fprintf(o.g.errOut, "wrote shard %s of %d images to %s\n", o.sh, len(o.sh.Indices(len(d.Items))), o.partial)
		}
		return nil
	}
	res, err := acc.Result()
	if err != nil {
		return err
	}
	rep.Result = res
	if o.plots != "" {
		if err := wsol.WritePlots(ctx, o.plots, res); err != nil {
			return fmt.Errorf("--plots: %w", err)
		}
	}
	return writeWSOL(o.g, rep)
}

func writeWSOL(g *globalOptions, rep wsolReport) error {
	if g.json {
		return encodeJSON(g.out, rep)
	}
	r := rep.Result
	tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "images\t%d (%d with boxes, %d with masks, %d NaN maps)\n", r.Images, r.BoxImages, r.MaskImages, r.NaNMaps)
	for _, m := range r.Metrics {
		switch m {
		case wsol.MaxBoxAccV2:
			var parts []string
			for _, c := range r.Box {
				parts = append(parts, fmt.Sprintf("IoU%d %.2f @ %.3f", c.IoU, c.MaxV2, c.BestV2))
			}
			fmt.Fprintf(tw, "MaxBoxAccV2\t%.2f\t(%s)\n", r.MaxBoxAccV2, strings.Join(parts, ", "))
		case wsol.MaxBoxAcc:
			fmt.Fprintf(tw, "MaxBoxAcc\t%.2f\t(IoU50, largest contour, tau %.3f)\n", r.MaxBoxAcc, r.MaxBoxAccThreshold)
		case wsol.PxAP:
			if r.MaskImages > 0 {
				fmt.Fprintf(tw, "PxAP\t%.2f\t(%d images with masks)\n", r.PxAP, r.MaskImages)
			}
		case wsol.TopLoc:
			fmt.Fprintf(tw, "Top-1 Loc\t%.2f\t(sigma %.2f, IoU > 0.5, correct class)\n", r.Top1Loc, r.Sigma)
			fmt.Fprintf(tw, "GT-known Loc\t%.2f\t(sigma %.2f, IoU > 0.5)\n", r.GTKnownLoc, r.Sigma)
		}
	}
	return tw.Flush()
}

type mergeOptions struct {
	g     *globalOptions
	files []string
	out   string
}

func newMergeCmd(g *globalOptions, runF func(*mergeOptions) error) *cobra.Command {
	o := &mergeOptions{g: g}
	cmd := &cobra.Command{
		Use:   "merge PARTIAL...",
		Short: "Add wsol --shard partial results into the single-run numbers",
		Long: `Merge partial results written by "cutmix-cam wsol --shard i/n --partial FILE".
Partials of another configuration, data set or model are refused, as are
duplicate shards. When every shard is present the metrics are printed;
otherwise --out writes the merged partial for a later merge.

The partials of "cutmix-cam compare --shard i/n" merge with
"cutmix-cam compare --merge --out DIR PARTIAL...".`,
		Args: minArgs(1, "at least one PARTIAL file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if runF != nil {
				return runF(o)
			}
			return runMerge(o)
		},
	}
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "write the merged partial here")
	return cmd
}

func runMerge(o *mergeOptions) error {
	var parts []wsol.Partial
	for _, f := range o.files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("partial %w", checkFile(f))
		}
		var kind struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(b, &kind) == nil && kind.Kind == comparePartialKind {
			return usagef("partial %s: written by compare --shard; merge it with \"cutmix-cam compare --merge --out DIR PARTIAL...\"", f)
		}
		p, err := wsol.ReadPartial(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("partial %s: %w", f, err)
		}
		parts = append(parts, p)
	}
	merged, err := wsol.Merge(parts...)
	if err != nil {
		if errors.Is(err, wsol.ErrMismatch) {
			return fmt.Errorf("%w; merge only partials of one run (same data, model, method and options)", err)
		}
		return err
	}
	if o.out != "" {
		if err := atomicfile.Write(o.out, 0, func(w io.Writer) error { return wsol.WritePartial(w, merged) }); err != nil {
			return err
		}
	}
	if !merged.Complete() {
		if o.out == "" {
			return fmt.Errorf("the %d partials cover %d of %d shards; pass the rest, or --out FILE to keep the merge", len(parts), len(merged.Shards), merged.Shards[0].Count)
		}
		return nil
	}
	res, err := merged.Result()
	if err != nil {
		return err
	}
	return writeWSOL(o.g, wsolReport{SchemaVersion: 1, Seed: o.g.seed, Data: merged.Dataset, Conventions: wsolConventions, Result: res})
}
