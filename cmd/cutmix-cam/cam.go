package main

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
)

type camOptions struct {
	g         *globalOptions
	model     string
	inputs    []string
	methods   string
	layer     string
	class     string
	out       string
	npy       bool
	panel     bool
	norm      string
	resize    string
	batch     int
	colormap  string
	alpha     float64
	interp    string
	maxPixels int
	size      int

	meths  []cam.Method
	target cam.Target
	style  cam.Style
}

func newCAMCmd(g *globalOptions, runF func(*camOptions) error) *cobra.Command {
	o := &camOptions{g: g}
	cmd := &cobra.Command{
		Use:   "cam MODEL IMAGE|DIR... --out DIR",
		Short: "Compute class activation maps and write overlays, panels and .npy maps",
		Long: fmt.Sprintf(`Compute class activation maps for each image and write, per image, method and
class, an overlay PNG at the image's own size (and with --npy the min-max
normalised map at the model's input size as float32 .npy; with --panel one
image | map | overlay panel per image).

Methods: %s.
cam is wsolevaluation's CAM (mean over channels of fc weight × activation, no
ReLU); the gradient methods follow pytorch-grad-cam and use an exact closed
form when the layer feeds a global-average-pooling linear head, the ONNX
gradient graph otherwise.`, strings.Join(cam.Names(), ", ")),
		Args: minArgs(2, "a MODEL and at least one IMAGE or DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model, o.inputs = args[0], args[1:]
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runCAM(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.methods, "method", "gradcam", "comma-separated methods (see above)")
	f.StringVar(&o.layer, "layer", "auto", "target layer tensor, or auto (the input of the last global pooling)")
	f.StringVar(&o.class, "class", "top1", "classes to explain: top1, topK (e.g. top3) or a class index")
	f.StringVarP(&o.out, "out", "o", "", "output folder (created)")
	f.BoolVar(&o.npy, "npy", false, "also write each normalised map at the input size as .npy (float32)")
	f.BoolVar(&o.panel, "panel", false, "also write an image | map | overlay panel per image, one row per method")
	f.StringVar(&o.norm, "norm", "imagenet", "input normalisation: imagenet, unit, none or MEAN/STD")
	f.StringVar(&o.resize, "resize", "warp", "fit images to the model: warp or crop")
	f.IntVar(&o.batch, "batch", 8, "images per model call")
	f.StringVar(&o.colormap, "colormap", "turbo", "turbo, viridis or jet")
	f.Float64Var(&o.alpha, "alpha", 0.5, "overlay opacity of the map, in (0, 1]")
	f.StringVar(&o.interp, "interp", "linear", "map upsampling: linear (OpenCV INTER_LINEAR) or cubic (INTER_CUBIC, as wsolevaluation)")
	f.IntVar(&o.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&o.size, "size", 0, "input height and width where the model leaves them dynamic (default 224)")
	return cmd
}

func (o *camOptions) validate() error {
	if o.out == "" {
		return usagef("cam needs --out DIR")
	}
	for _, name := range strings.Split(o.methods, ",") {
		m, err := cam.Lookup(name)
		if err != nil {
			return usagef("--method %q: use %s", name, strings.Join(cam.Names(), ", "))
		}
		o.meths = append(o.meths, m)
	}
	t, err := cam.ParseTarget(o.class)
	if err != nil {
		return usagef("--class %q: use top1, topK or a class index", o.class)
	}
	o.target = t
	cm, ok := cam.ParseColormap(o.colormap)
	if !ok {
		return usagef("--colormap %q: use turbo, viridis or jet", o.colormap)
	}
	o.style = cam.Style{Colormap: cm, Alpha: o.alpha}
	switch o.interp {
	case "linear":
		o.style.Interp = cam.Linear
	case "cubic":
		o.style.Interp = cam.Cubic
	default:
		return usagef("--interp %q: use linear or cubic", o.interp)
	}
	if !(o.alpha > 0 && o.alpha <= 1) {
		return usagef("--alpha %g: must be in (0, 1]", o.alpha)
	}
	if o.batch < 1 {
		return usagef("--batch %d: must be at least 1", o.batch)
	}
	if _, err := preprocess.ParseNorm(o.norm); err != nil {
		return usageError{fmt.Errorf("--norm: %w", err)}
	}
	if _, err := preprocess.ParseFit(o.resize); err != nil {
		return usageError{fmt.Errorf("--resize: %w", err)}
	}
	return nil
}

type camFileJSON struct {
	Method string   `json:"method"`
	Class  int      `json:"class"`
	Score  float32  `json:"score"`
	Files  []string `json:"files"`
}

type camImageJSON struct {
	Image   string        `json:"image"`
	Results []camFileJSON `json:"results"`
	Panel   string        `json:"panel,omitempty"`
}

type camReport struct {
	SchemaVersion int            `json:"schema_version"`
	Seed          uint64         `json:"seed"`
	Model         string         `json:"model"`
	SHA256        string         `json:"model_sha256"`
	Layer         string         `json:"layer"`
	Methods       []string       `json:"methods"`
	Interp        string         `json:"interp"`
	Images        []camImageJSON `json:"images"`
	Skipped       []string       `json:"skipped"`
}

// imageExts are the files a folder argument contributes.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif"}

// expandImages turns file and folder arguments into image paths; files in
// folders that are not images are returned in skipped, and fromDir marks
// the paths that came from a folder.
func expandImages(args []string) (paths, skipped []string, fromDir map[string]bool, err error) {
	fromDir = map[string]bool{}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("image %w", checkFile(a))
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", a, err)
		}
		n := 0
		for _, e := range entries {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(a, e.Name())
			if slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
				paths = append(paths, p)
				fromDir[p] = true
				n++
			} else {
				skipped = append(skipped, p)
			}
		}
		if n == 0 {
			return nil, nil, nil, fmt.Errorf("%s: no PNG, JPEG or GIF images in this folder", a)
		}
	}
	return paths, skipped, fromDir, nil
}

