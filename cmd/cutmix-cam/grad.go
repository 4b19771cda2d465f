package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
)

type gradOptions struct {
	g         *globalOptions
	model     string
	images    []string
	wrt       []string
	class     string
	objective string
	output    string
	out       string
	norm      string
	resize    string
	batch     int
	maxPixels int
	size      int
}

func newGradCmd(g *globalOptions, runF func(*gradOptions) error) *cobra.Command {
	o := &gradOptions{g: g}
	cmd := &cobra.Command{
		Use:   "grad MODEL IMAGE...",
		Short: "Write gradients of a class score with respect to the input or any tensor",
		Long: `grad appends a backward pass to the model as ONNX nodes, runs it with
ONNX Runtime, and writes, per image, the gradient of the objective with
respect to each --wrt tensor (and the tensor itself) as float32 .npy arrays
of shape [1,C,H,W] (or the tensor's shape), plus a grey heat map PNG of
max over channels of |d objective / d input| when the input is a target.

Files are named IMAGE.TENSOR.grad.npy and IMAGE.TENSOR.npy after the
image's file name, with characters other than letters, digits, '.', '-'
and '_' in tensor names replaced by '_'; IMAGE.saliency.png is the heat map.`,
		Args: minArgs(2, "a MODEL and at least one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model, o.images = args[0], args[1:]
			if _, err := onnx.ParseObjective(o.objective); err != nil || o.objective == "seed" {
				return usagef("--objective %q: use logit, prob or ce", o.objective)
			}
			if _, err := gradParseClass(o.class); err != nil {
				return err
			}
			if o.out == "" {
				return usagef("--out is required: the folder to write the arrays to")
			}
			if o.batch < 1 {
				return usagef("--batch %d: must be at least 1", o.batch)
			}
			if len(o.wrt) == 0 {
				return usagef("--wrt needs a tensor name or input")
			}
			if _, err := preprocess.ParseNorm(o.norm); err != nil {
				return usageError{fmt.Errorf("--norm: %w", err)}
			}
			if _, err := preprocess.ParseFit(o.resize); err != nil {
				return usageError{fmt.Errorf("--resize: %w", err)}
			}
			seen := map[string]string{}
			for _, p := range o.images {
				b := filepath.Base(p)
				if prev, ok := seen[b]; ok {
					return usagef("images %s and %s share the file name %s; their outputs would collide", prev, p, b)
				}
				seen[b] = p
			}
			if runF != nil {
				return runF(o)
			}
			return runGrad(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.wrt, "wrt", []string{"input"}, "tensor to differentiate with respect to: input or a tensor name (repeat for several)")
	f.StringVar(&o.class, "class", "top1", "class whose objective is differentiated: top1 or a class index (the label for ce)")
	f.StringVar(&o.objective, "objective", "logit", "objective: logit (class score), prob (softmax probability) or ce (cross-entropy)")
	f.StringVar(&o.output, "output", "", "scores output when the model has several")
	f.StringVarP(&o.out, "out", "o", "", "folder for the .npy arrays and heat maps (created if missing)")
	f.StringVar(&o.norm, "norm", "imagenet", "input normalisation: imagenet, unit ([0,1]), none (0..255) or MEAN/STD like 0.5,0.5,0.5/0.25,0.25,0.25")
	f.StringVar(&o.resize, "resize", "warp", "fit images to the model: warp (resize directly) or crop (shorter side to size/0.875, centre crop)")
	f.IntVar(&o.batch, "batch", 8, "images per model call")
	f.IntVar(&o.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&o.size, "size", 0, "input height and width where the model leaves them dynamic (default 224)")
	return cmd
}

// gradParseClass reads --class: "top1" is −1.
func gradParseClass(s string) (int, error) {
	if strings.EqualFold(s, "top1") {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, usagef("--class %q: use top1 or a class index (0 or more)", s)
	}
	return n, nil
}

type gradResult struct {
	Image string   `json:"image"`
	Class int      `json:"class"`
	Score float32  `json:"score"`
	Files []string `json:"files"`
}

type gradReport struct {
	SchemaVersion int          `json:"schema_version"`
	Seed          uint64       `json:"seed"`
	Model         string       `json:"model"`
	SHA256        string       `json:"model_sha256"`
	Device        string       `json:"device"`
	Objective     string       `json:"objective"`
	Wrt           []string     `json:"wrt"`
	Norm          string       `json:"norm"`
	Resize        string       `json:"resize"`
	Results       []gradResult `json:"results"`
}

func runGrad(cmd *cobra.Command, o *gradOptions) error {
	norm, _ := preprocess.ParseNorm(o.norm)
	fit, _ := preprocess.ParseFit(o.resize)
	obj, _ := onnx.ParseObjective(o.objective)
	class, _ := gradParseClass(o.class)
	if err := checkImages(o.images, o.maxPixels); err != nil {
		return err
	}
	m, closeModel, err := o.g.openSingle(o.model, o.size)
	if err != nil {
		return err
	}
	defer closeModel()
	inputName := m.Info().Inputs[0].Name
	wrt := make([]string, len(o.wrt))
	for i, t := range o.wrt {
		wrt[i] = t
		if t == "input" && !gradHasTensor(m, "input") {
			wrt[i] = inputName
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	c, h, w := m.InputShape()
	cfg := preprocess.Config{Width: w, Height: h, Channels: c, Fit: fit, Norm: norm}
	rep := gradReport{SchemaVersion: 1, Seed: o.g.seed, Model: o.model, SHA256: m.SHA256(), Device: m.Device().String(),
		Objective: obj.String(), Wrt: wrt, Norm: o.norm, Resize: o.resize}
	bar := newProgress(o.g, "grad", len(o.images))
	for start := 0; start < len(o.images); start += o.batch {
		paths := o.images[start:min(start+o.batch, len(o.images))]
		batch, err := loadBatch(paths, cfg, o.maxPixels)
		if err != nil {
			return err
		}
		classes := make([]int, len(paths))
		for i := range classes {
			classes[i] = class
		}
		res, err := m.Gradient(cmd.Context(), batch, len(paths), onnx.GradRequest{
			Objective: obj, Wrt: wrt, Output: o.output, Classes: classes})
		if err != nil {
			return err
		}
		K := len(res.Scores.Data) / len(paths)
		for i, p := range paths {
			r := gradResult{Image: p, Class: res.Classes[i], Score: res.Scores.Data[i*K+res.Classes[i]]}
			base := filepath.Join(o.out, filepath.Base(p))
			for k, t := range wrt {
				slug := gradSlug(t)
				if t == inputName {
					slug = "input"
				}
				files := []struct {
					path string
					t    onnx.Tensor
				}{{base + "." + slug + ".grad.npy", res.Grads[k]}}
				if t != inputName {
					files = append(files, struct {
						path string
						t    onnx.Tensor
					}{base + "." + slug + ".npy", res.Values[k]})
				}
				for _, f := range files {
					if err := gradWriteNpy(f.path, f.t, i); err != nil {
						return err
					}
					r.Files = append(r.Files, f.path)
				}
				if t == inputName {
					path := base + ".saliency.png"
					if err := atomicfile.Write(path, 0, func(w io.Writer) error { return png.Encode(w, gradSaliency(res.Grads[k], i)) }); err != nil {
						return err
					}
					r.Files = append(r.Files, path)
				}
			}
			rep.Results = append(rep.Results, r)
		}
		bar.add(len(paths))
	}
	bar.done()
	if o.g.json {
		return encodeJSON(o.g.out, rep)
	}
	tw := tabwriter.NewWriter(o.g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tCLASS\tSCORE\tFILES")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%s\n", r.Image, r.Class, r.Score, strings.Join(r.Files, " "))
	}
	return tw.Flush()
}

// gradHasTensor reports whether a node of m writes a tensor named name.
func gradHasTensor(m *onnx.Model, name string) bool {
	for _, t := range m.Tensors() {
		if t == name {
			return true
		}
	}
	return false
}

// gradSlug makes a tensor name safe as part of a file name.
func gradSlug(t string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, t)
}

// gradSample returns row i of a batched tensor and its shape with batch 1.
func gradSample(t onnx.Tensor, i int) ([]float32, []int) {
	per := len(t.Data) / int(t.Shape[0])
	shape := make([]int, len(t.Shape))
	for k, d := range t.Shape {
		shape[k] = int(d)
	}
	shape[0] = 1
	return t.Data[i*per : (i+1)*per], shape
}

// gradWriteNpy writes row i of t as a float32 .npy file, atomically.
func gradWriteNpy(path string, t onnx.Tensor, i int) error {
	v, shape := gradSample(t, i)
	a := npy.Array{Shape: shape, Data: make([]float64, len(v)), DType: npy.Float32}
	for k, x := range v {
		a.Data[k] = float64(x)
	}
	return atomicfile.Write(path, 0, func(w io.Writer) error { return npy.Write(w, a) })
}

// gradSaliency draws max over channels of |g| for row i of an N×C×H×W
// gradient as a grey image, white at the largest value.
func gradSaliency(t onnx.Tensor, i int) *image.Gray {
	v, shape := gradSample(t, i)
	c, h, w := shape[1], shape[2], shape[3]
	m := make([]float64, h*w)
	var top float64
	for ch := 0; ch < c; ch++ {
		for p := 0; p < h*w; p++ {
			a := math.Abs(float64(v[ch*h*w+p]))
			m[p] = math.Max(m[p], a)
			top = math.Max(top, a)
		}
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for p, a := range m {
		if top > 0 {
			img.SetGray(p%w, p/w, color.Gray{Y: uint8(math.Round(255 * a / top))})
		}
	}
	return img
}
