package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseModel feeds arbitrary bytes through decoding and every graph
// walk that Open and inspect perform: none may panic.
func FuzzParseModel(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "models", "*.onnx"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseModel(data)
		if err != nil {
			return
		}
		g := newGraph(m)
		in := g.info()
		_ = in.Opset()
		for _, p := range g.pools() {
			g.head(p.output)
			g.chain(p.input, 3)
		}
		g.tensorNames()
		_ = g.noTensor("x")
		if _, err := g.withOutputs(g.tensorNames()); err != nil {
			t.Fatalf("withOutputs of the graph's own tensors: %v", err)
		}
	})
}
