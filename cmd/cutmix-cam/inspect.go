package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

type inspectOptions struct {
	g     *globalOptions
	model string
	all   bool
	layer string
	size  int
}

func newInspectCmd(g *globalOptions, runF func(*inspectOptions) error) *cobra.Command {
	o := &inspectOptions{g: g}
	cmd := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Show a model's inputs, outputs, ops, CAM target layer and head",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("inspect takes one MODEL, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if o.size < 0 {
				return usagef("--size %d: must be positive", o.size)
			}
			if runF != nil {
				return runF(o)
			}
			return runInspect(cmd, o)
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "also list every tensor a node writes")
	cmd.Flags().StringVar(&o.layer, "layer", "", "check that this tensor is a usable CAM layer and show its shape")
	cmd.Flags().IntVar(&o.size, "size", 0, "input height and width where the model leaves them dynamic (default 224)")
	return cmd
}

// inspectReport is inspect's JSON document.
type inspectReport struct {
	SchemaVersion int            `json:"schema_version"`
	Seed          uint64         `json:"seed"`
	Model         string         `json:"model"`
	SHA256        string         `json:"model_sha256"`
	Producer      string         `json:"producer"`
	IRVersion     int64          `json:"ir_version"`
	Opsets        map[string]int `json:"opsets"`
	Inputs        []tensorJSON   `json:"inputs"`
	Outputs       []tensorJSON   `json:"outputs"`
	Nodes         int            `json:"nodes"`
	Initializers  int            `json:"initializers"`
	Ops           map[string]int `json:"ops"`
	Layers        []layerJSON    `json:"layers"`
	Target        string         `json:"target_layer"`
	Named         *layerJSON     `json:"named_layer,omitempty"`
	Head          *headJSON      `json:"head"`
	HeadError     string         `json:"head_error,omitempty"`
	Tensors       []string       `json:"tensors,omitempty"`
}

type tensorJSON struct {
	Name  string  `json:"name"`
	Elem  string  `json:"elem_type"`
	Shape []int64 `json:"shape"`
	Dims  string  `json:"display"`
}

type layerJSON struct {
	Tensor   string `json:"tensor"`
	Pool     string `json:"pool"`
	Channels int    `json:"channels"`
	Height   int    `json:"height"`
	Width    int    `json:"width"`
}

type headJSON struct {
	Op       string `json:"op"`
	Output   string `json:"output"`
	Classes  int    `json:"classes"`
	Channels int    `json:"channels"`
}

func runInspect(cmd *cobra.Command, o *inspectOptions) error {
	m, closeModel, err := o.g.openSingle(o.model, o.size)
	if err != nil {
		return err
	}
	defer closeModel()
	in := m.Info()
	rep := inspectReport{
		SchemaVersion: 1, Seed: o.g.seed, Model: o.model, SHA256: m.SHA256(),
		Producer:  strings.TrimSpace(in.Producer + " " + in.ProducerVersion),
		IRVersion: in.IRVersion, Opsets: map[string]int{},
		Nodes: in.Nodes, Initializers: in.Initializers, Ops: in.Ops,
	}
	for _, op := range in.Opsets {
		d := op.Domain
		if d == "" {
			d = "ai.onnx"
		}
		rep.Opsets[d] = int(op.Version)
	}
	for _, t := range in.Inputs {
		rep.Inputs = append(rep.Inputs, tensorJSON{t.Name, t.Elem, t.Shape, t.String()})
	}
	for _, t := range in.Outputs {
		rep.Outputs = append(rep.Outputs, tensorJSON{t.Name, t.Elem, t.Shape, t.String()})
	}
	layers, err := m.Layers(cmd.Context())
	if err != nil {
		return err
	}
	for _, l := range layers {
		rep.Layers = append(rep.Layers, layerJSON{l.Tensor, l.Pool, l.Channels, l.Height, l.Width})
	}
	if len(layers) > 0 {
		rep.Target = layers[len(layers)-1].Tensor
		h, err := m.Head(cmd.Context())
		if err != nil {
			rep.HeadError = err.Error()
		} else {
			rep.Head = &headJSON{h.Op, h.Output, h.Classes, h.Channels}
		}
	}
	if o.layer != "" {
		l, err := m.Layer(cmd.Context(), o.layer)
		if err != nil {
			return fmt.Errorf("--layer: %w", err)
		}
		rep.Named = &layerJSON{l.Tensor, l.Pool, l.Channels, l.Height, l.Width}
	}
	if o.all {
		rep.Tensors = m.Tensors()
	}
	if o.g.json {
		return encodeJSON(o.g.out, rep)
	}
	return writeInspect(o.g, rep)
}

func writeInspect(g *globalOptions, r inspectReport) error {
	tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("model", r.Model)
	row("sha256", r.SHA256)
	row("producer", r.Producer)
	var ops []string
	for _, d := range slices.Sorted(maps.Keys(r.Opsets)) {
		ops = append(ops, fmt.Sprintf("%s %d", d, r.Opsets[d]))
	}
	row("format", fmt.Sprintf("IR %d, opset %s", r.IRVersion, strings.Join(ops, ", ")))
	for _, t := range r.Inputs {
		row("input", t.Dims)
	}
	for _, t := range r.Outputs {
		row("output", t.Dims)
	}
	row("graph", fmt.Sprintf("%d nodes, %d initializers", r.Nodes, r.Initializers))
	names := slices.Sorted(maps.Keys(r.Ops))
	slices.SortStableFunc(names, func(a, b string) int { return r.Ops[b] - r.Ops[a] })
	var hist []string
	for _, n := range names {
		hist = append(hist, fmt.Sprintf("%s %d", n, r.Ops[n]))
	}
	row("ops", strings.Join(hist, ", "))
	if len(r.Layers) == 0 {
		row("target layer", "none found (no global pooling of a 4-D map); name one with --layer")
	}
	for _, l := range r.Layers {
		mark := ""
		if l.Tensor == r.Target {
			mark = "  <- target layer"
		}
		row("cam layer", fmt.Sprintf("%s  %d×%d×%d  via %s%s", l.Tensor, l.Channels, l.Height, l.Width, l.Pool, mark))
	}
	switch {
	case r.Head != nil:
		row("head", fmt.Sprintf("%s -> %s: %d classes × %d channels", r.Head.Op, r.Head.Output, r.Head.Classes, r.Head.Channels))
	case r.HeadError != "":
		row("head", r.HeadError)
	}
	if l := r.Named; l != nil {
		row("named layer", fmt.Sprintf("%s  %d×%d×%d", l.Tensor, l.Channels, l.Height, l.Width))
	}
	for _, t := range r.Tensors {
		row("tensor", t)
	}
	return tw.Flush()
}
