package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/robust"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

type robustOptions struct {
	g         *globalOptions
	model     string
	data      string
	fgsm      string
	pgd       string
	occlusion string
	inbetween bool
	target    string
	fill      string
	steps     int
	pairs     int
	limit     int
	norm      string
	resize    string
	batch     int
	plots     string
	maxPixels int
	size      int

	cfg robust.Config
}

func newRobustCmd(g *globalOptions, runF func(*robustOptions) error) *cobra.Command {
	o := &robustOptions{g: g}
	cmd := &cobra.Command{
		Use:   "robust MODEL --data DIR",
		Short: "FGSM/PGD accuracy, occlusion and in-between-class error curves",
		Long: `Measure what the CutMix paper measures beyond accuracy: top-1 accuracy under
FGSM (and optionally PGD) white-box attacks, top-1 error under centre and
boundary occlusion, and the error on Mixup and CutMix in-between-class
images (prediction in neither source class).

Attacks work in [0,1] pixel space with the model's normalisation (--norm)
inside the differentiated path, cross-entropy on the logits, sign steps and
clipping to [0,1], as torchattacks and foolbox do; ε is in pixel units
(8/255 is the paper's). Gradients come from the ONNX gradient graph.

DIR is a data set in wsolevaluation's layout (DIR/metadata with
image_ids.txt and class_labels.txt, images at DIR/<image_id>) or an
ImageFolder tree (one sub-folder per class).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("robust takes one MODEL, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runRobust(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "labelled images (wsolevaluation layout or ImageFolder)")
	f.StringVar(&o.fgsm, "fgsm", "1/255,2/255,4/255,8/255", "FGSM ε list in pixel units, or none")
	f.StringVar(&o.pgd, "pgd", "none", "PGD settings, e.g. eps=8/255,step=2/255,steps=10 (torchattacks defaults), or none")
	f.StringVar(&o.occlusion, "occlusion", "center,boundary", "occlusion curves: center, boundary, both comma-separated, or none")
	f.BoolVar(&o.inbetween, "inbetween", true, "Mixup and CutMix in-between-class curves")
	f.StringVar(&o.target, "target", "untargeted", "attack target: untargeted, random or least-likely")
	f.StringVar(&o.fill, "fill", "black", "occlusion fill: black (zero pixels) or mean (the data set's mean colour)")
	f.IntVar(&o.steps, "steps", 14, "points on the occlusion and in-between curves (14: the paper's 16-pixel steps on 224)")
	f.IntVar(&o.pairs, "pairs", 0, "in-between pairs (default: one per image)")
	f.IntVar(&o.limit, "limit", 0, "use only the first N images (0: all)")
	f.StringVar(&o.norm, "norm", "imagenet", "the model's input normalisation: imagenet, unit, none or MEAN/STD")
	f.StringVar(&o.resize, "resize", "warp", "fit images to the model: warp or crop")
	f.IntVar(&o.batch, "batch", 32, "images per model call")
	f.StringVar(&o.plots, "plots", "", "write the curves as PNG plots into this folder")
	f.IntVar(&o.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&o.size, "size", 0, "input height and width where the model leaves them dynamic (default 224)")
	return cmd
}

func (o *robustOptions) validate() error {
	if o.data == "" {
		return usagef("robust needs --data DIR (labelled images)")
	}
	c := robust.Config{BatchSize: o.batch, Seed: o.g.seed}
	var err error
	if o.fgsm != "none" {
		if c.Epsilons, err = robust.ParseEpsilons(o.fgsm); err != nil {
			return usageError{fmt.Errorf("--fgsm: %w", err)}
		}
		c.Stages = append(c.Stages, robust.StageFGSM)
	}
	if o.pgd != "none" {
		if c.PGD, err = robust.ParsePGD(o.pgd); err != nil {
			return usageError{fmt.Errorf("--pgd: %w", err)}
		}
		c.Stages = append(c.Stages, robust.StagePGD)
	}
	if o.occlusion != "none" {
		for _, s := range strings.Split(o.occlusion, ",") {
			oc, err := robust.ParseOccluder(strings.TrimSpace(s))
			if err != nil {
				return usagef("--occlusion %q: use center, boundary or none", s)
			}
			c.Occlusion.Occluders = append(c.Occlusion.Occluders, oc)
		}
		c.Stages = append(c.Stages, robust.StageOcclusion)
	}
	if o.inbetween {
		c.Stages = append(c.Stages, robust.StageBetween)
	}
	if len(c.Stages) == 0 {
		return usagef("nothing to do: every stage is off")
	}
	if c.Target, err = robust.ParseTarget(o.target); err != nil {
		return usagef("--target %q: use untargeted, random or least-likely", o.target)
	}
	if c.Occlusion.Fill, err = robust.ParseFill(o.fill); err != nil {
		return usagef("--fill %q: use black or mean", o.fill)
	}
	if o.steps < 1 || o.pairs < 0 || o.limit < 0 || o.batch < 1 {
		return usagef("--steps and --batch must be at least 1, --pairs and --limit not negative")
	}
	c.Occlusion.Steps, c.Between.Steps, c.Between.Pairs = o.steps, o.steps, o.pairs
	if _, err := preprocess.ParseNorm(o.norm); err != nil {
		return usageError{fmt.Errorf("--norm: %w", err)}
	}
	if _, err := preprocess.ParseFit(o.resize); err != nil {
		return usageError{fmt.Errorf("--resize: %w", err)}
	}
	o.cfg = c
	return nil
}

// imageSet is a labelled image list loaded lazily into [0, 1] pixels at
// the model's size; it implements robust.Dataset.
type imageSet struct {
	paths     []string
	labels    []int
	cfg       preprocess.Config
	maxPixels int
}

func (s *imageSet) Len() int             { return len(s.paths) }
func (s *imageSet) Shape() (c, h, w int) { return s.cfg.Channels, s.cfg.Height, s.cfg.Width }
func (s *imageSet) Label(i int) int      { return s.labels[i] }

func (s *imageSet) Load(_ context.Context, i int, dst []float32) error {
	img, err := preprocess.Load(s.paths[i], s.maxPixels)
	if err != nil {
		return fmt.Errorf("image %w", err)
	}
	return s.cfg.Tensor(dst, img)
}

// labelledImages lists a data set's images and labels: the wsolevaluation
// layout when DIR/metadata exists, else an ImageFolder tree.
func labelledImages(ctx context.Context, dir string) (paths []string, labels []int, err error) {
	if err := checkDir(dir); err != nil {
		return nil, nil, fmt.Errorf("--data %w", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "metadata")); err == nil && st.IsDir() {
		d, err := wsol.ReadMetadata(ctx, filepath.Join(dir, "metadata"))
		if err != nil {
			return nil, nil, fmt.Errorf("--data: %w", err)
		}
		for _, it := range d.Items {
			paths = append(paths, filepath.Join(dir, filepath.FromSlash(it.ID)))
			labels = append(labels, it.Label)
		}
		return paths, labels, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--data: %w", err)
	}
	class := 0
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("--data: %w", err)
		}
		for _, f := range files {
			ext := strings.ToLower(filepath.Ext(f.Name()))
			if f.IsDir() || (ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".gif") {
				continue
			}
			paths = append(paths, filepath.Join(dir, e.Name(), f.Name()))
			labels = append(labels, class)
		}
		class++
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("--data %s: no labelled images (want DIR/metadata or one sub-folder of images per class); robust needs labels", dir)
	}
	return paths, labels, nil
}

type robustReport struct {
	SchemaVersion int            `json:"schema_version"`
	Seed          uint64         `json:"seed"`
	Model         string         `json:"model"`
	SHA256        string         `json:"model_sha256"`
	Data          string         `json:"data"`
	Norm          string         `json:"norm"`
	Report        *robust.Report `json:"report"`
}

func runRobust(ctx context.Context, o *robustOptions) error {
	paths, labels, err := labelledImages(ctx, o.data)
	if err != nil {
		return err
	}
	if o.limit > 0 && o.limit < len(paths) {
		paths, labels = paths[:o.limit], labels[:o.limit]
	}
	m, closeModel, err := o.g.openSingle(o.model, o.size)
	if err != nil {
		return err
	}
	defer closeModel()
	norm, _ := preprocess.ParseNorm(o.norm)
	fit, _ := preprocess.ParseFit(o.resize)
	c, h, w := m.InputShape()
	set := &imageSet{paths: paths, labels: labels, maxPixels: o.maxPixels,
		cfg: preprocess.Config{Width: w, Height: h, Channels: c, Fit: fit, Norm: preprocess.Unit}}
	model := &onnx.Pixels{Model: m, Norm: norm}
	cfg := o.cfg
	var bar *progress
	var stage robust.Stage = -1
	cfg.Progress = func(s robust.Stage, done, total int) {
		if s != stage {
			if bar != nil {
				bar.done()
			}
			stage, bar = s, newProgress(o.g, s.String(), total)
		}
		bar.add(done - bar.n)
	}
	rep, err := robust.Evaluate(ctx, model, set, cfg)
	if bar != nil {
		bar.done()
	}
	if err != nil && !(errors.Is(err, robust.ErrNoGradients) && rep != nil) {
		return err
	}
	if err != nil && !o.g.quiet {
		fmt.Fprintf(o.g.errOut, "cutmix-cam: attacks skipped: %s\n", oneLine(err.Error()))
	}
	rep.Normalization = o.norm
	if o.plots != "" {
		if err := robust.WritePlots(ctx, o.plots, rep); err != nil {
			return fmt.Errorf("--plots: %w", err)
		}
	}
	out := robustReport{SchemaVersion: 1, Seed: o.g.seed, Model: o.model, SHA256: m.SHA256(), Data: o.data, Norm: o.norm, Report: rep}
	if o.g.json {
		return encodeJSON(o.g.out, out)
	}
	return writeRobust(o.g, rep)
}

func writeRobust(g *globalOptions, r *robust.Report) error {
	tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "images\t%d (%d×%d×%d, ε and fills in %s)\n", r.Images, r.Channels, r.Height, r.Width, r.Space)
	for _, a := range []*robust.AttackResult{r.FGSM, r.PGD} {
		if a == nil {
			continue
		}
		fmt.Fprintf(tw, "%s clean top-1\t%.2f%%\t(%s)\n", strings.ToUpper(a.Attack), 100*a.CleanAccuracy, a.Target)
		for _, p := range a.Points {
			fmt.Fprintf(tw, "%s ε=%g/255\t%.2f%%\tsuccess rate %.2f%%\n", strings.ToUpper(a.Attack), p.Epsilon255, 100*p.Accuracy, 100*p.SuccessRate)
		}
	}
	if oc := r.Occlusion; oc != nil {
		for _, c := range oc.Curves {
			var parts []string
			for _, p := range c.Points {
				parts = append(parts, fmt.Sprintf("%d:%.0f", p.HoleWidth, 100*p.Error))
			}
			fmt.Fprintf(tw, "occlusion %s error %%\t%s\t(hole side:error, fill %s)\n", c.Occluder, strings.Join(parts, " "), oc.Fill)
		}
	}
	if b := r.Between; b != nil {
		for _, c := range b.Curves {
			var parts []string
			for _, p := range c.Points {
				parts = append(parts, fmt.Sprintf("%.2f:%.0f", p.Lambda, 100*p.Error))
			}
			fmt.Fprintf(tw, "in-between %s error %%\t%s\t(λ:neither-class error, %d pairs)\n", c.Mix, strings.Join(parts, " "), b.Pairs)
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(tw, "skipped\t%v\n", s)
	}
	return tw.Flush()
}
