package main

import (
	"fmt"
	"image"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/cutmix"
)

type probeOptions struct {
	g       *globalOptions
	data    string
	images  bool
	files   []string
	out     string
	method  string
	alpha   float64
	count   int
	size    int
	center  string
	sigma   float64
	fixed   int
	label   string
	fill    string
	fit     string
	between string
	cell    int

	sampler cutmix.Sampler
	sizes   []int
}

func newProbeCmd(g *globalOptions, runF func(*probeOptions) error) *cobra.Command {
	o := &probeOptions{g: g}
	cmd := &cobra.Command{
		Use:   "probe (--data DIR | --images IMAGE...) --out DIR",
		Short: "Write CutMix, Mixup or Cutout probe images with a manifest of what lies where",
		Long: `Write mixed probe images whose geometry is known: for each probe the manifest
records the source images and classes, the pasted box in pixel coordinates,
the corrected λ, the method and variant, and the seed. A contact sheet shows
the boxes. Sources come from an ImageFolder tree (--data DIR: one folder per
class) or from image files (--images A.png B.png ...).

--between 16,32,64 writes the CutMix paper's in-between-class probes instead:
a centred s×s square of the first image inside the second, for each s.

The box is CutMix's official one (int side, integer centre, half-open box,
λ corrected to the pasted area); the same --seed gives the same bytes.`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.data != "" && len(args) > 0:
				return usagef("probe takes --data DIR or --images files, not both")
			case o.data == "" && (!o.images || len(args) == 0):
				return usagef("probe needs --data DIR or --images IMAGE...")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runProbe(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "ImageFolder tree of source images (one sub-folder per class)")
	f.BoolVar(&o.images, "images", false, "the arguments are source image files")
	f.StringVarP(&o.out, "out", "o", "", "output folder (created)")
	f.StringVar(&o.method, "method", "cutmix", "cutmix, mixup or cutout")
	f.Float64Var(&o.alpha, "alpha", 1, "λ ~ Beta(α, α); must be > 0")
	f.IntVar(&o.count, "count", 0, "number of probes (default: one per source)")
	f.IntVar(&o.size, "size", 0, "resize probes to size×size (default: each target's own size)")
	f.StringVar(&o.center, "center", "uniform", "box centre: uniform (official) or gaussian (paper variant)")
	f.Float64Var(&o.sigma, "sigma", 0, "Gaussian centre spread as a fraction of the side (default 0.25)")
	f.IntVar(&o.fixed, "fixed", 0, "fixed box side in pixels (paper variant; 0: drawn from λ)")
	f.StringVar(&o.label, "label", "area", "label weight: area (λ), one-hot or complete (0.5/0.5)")
	f.StringVar(&o.fill, "fill", "zero", "Cutout fill: zero, mean or noise")
	f.StringVar(&o.fit, "fit", "stretch", "bring a partner of another size to the target's: stretch or fill (scale and centre-crop)")
	f.StringVar(&o.between, "between", "", "comma-separated square sizes s for in-between-class probes of the first two sources")
	f.IntVar(&o.cell, "cell", 96, "contact-sheet thumbnail size in pixels")
	return cmd
}

// validate turns flags into the sampler and returns usage errors.
func (o *probeOptions) validate() error {
	if o.out == "" {
		return usagef("probe needs --out DIR")
	}
	if !(o.alpha > 0) {
		return usagef("--alpha %g: must be > 0", o.alpha)
	}
	if o.count < 0 || o.size < 0 || o.fixed < 0 || o.sigma < 0 || o.cell < 1 {
		return usagef("--count, --size, --fixed and --sigma must not be negative, --cell must be positive")
	}
	s := cutmix.Sampler{Alpha: o.alpha, Sigma: o.sigma}
	var err error
	if s.Method, err = cutmix.ParseMethod(o.method); err != nil {
		return usagef("--method %q: use cutmix, mixup or cutout", o.method)
	}
	if s.Center, err = cutmix.ParseCenter(o.center); err != nil {
		return usagef("--center %q: use uniform or gaussian", o.center)
	}
	if s.Label, err = cutmix.ParseLabel(o.label); err != nil {
		return usagef("--label %q: use area, one-hot or complete", o.label)
	}
	if s.Fill, err = cutmix.ParseFill(o.fill); err != nil {
		return usagef("--fill %q: use zero, mean or noise", o.fill)
	}
	if s.Fit, err = cutmix.ParseFit(o.fit); err != nil {
		return usagef("--fit %q: use stretch or fill", o.fit)
	}
	if o.fixed > 0 {
		s.Fixed = image.Pt(o.fixed, o.fixed)
	}
	o.sampler = s
	if o.between != "" {
		for _, p := range strings.Split(o.between, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 0 {
				return usagef("--between %q: want comma-separated sizes such as 8,16,24", o.between)
			}
			o.sizes = append(o.sizes, n)
		}
	}
	return nil
}

type probeReport struct {
	SchemaVersion int    `json:"schema_version"`
	Seed          uint64 `json:"seed"`
	Out           string `json:"out"`
	Manifest      string `json:"manifest"`
	ContactSheet  string `json:"contact_sheet"`
	Method        string `json:"method"`
	Variant       string `json:"variant"`
	Count         int    `json:"count"`
}

func runProbe(cmd *cobra.Command, o *probeOptions) error {
	ctx := cmd.Context()
	var src []cutmix.Source
	var err error
	if o.data != "" {
		if err := checkDir(o.data); err != nil {
			return fmt.Errorf("--data %w", err)
		}
		src, err = cutmix.ReadFolder(ctx, o.data)
	} else {
		for _, p := range o.files {
			if err := checkFile(p); err != nil {
				return fmt.Errorf("image %w", err)
			}
		}
		src, err = cutmix.ReadImages(ctx, o.files)
	}
	if err != nil {
		return err
	}
	var set *cutmix.ProbeSet
	if len(o.sizes) > 0 {
		if len(src) < 2 {
			return usagef("--between needs two source images (the first is pasted into the second), got %d", len(src))
		}
		set, err = cutmix.Between(src[0], src[1], o.sizes, o.sampler.Fit)
	} else {
		set, err = cutmix.Probes(src, cutmix.Probe{Sampler: o.sampler, Seed: o.g.seed, Count: o.count, Size: image.Pt(o.size, o.size)})
	}
	if err != nil {
		return err
	}
	if err := cutmix.Write(ctx, o.out, set, cutmix.Sheet{Cell: o.cell}); err != nil {
		return err
	}
	rep := probeReport{SchemaVersion: 1, Seed: o.g.seed, Out: o.out,
		Manifest:     filepath.Join(o.out, cutmix.ManifestFile),
		ContactSheet: filepath.Join(o.out, cutmix.SheetFile),
		Method:       set.Manifest.Method, Variant: set.Manifest.Variant, Count: len(set.Images)}
	if o.g.json {
		return encodeJSON(o.g.out, rep)
	}
	fmt.Fprintf(o.g.out, "wrote %d %s probes (%s, seed %d) to %s\nmanifest       %s\ncontact sheet  %s\n",
		rep.Count, rep.Method, rep.Variant, rep.Seed, rep.Out, rep.Manifest, rep.ContactSheet)
	return nil
}
