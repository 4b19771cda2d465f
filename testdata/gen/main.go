// Command gen writes the small unit-test fixtures under testdata/: a handful
// of tiny ONNX classifiers built directly as ONNX protobuf messages with
// seeded weights, a few images in every decoder's format, and deliberately
// broken files for the bad-input tests.
//
// Run it from the repository root; it rewrites the same bytes every time:
//
//	go run ./testdata/gen
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

func main() {
	if err := run("testdata"); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	models := filepath.Join(root, "models")
	images := filepath.Join(root, "images")
	for _, d := range []string{models, images} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(20261129, 1))
	built := map[string]*onnxpb.ModelProto{
		"tiny_cam.onnx":         tinyCAM(rng),
		"tiny_gray_static.onnx": tinyGrayStatic(rng),
		"tiny_avgpool.onnx":     tinyAvgPool(rng),
		"vector_input.onnx":     vectorInput(rng),
	}
	for _, name := range []string{"tiny_cam.onnx", "tiny_gray_static.onnx", "tiny_avgpool.onnx", "vector_input.onnx"} {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(built[name])
		if err != nil {
			return fmt.Errorf("marshal %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(models, name), b, 0o644); err != nil {
			return err
		}
		if name == "tiny_cam.onnx" {
			if err := os.WriteFile(filepath.Join(models, "truncated.onnx"), b[:len(b)/2], 0o644); err != nil {
				return err
			}
		}
	}

	scene := shapes(32, 32)
	var buf bytes.Buffer
	if err := png.Encode(&buf, scene); err != nil {
		return err
	}
	files := map[string][]byte{"shapes.png": buf.Bytes()}
	// A PNG renamed to .onnx, for the "not an ONNX file" error.
	files["../models/not_onnx.onnx"] = buf.Bytes()

	buf = bytes.Buffer{}
	gray := image.NewGray(image.Rect(0, 0, 24, 24))
	for y := 0; y < 24; y++ {
		for x := 0; x < 24; x++ {
			gray.SetGray(x, y, color.Gray{Y: uint8(10 * (x + y) % 256)})
		}
	}
	if err := png.Encode(&buf, gray); err != nil {
		return err
	}
	files["gray.png"] = buf.Bytes()

	buf = bytes.Buffer{}
	if err := jpeg.Encode(&buf, scene, &jpeg.Options{Quality: 90}); err != nil {
		return err
	}
	files["shapes.jpg"] = buf.Bytes()

	buf = bytes.Buffer{}
	if err := gif.Encode(&buf, scene, &gif.Options{NumColors: 16}); err != nil {
		return err
	}
	files["shapes.gif"] = buf.Bytes()

	files["bomb.png"] = pngHeaderOnly(60000, 60000)
	files["corrupt.png"] = append([]byte("\x89PNG\r\n\x1a\n"), []byte("this is not a png body")...)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(images, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// shapes draws a red square and a green disc on a blue background.
func shapes(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{R: 20, G: 40, B: 160, A: 255}
			if x >= 4 && x < 14 && y >= 6 && y < 16 {
				c = color.NRGBA{R: 220, G: 30, B: 30, A: 255}
			}
			dx, dy := x-22, y-22
			if dx*dx+dy*dy <= 36 {
				c = color.NRGBA{R: 30, G: 200, B: 60, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// pngHeaderOnly returns a PNG signature, an IHDR chunk claiming w×h RGBA
// pixels and an IEND chunk: enough for image.DecodeConfig, a bomb for a
// decoder that trusts the header.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth
	ihdr[9] = 6 // RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// graph accumulates nodes and initializers of one model.
type graph struct {
	g   *onnxpb.GraphProto
	rng *rand.Rand
}

func newGraph(name string, rng *rand.Rand) *graph {
	return &graph{g: &onnxpb.GraphProto{Name: proto.String(name)}, rng: rng}
}

func (g *graph) input(name string, elem onnxpb.TensorProto_DataType, dims ...any) {
	g.g.Input = append(g.g.Input, valueInfo(name, elem, dims...))
}

func (g *graph) output(name string, elem onnxpb.TensorProto_DataType, dims ...any) {
	g.g.Output = append(g.g.Output, valueInfo(name, elem, dims...))
}

// weights adds a float initializer with uniform values in [-scale, scale).
func (g *graph) weights(name string, scale float32, dims ...int64) {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * (2*g.rng.Float32() - 1)
	}
	g.floats(name, v, dims...)
}

func (g *graph) floats(name string, v []float32, dims ...int64) {
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{
		Name:      proto.String(name),
		DataType:  proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Dims:      dims,
		FloatData: v,
	})
}

func (g *graph) ints(name string, v []int64, dims ...int64) {
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{
		Name:      proto.String(name),
		DataType:  proto.Int32(int32(onnxpb.TensorProto_INT64)),
		Dims:      dims,
		Int64Data: v,
	})
}

func (g *graph) node(op string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) {
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{
		OpType:    proto.String(op),
		Name:      proto.String(fmt.Sprintf("%s_%d", op, len(g.g.Node))),
		Input:     inputs,
		Output:    outputs,
		Attribute: attrs,
	})
}

func (g *graph) model(opset int64) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:       proto.Int64(7),
		ProducerName:    proto.String("cutmix-cam testdata/gen"),
		ProducerVersion: proto.String("1"),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph:           g.g,
	}
}

