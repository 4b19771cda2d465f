package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
)

type predictOptions struct {
	g         *globalOptions
	model     string
	images    []string
	topK      int
	labels    string
	norm      string
	resize    string
	batch     int
	maxPixels int
	size      int
}

func newPredictCmd(g *globalOptions, runF func(*predictOptions) error) *cobra.Command {
	o := &predictOptions{g: g}
	cmd := &cobra.Command{
		Use:   "predict MODEL IMAGE...",
		Short: "Print the top-k classes of each image",
		Args:  minArgs(2, "a MODEL and at least one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model, o.images = args[0], args[1:]
			if o.topK < 1 {
				return usagef("--top-k %d: must be at least 1", o.topK)
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
			if runF != nil {
				return runF(o)
			}
			return runPredict(cmd, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.topK, "top-k", 5, "classes to print per image")
	f.StringVar(&o.labels, "labels", "", `class names, one per line ("name" or "index,name")`)
	f.StringVar(&o.norm, "norm", "imagenet", "input normalisation: imagenet, unit ([0,1]), none (0..255) or MEAN/STD like 0.5,0.5,0.5/0.25,0.25,0.25")
	f.StringVar(&o.resize, "resize", "warp", "fit images to the model: warp (resize directly) or crop (shorter side to size/0.875, centre crop)")
	f.IntVar(&o.batch, "batch", 32, "images per model call")
	f.IntVar(&o.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&o.size, "size", 0, "input height and width where the model leaves them dynamic (default 224)")
	return cmd
}

// classScore is one entry of an image's top-k.
type classScore struct {
	Class int     `json:"class"`
	Label string  `json:"label,omitempty"`
	Score float32 `json:"score"`
	Prob  float64 `json:"prob"`
}

type predictResult struct {
	Image string       `json:"image"`
	Top   []classScore `json:"top"`
}

type predictReport struct {
	SchemaVersion int             `json:"schema_version"`
	Seed          uint64          `json:"seed"`
	Model         string          `json:"model"`
	SHA256        string          `json:"model_sha256"`
	Device        string          `json:"device"`
	Output        string          `json:"output"`
	Norm          string          `json:"norm"`
	Resize        string          `json:"resize"`
	Results       []predictResult `json:"results"`
}

func runPredict(cmd *cobra.Command, o *predictOptions) error {
	norm, _ := preprocess.ParseNorm(o.norm)
	fit, _ := preprocess.ParseFit(o.resize)
	var labels map[int]string
	if o.labels != "" {
		var err error
		if labels, err = readLabels(o.labels); err != nil {
			return err
		}
	}
	if err := checkImages(o.images, o.maxPixels); err != nil {
		return err
	}
	m, closeModel, err := o.g.openSingle(o.model, o.size)
	if err != nil {
		return err
	}
	defer closeModel()
	c, h, w := m.InputShape()
	cfg := preprocess.Config{Width: w, Height: h, Channels: c, Fit: fit, Norm: norm}
	out := m.Info().Outputs[0].Name
	isProb := m.IsProbability(out)
	rep := predictReport{SchemaVersion: 1, Seed: o.g.seed, Model: o.model, SHA256: m.SHA256(),
		Device: m.Device().String(), Output: out, Norm: o.norm, Resize: o.resize}
	bar := newProgress(o.g, "predict", len(o.images))
	for start := 0; start < len(o.images); start += o.batch {
		paths := o.images[start:min(start+o.batch, len(o.images))]
		batch, err := loadBatch(paths, cfg, o.maxPixels)
		if err != nil {
			return err
		}
		res, err := m.Run(cmd.Context(), batch, len(paths))
		if err != nil {
			return err
		}
		scores := res[0].Data
		k := len(scores) / len(paths)
		for i, p := range paths {
			rep.Results = append(rep.Results, predictResult{Image: p, Top: topK(scores[i*k:(i+1)*k], o.topK, isProb, labels)})
		}
		bar.add(len(paths))
	}
	bar.done()
	if o.g.json {
		return encodeJSON(o.g.out, rep)
	}
	tw := tabwriter.NewWriter(o.g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tRANK\tCLASS\tPROB\tSCORE\tLABEL")
	for _, r := range rep.Results {
		for i, t := range r.Top {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\t%s\n", r.Image, i+1, t.Class, t.Prob, t.Score, t.Label)
		}
	}
	return tw.Flush()
}

// topK returns the k best classes of one image's scores, with softmax
// probabilities (the scores themselves when the model already applies
// Softmax).
func topK(scores []float32, k int, isProb bool, labels map[int]string) []classScore {
	probs := make([]float64, len(scores))
	if isProb {
		for i, s := range scores {
			probs[i] = float64(s)
		}
	} else {
		mx := math.Inf(-1)
		for _, s := range scores {
			mx = math.Max(mx, float64(s))
		}
		var sum float64
		for i, s := range scores {
			probs[i] = math.Exp(float64(s) - mx)
			sum += probs[i]
		}
		for i := range probs {
			probs[i] /= sum
		}
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	k = min(k, len(idx))
	out := make([]classScore, k)
	for i := 0; i < k; i++ {
		c := idx[i]
		out[i] = classScore{Class: c, Label: labels[c], Score: scores[c], Prob: probs[c]}
	}
	return out
}

// readLabels reads a class-name file with parseLabels.
func readLabels(path string) (map[int]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--labels: %w", err)
	}
	defer f.Close()
	labels, err := parseLabels(f)
	if err != nil {
		return nil, fmt.Errorf("--labels %s: %w", path, err)
	}
	return labels, nil
}

// parseLabels reads class names: "name" per line (line i is class i) or
// "index,name".
func parseLabels(r io.Reader) (map[int]string, error) {
	labels := map[int]string{}
	sc := bufio.NewScanner(r)
	for line := 0; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if i, name, ok := strings.Cut(text, ","); ok {
			if n, err := strconv.Atoi(i); err == nil && n >= 0 {
				labels[n] = strings.TrimSpace(name)
				continue
			}
		}
		labels[line] = strings.TrimSpace(text)
	}
	return labels, sc.Err()
}
