// Command kinks records, for every model of a testdata/torchref folder,
// the tensors on which ONNX Runtime's forward pass takes a piecewise
// decision: the inputs of every Relu, Clip and MaxPool node, in graph
// order, as ORT computes them in float32.
//
// Deep ReLU networks are only piecewise differentiable. When a
// pre-activation lies closer to a kink than float32 rounding can resolve
// (a ReLU input of 1e-11 after a 3×3×32 convolution, say), ORT and
// PyTorch may take different branches, and their input gradients then
// differ by a few percent in that unit's receptive field, although both
// are exact gradients of their own forward pass. export.py --forced reads
// the tensors written here and recomputes PyTorch's gradient in float64
// with ORT's branch decisions, which isolates the backward rules under
// test from forward rounding. Run from the repository root, after
// export.py --full DIR:
//
//	go run ./testdata/torchref/kinks DIR
//
// For each model NAME in DIR/manifest.json it writes DIR/NAME.kinks/
// holding index.json (op type, node name and file of every decision
// tensor, in graph order) and 0000.npy, 0001.npy, ... (float32).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/onnx"
)

// entry is one decision tensor in index.json.
type entry struct {
	Op     string `json:"op"`
	Node   string `json:"node"`
	Tensor string `json:"tensor"`
	File   string `json:"file"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./testdata/torchref/kinks DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "kinks:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var man struct {
		Models []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	lib, err := onnx.FindLibrary(onnx.LibraryConfig{})
	if err != nil {
		return err
	}
	rt, err := onnx.Init(lib.Path)
	if err != nil {
		return err
	}
	defer rt.Close()
	for _, e := range man.Models {
		if err := dump(dir, e.Name, e.Model); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		fmt.Println(e.Name, "done")
	}
	return nil
}

// dump writes the decision tensors of one model for its NAME.x.npy input.
func dump(dir, name, model string) error {
	m, err := onnx.Open(filepath.Join(dir, model), onnx.Options{Threads: 1})
	if err != nil {
		return err
	}
	defer m.Close()
	x, err := readNpy(filepath.Join(dir, name+".x.npy"))
	if err != nil {
		return err
	}
	index := []entry{} // "[]", not null, for a model without decisions
	var names []string
	for _, n := range m.Proto().GetGraph().GetNode() {
		switch n.GetOpType() {
		case "Relu", "Clip", "MaxPool":
			index = append(index, entry{Op: n.GetOpType(), Node: n.GetName(), Tensor: n.GetInput()[0],
				File: fmt.Sprintf("%04d.npy", len(index))})
			names = append(names, n.GetInput()[0])
		}
	}
	c, h, w := m.InputShape()
	batch := len(x.Data) / (c * h * w)
	in := make([]float32, len(x.Data))
	for i, v := range x.Data {
		in[i] = float32(v)
	}
	out := filepath.Join(dir, name+".kinks")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// Expose a few tensors per run: every exposed tensor is held in memory.
	const per = 16
	for lo := 0; lo < len(names); lo += per {
		hi := min(lo+per, len(names))
		ts, err := m.Run(context.Background(), in, batch, names[lo:hi]...)
		if err != nil {
			return err
		}
		ts = ts[len(ts)-(hi-lo):]
		for k, t := range ts {
			a := npy.Array{DType: npy.Float32, Data: make([]float64, len(t.Data))}
			for _, d := range t.Shape {
				a.Shape = append(a.Shape, int(d))
			}
			for i, v := range t.Data {
				a.Data[i] = float64(v)
			}
			err := atomicfile.Write(filepath.Join(out, index[lo+k].File), 0, func(w io.Writer) error { return npy.Write(w, a) })
			if err != nil {
				return err
			}
		}
	}
	b, err := json.MarshalIndent(index, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "index.json"), append(b, '\n'), 0o644)
}

func readNpy(path string) (npy.Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return npy.Array{}, err
	}
	defer f.Close()
	a, err := npy.Read(bufio.NewReader(f))
	if err != nil {
		return npy.Array{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