func valueInfo(name string, elem onnxpb.TensorProto_DataType, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{
				Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{
				Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(elem)),
			Shape:    shape,
		}}},
	}
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// tinyCAM: image [N,3,16,16] → Conv 3→4 (3×3, pad 1) → Relu → Conv 4→6
// (3×3, pad 1, stride 2) → Relu ("features", 8×8) → GlobalAveragePool →
// Flatten → Gemm (transB=1, 5 classes) → "logits". Opset 13, dynamic batch.
func tinyCAM(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("tiny_cam", rng)
	g.input("image", onnxpb.TensorProto_FLOAT, "N", 3, 16, 16)
	g.weights("conv1.w", 0.5, 4, 3, 3, 3)
	g.weights("conv1.b", 0.1, 4)
	g.weights("conv2.w", 0.5, 6, 4, 3, 3)
	g.weights("conv2.b", 0.1, 6)
	g.weights("fc.w", 1, 5, 6)
	g.weights("fc.b", 0.1, 5)
	g.node("Conv", []string{"image", "conv1.w", "conv1.b"}, []string{"conv1"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("Relu", []string{"conv1"}, []string{"relu1"})
	g.node("Conv", []string{"relu1", "conv2.w", "conv2.b"}, []string{"conv2"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1), intsAttr("strides", 2, 2))
	g.node("Relu", []string{"conv2"}, []string{"features"})
	g.node("GlobalAveragePool", []string{"features"}, []string{"pooled"})
	g.node("Flatten", []string{"pooled"}, []string{"flat"}, intAttr("axis", 1))
	g.node("Gemm", []string{"flat", "fc.w", "fc.b"}, []string{"logits"}, intAttr("transB", 1))
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 5)
	return g.model(13)
}

// tinyGrayStatic: x [1,1,8,8] (static batch) → Conv 1→3 → BatchNormalization
// → Clip(0, 6) → ReduceMean over H,W (keepdims) → Reshape [-1,3] → MatMul
// [3,4] → Add → Softmax → "prob". Opset 13.
func tinyGrayStatic(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("tiny_gray_static", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, 1, 1, 8, 8)
	g.weights("conv.w", 0.5, 3, 1, 3, 3)
	g.weights("conv.b", 0.1, 3)
	g.floats("bn.scale", []float32{1.5, 0.8, 1.1}, 3)
	g.floats("bn.bias", []float32{0.1, -0.2, 0.3}, 3)
	g.floats("bn.mean", []float32{0.05, -0.1, 0.2}, 3)
	g.floats("bn.var", []float32{0.9, 1.2, 0.5}, 3)
	g.floats("clip.min", []float32{0})
	g.floats("clip.max", []float32{6})
	g.ints("flat.shape", []int64{-1, 3}, 2)
	g.weights("head.w", 1, 3, 4)
	g.weights("head.b", 0.1, 4)
	g.node("Conv", []string{"x", "conv.w", "conv.b"}, []string{"conv"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("BatchNormalization", []string{"conv", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, []string{"bn"}, floatAttr("epsilon", 1e-5))
	g.node("Clip", []string{"bn", "clip.min", "clip.max"}, []string{"act"})
	g.node("ReduceMean", []string{"act"}, []string{"pooled"}, intsAttr("axes", 2, 3), intAttr("keepdims", 1))
	g.node("Reshape", []string{"pooled", "flat.shape"}, []string{"flat"})
	g.node("MatMul", []string{"flat", "head.w"}, []string{"mm"})
	g.node("Add", []string{"mm", "head.b"}, []string{"logits"})
	g.node("Softmax", []string{"logits"}, []string{"prob"}, intAttr("axis", 1))
	g.output("prob", onnxpb.TensorProto_FLOAT, 1, 4)
	return g.model(13)
}

// tinyAvgPool: input [batch,3,12,12] → Conv 3→4 (3×3, no pad, 10×10) → Relu
// → Identity → AveragePool 10×10 (covers the map) → Reshape [-1,4] → Gemm
// (transB=0, alpha 0.5, 3 classes) → "scores". Opset 13.
func tinyAvgPool(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("tiny_avgpool", rng)
	g.input("input", onnxpb.TensorProto_FLOAT, "batch", 3, 12, 12)
	g.weights("c.w", 0.5, 4, 3, 3, 3)
	g.weights("c.b", 0.1, 4)
	g.ints("shape", []int64{-1, 4}, 2)
	g.weights("g.w", 1, 4, 3)
	g.weights("g.b", 0.1, 3)
	g.node("Conv", []string{"input", "c.w", "c.b"}, []string{"c"}, intsAttr("kernel_shape", 3, 3))
	g.node("Relu", []string{"c"}, []string{"r"})
	g.node("Identity", []string{"r"}, []string{"r_id"})
	g.node("AveragePool", []string{"r_id"}, []string{"p"}, intsAttr("kernel_shape", 10, 10))
	g.node("Reshape", []string{"p", "shape"}, []string{"f"})
	g.node("Gemm", []string{"f", "g.w", "g.b"}, []string{"scores"}, floatAttr("alpha", 0.5))
	g.output("scores", onnxpb.TensorProto_FLOAT, "batch", 3)
	return g.model(13)
}

// vectorInput: v [N,10] → Gemm → "y"; not an image model.
func vectorInput(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("vector_input", rng)
	g.input("v", onnxpb.TensorProto_FLOAT, "N", 10)
	g.weights("w", 1, 2, 10)
	g.node("Gemm", []string{"v", "w"}, []string{"y"}, intAttr("transB", 1))
	g.output("y", onnxpb.TensorProto_FLOAT, "N", 2)
	return g.model(13)
}