func runCAM(cmd *cobra.Command, o *camOptions) error {
	ctx := cmd.Context()
	paths, skipped, fromDir, err := expandImages(o.inputs)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		if !o.g.quiet {
			fmt.Fprintf(o.g.errOut, "cutmix-cam: skipping %s: not a PNG, JPEG or GIF file\n", s)
		}
	}
	m, closeModel, err := o.g.openSingle(o.model, o.size)
	if err != nil {
		return err
	}
	defer closeModel()
	l, err := layerFlag(ctx, m, o.layer)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	norm, _ := preprocess.ParseNorm(o.norm)
	fit, _ := preprocess.ParseFit(o.resize)
	c, h, w := m.InputShape()
	cfg := preprocess.Config{Width: w, Height: h, Channels: c, Fit: fit, Norm: norm}
	rep := camReport{SchemaVersion: 1, Seed: o.g.seed, Model: o.model, SHA256: m.SHA256(), Layer: l.Tensor, Interp: o.interp, Skipped: skipped}
	if rep.Skipped == nil {
		rep.Skipped = []string{}
	}
	for _, meth := range o.meths {
		rep.Methods = append(rep.Methods, meth.Name())
	}
	stems := uniqueStems(paths)
	bar := newProgress(o.g, "cam", len(paths))
	for start := 0; start < len(paths); start += o.batch {
		var batchPaths, batchStems []string
		var imgs []image.Image
		var data []float32
		for i, p := range paths[start:min(start+o.batch, len(paths))] {
			img, err := preprocess.Load(p, o.maxPixels)
			if err != nil {
				if !fromDir[p] {
					return fmt.Errorf("image %w", err)
				}
				// One bad file in a folder does not stop the run.
				rep.Skipped = append(rep.Skipped, p)
				if !o.g.quiet {
					fmt.Fprintf(o.g.errOut, "cutmix-cam: skipping %s\n", oneLine(err.Error()))
				}
				continue
			}
			data = slices.Grow(data, cfg.Len())[:len(data)+cfg.Len()]
			if err := cfg.Tensor(data[len(data)-cfg.Len():], img); err != nil {
				return fmt.Errorf("image %s: %w", p, err)
			}
			imgs = append(imgs, img)
			batchPaths = append(batchPaths, p)
			batchStems = append(batchStems, stems[start+i])
		}
		if len(batchPaths) == 0 {
			bar.add(min(o.batch, len(paths)-start))
			continue
		}
		b := cam.Batch{Data: data, N: len(batchPaths), C: c, H: h, W: w}
		entries := make([]camImageJSON, len(batchPaths))
		panels := make([][]cam.Map, len(batchPaths))
		for i, p := range batchPaths {
			entries[i].Image = p
		}
		for _, meth := range o.meths {
			rs, err := cam.Compute(ctx, m, b, meth, cam.Options{Layer: l.Tensor, Target: o.target})
			if err != nil {
				switch {
				case errors.Is(err, cam.ErrNoGradients):
					return fmt.Errorf("%w; gradient-free methods still work: cam, eigencam, scorecam, ablationcam, occlusion", err)
				case errors.Is(err, cam.ErrNoHead):
					return fmt.Errorf("%w; %s needs a layer that feeds global average pooling and a linear head: try gradcam, scorecam or eigencam", err, meth.Name())
				}
				return err
			}
			for _, r := range rs {
				stem := batchStems[r.Image]
				base := fmt.Sprintf("%s.%s.c%d", stem, fileSafe(meth.Name()), r.Class)
				entry := camFileJSON{Method: meth.Name(), Class: r.Class, Score: r.Score}
				overlay := cam.Overlay(imgs[r.Image], r.Map, o.style)
				f := filepath.Join(o.out, base+".png")
				if err := atomicfile.Write(f, 0, func(wr io.Writer) error { return png.Encode(wr, overlay) }); err != nil {
					return err
				}
				entry.Files = append(entry.Files, f)
				if o.npy {
					sm := r.Map.Scoremap(w, h, o.style.Interp)
					f := filepath.Join(o.out, base+".npy")
					arr := npy.Array{Shape: []int{sm.H, sm.W}, Data: sm.V, DType: npy.Float32}
					if err := atomicfile.Write(f, 0, func(wr io.Writer) error { return npy.Write(wr, arr) }); err != nil {
						return err
					}
					entry.Files = append(entry.Files, f)
				}
				if len(panels[r.Image]) == len(rep.Methods[:slices.Index(rep.Methods, meth.Name())]) {
					panels[r.Image] = append(panels[r.Image], r.Map) // first class of each method
				}
				entries[r.Image].Results = append(entries[r.Image].Results, entry)
			}
		}
		if o.panel {
			for i := range batchPaths {
				p := cam.Panel(imgs[i], panels[i], cam.Style{Colormap: o.style.Colormap, Alpha: o.style.Alpha, Interp: o.style.Interp, Gap: 2})
				f := filepath.Join(o.out, batchStems[i]+".panel.png")
				if err := atomicfile.Write(f, 0, func(wr io.Writer) error { return png.Encode(wr, p) }); err != nil {
					return err
				}
				entries[i].Panel = f
			}
		}
		rep.Images = append(rep.Images, entries...)
		bar.add(min(o.batch, len(paths)-start))
	}
	bar.done()
	if o.g.json {
		return encodeJSON(o.g.out, rep)
	}
	tw := tabwriter.NewWriter(o.g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tMETHOD\tCLASS\tSCORE\tFILE")
	for _, im := range rep.Images {
		for _, r := range im.Results {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.4f\t%s\n", im.Image, r.Method, r.Class, r.Score, r.Files[0])
		}
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(tw, "(%d files skipped)\n", len(rep.Skipped))
	}
	return tw.Flush()
}

// uniqueStems returns each path's base name without extension, made unique
// with a numeric suffix.
func uniqueStems(paths []string) []string {
	seen := map[string]int{}
	out := make([]string, len(paths))
	for i, p := range paths {
		s := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		seen[s]++
		if k := seen[s]; k > 1 {
			s = fmt.Sprintf("%s-%d", s, k)
		}
		out[i] = s
	}
	return out
}

// fileSafe replaces characters that are awkward in file names.
func fileSafe(s string) string {
	return strings.NewReplacer("+", "p", "/", "_", " ", "_").Replace(s)
}
