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
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

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
	// Gradient fixtures draw from their own stream, so adding one leaves the
	// others' weights alone.
	grng := rand.New(rand.NewPCG(20261129, 5))
	built["grad_conv.onnx"] = gradConv(grng)
	built["grad_ops.onnx"] = gradOps(grng)
	built["grad_shape.onnx"] = gradShape(grng)
	built["grad_maxpool.onnx"] = gradMaxPool(grng)
	built["grad_bad.onnx"] = gradBad(grng)
	built["grad_norm.onnx"] = gradNorm(grng)
	built["grad_misc.onnx"] = gradMisc(grng)
	built["grad_resize.onnx"] = gradResize(grng)
	built["grad_attrs.onnx"] = gradAttrs(grng)
	built["grad_legacy.onnx"] = gradLegacy(grng)
	built["grad_vector.onnx"] = gradVector(grng)
	built["grad_silu.onnx"] = gradSiLU(grng)
	for _, name := range slices.Sorted(maps.Keys(built)) {
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

func tensorAttr(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}
}

func stringAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// gradConv exercises the convolution and pooling backward rules: x
// [N,3,11,10] → Conv 3→6 (3×3, strides 2,1, dilations 2,1, pads
// [1,0,2,1]) → LeakyRelu → Conv group 3 (3×2, strides 1,2, auto_pad
// SAME_UPPER) → BatchNormalization → Clip(−0.5, 0.8) ("clip") → MaxPool
// 3×3 stride 2 pads 1 ceil_mode → two branches: depthwise Conv (2×2, pads
// [1,1,0,0]) → AveragePool 2×2 stride 2 ceil_mode, count_include_pad=0;
// Sigmoid → HardSigmoid → AveragePool 3×3 stride 2 pads 1 ceil_mode,
// count_include_pad=1 → each GlobalAveragePool → Concat → Flatten → Gemm
// → "logits" [N,5]. Opset 11.
func gradConv(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_conv", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 11, 10)
	g.weights("c1.w", 0.5, 6, 3, 3, 3)
	g.weights("c1.b", 0.1, 6)
	g.weights("c2.w", 0.5, 6, 2, 3, 2)
	g.weights("c3.w", 0.8, 6, 1, 2, 2)
	g.weights("bn.scale", 1, 6)
	g.weights("bn.bias", 0.2, 6)
	g.weights("bn.mean", 0.2, 6)
	g.floats("bn.var", []float32{0.5, 1.5, 0.8, 1.2, 2, 0.7}, 6)
	g.floats("clip.min", []float32{-0.5})
	g.floats("clip.max", []float32{0.8})
	g.weights("fc.w", 1, 5, 12)
	g.weights("fc.b", 0.1, 5)
	g.node("Conv", []string{"x", "c1.w", "c1.b"}, []string{"c1"}, intsAttr("kernel_shape", 3, 3),
		intsAttr("strides", 2, 1), intsAttr("dilations", 2, 1), intsAttr("pads", 1, 0, 2, 1))
	g.node("LeakyRelu", []string{"c1"}, []string{"l1"}, floatAttr("alpha", 0.1))
	g.node("Conv", []string{"l1", "c2.w"}, []string{"c2"}, intsAttr("kernel_shape", 3, 2),
		intsAttr("strides", 1, 2), intAttr("group", 3), stringAttr("auto_pad", "SAME_UPPER"))
	g.node("BatchNormalization", []string{"c2", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, []string{"bn"}, floatAttr("epsilon", 1e-3))
	g.node("Clip", []string{"bn", "clip.min", "clip.max"}, []string{"clip"})
	g.node("MaxPool", []string{"clip"}, []string{"mp"}, intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2),
		intsAttr("pads", 1, 1, 1, 1), intAttr("ceil_mode", 1))
	g.node("Conv", []string{"mp", "c3.w"}, []string{"dw"}, intsAttr("kernel_shape", 2, 2), intAttr("group", 6), intsAttr("pads", 1, 1, 0, 0))
	g.node("AveragePool", []string{"dw"}, []string{"ap1"}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2), intAttr("ceil_mode", 1))
	g.node("Sigmoid", []string{"mp"}, []string{"sg"})
	g.node("HardSigmoid", []string{"sg"}, []string{"hs"}, floatAttr("alpha", 1.5), floatAttr("beta", -0.3))
	g.node("AveragePool", []string{"hs"}, []string{"ap2"}, intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2),
		intsAttr("pads", 1, 1, 1, 1), intAttr("ceil_mode", 1), intAttr("count_include_pad", 1))
	g.node("GlobalAveragePool", []string{"ap1"}, []string{"gp1"})
	g.node("GlobalAveragePool", []string{"ap2"}, []string{"gp2"})
	g.node("Concat", []string{"gp1", "gp2"}, []string{"cat"}, intAttr("axis", 1))
	g.node("Flatten", []string{"cat"}, []string{"flat"}, intAttr("axis", 1))
	g.node("Gemm", []string{"flat", "fc.w", "fc.b"}, []string{"logits"}, intAttr("transB", 1))
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 5)
	return g.model(11)
}

// gradOps exercises the element-wise rules and broadcasting: x [N,3,6,6]
// → Conv 3→4 → Tanh → Mul [4,1,1] → Add [6] → Sub its ReduceMean over H
// (both operands depend on x) → Div by Sqrt(m·m + 1) (broadcast along H) →
// Mul by a scalar → HardSwish → PRelu [4,1,1] ("act") → Relu, Elu,
// HardSigmoid, Erf, Softplus, Pow 3, Neg, Exp, Softmax over channels,
// LogSoftmax over W, Sum → GlobalMaxPool and ReduceSum (axes input,
// keepdims 0) → Flatten, Add → MatMul → Add → "logits" [N,5]. Opset 14.
func gradOps(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_ops", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 6, 6)
	g.weights("c.w", 0.5, 4, 3, 3, 3)
	g.weights("c.b", 0.1, 4)
	g.weights("s1", 1, 4, 1, 1)
	g.weights("b1", 0.5, 6)
	g.floats("one", []float32{1})
	g.floats("k", []float32{2.5})
	g.floats("three", []float32{3})
	g.weights("slope", 0.5, 4, 1, 1)
	g.ints("axes23", []int64{2, 3}, 2)
	g.weights("w", 1, 4, 5)
	g.weights("b", 0.1, 5)
	g.node("Conv", []string{"x", "c.w", "c.b"}, []string{"c"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("Tanh", []string{"c"}, []string{"t"})
	g.node("Mul", []string{"t", "s1"}, []string{"a1"})
	g.node("Add", []string{"a1", "b1"}, []string{"a2"})
	g.node("ReduceMean", []string{"a2"}, []string{"rm"}, intsAttr("axes", 2), intAttr("keepdims", 1))
	g.node("Sub", []string{"a2", "rm"}, []string{"a3"})
	g.node("Mul", []string{"rm", "rm"}, []string{"sq"})
	g.node("Add", []string{"sq", "one"}, []string{"sq1"})
	g.node("Sqrt", []string{"sq1"}, []string{"d"})
	g.node("Div", []string{"a3", "d"}, []string{"a4"})
	g.node("Mul", []string{"k", "a4"}, []string{"a5"})
	g.node("HardSwish", []string{"a5"}, []string{"hw"})
	g.node("PRelu", []string{"hw", "slope"}, []string{"act"})
	g.node("Relu", []string{"act"}, []string{"r"})
	g.node("Elu", []string{"act"}, []string{"elu"}, floatAttr("alpha", 0.7))
	g.node("HardSigmoid", []string{"act"}, []string{"hsg"})
	g.node("Erf", []string{"act"}, []string{"erf"})
	g.node("Softplus", []string{"act"}, []string{"sp"})
	g.node("Pow", []string{"act", "three"}, []string{"pw"})
	g.node("Neg", []string{"pw"}, []string{"npw"})
	g.node("Exp", []string{"elu"}, []string{"ex"})
	g.node("Softmax", []string{"act"}, []string{"sm"}, intAttr("axis", 1))
	g.node("LogSoftmax", []string{"erf"}, []string{"lsm"}, intAttr("axis", -1))
	g.node("Sum", []string{"r", "hsg", "sp", "npw", "ex", "sm", "lsm"}, []string{"s"})
	g.node("GlobalMaxPool", []string{"s"}, []string{"gmp"})
	g.node("ReduceSum", []string{"s", "axes23"}, []string{"rs"}, intAttr("keepdims", 0))
	g.node("Flatten", []string{"gmp"}, []string{"f"})
	g.node("Add", []string{"f", "rs"}, []string{"h"})
	g.node("MatMul", []string{"h", "w"}, []string{"mm"})
	g.node("Add", []string{"mm", "b"}, []string{"logits"})
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 5)
	return g.model(14)
}

// gradSiLU exercises the fused SiLU backward and its fall-backs: x
// [N,1,6,6] → Conv 1→4 → "c1"·Sigmoid(c1) (fused) → Conv 4→4 →
// Sigmoid(c2)·c2, operands swapped (fused) → Conv 4→4 → c3·"s3" where s3
// also feeds an Add (not fused) → GlobalAveragePool → Flatten → Gemm →
// "logits" [N,3]. Opset 13.
func gradSiLU(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_silu", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 1, 6, 6)
	g.weights("c1.w", 1, 4, 1, 3, 3)
	g.weights("c1.b", 0.5, 4)
	g.weights("c2.w", 0.6, 4, 4, 3, 3)
	g.weights("c2.b", 0.5, 4)
	g.weights("c3.w", 0.6, 4, 4, 1, 1)
	g.weights("c3.b", 0.5, 4)
	g.weights("fc.w", 1, 3, 4)
	g.weights("fc.b", 0.1, 3)
	pad := intsAttr("pads", 1, 1, 1, 1)
	g.node("Conv", []string{"x", "c1.w", "c1.b"}, []string{"c1"}, intsAttr("kernel_shape", 3, 3), pad)
	g.node("Sigmoid", []string{"c1"}, []string{"s1"})
	g.node("Mul", []string{"c1", "s1"}, []string{"y1"})
	g.node("Conv", []string{"y1", "c2.w", "c2.b"}, []string{"c2"}, intsAttr("kernel_shape", 3, 3), pad)
	g.node("Sigmoid", []string{"c2"}, []string{"s2"})
	g.node("Mul", []string{"s2", "c2"}, []string{"y2"})
	g.node("Conv", []string{"y2", "c3.w", "c3.b"}, []string{"c3"}, intsAttr("kernel_shape", 1, 1))
	g.node("Sigmoid", []string{"c3"}, []string{"s3"})
	g.node("Mul", []string{"c3", "s3"}, []string{"y3"})
	g.node("Add", []string{"y3", "s3"}, []string{"z"})
	g.node("GlobalAveragePool", []string{"z"}, []string{"gap"})
	g.node("Flatten", []string{"gap"}, []string{"f"})
	g.node("Gemm", []string{"f", "fc.w", "fc.b"}, []string{"logits"}, intAttr("transB", 1))
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 3)
	return g.model(13)
}

// gradShape exercises the shape rules: x [N,1,6,8] → Conv 1→4 → Sigmoid
// ("s") → Transpose → Reshape (shape from a Constant node) [N,48,4] →
// batched MatMul of its transpose with itself [N,4,4] → Unsqueeze →
// Squeeze → Slice → Pad → Gather (repeated indices) → Split [1,3] → Concat,
// Expand → Add → ReduceMax → Cast → Identity → Dropout → LogSoftmax; and
// Reshape → MatMul [4,3] → Flatten → Transpose → Gemm (transA, alpha 0.7,
// beta 0.3) → Add → "logits" [N,5]. Opset 13.
func gradShape(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_shape", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 1, 6, 8)
	g.weights("c.w", 1, 4, 1, 3, 3)
	g.weights("c.b", 0.1, 4)
	g.ints("ax1", []int64{1}, 1)
	g.ints("sl.starts", []int64{1}, 1)
	g.ints("sl.ends", []int64{4}, 1)
	g.ints("sl.axes", []int64{2}, 1)
	g.ints("pads", []int64{0, 0, 1, 0, 1, 0}, 6)
	g.ints("gidx", []int64{0, 2, 2, -1}, 4)
	g.ints("split", []int64{1, 3}, 2)
	g.ints("eshape", []int64{1, 4, 4}, 3)
	g.ints("flat2", []int64{0, -1}, 2)
	g.weights("wb", 1, 4, 3)
	g.weights("gw", 0.3, 144, 5)
	g.weights("gc", 0.5, 5)
	g.weights("w2", 1, 4, 5)
	g.node("Conv", []string{"x", "c.w", "c.b"}, []string{"c"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("Sigmoid", []string{"c"}, []string{"s"})
	g.node("Transpose", []string{"s"}, []string{"tr"}, intsAttr("perm", 0, 2, 3, 1))
	g.node("Constant", nil, []string{"rshape"}, tensorAttr("value", &onnxpb.TensorProto{
		DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{3}, Int64Data: []int64{0, 48, 4}}))
	g.node("Reshape", []string{"tr", "rshape"}, []string{"rs"})
	g.node("Transpose", []string{"rs"}, []string{"rst"}, intsAttr("perm", 0, 2, 1))
	g.node("MatMul", []string{"rst", "rs"}, []string{"gram"})
	g.node("Unsqueeze", []string{"gram", "ax1"}, []string{"un"})
	g.node("Squeeze", []string{"un", "ax1"}, []string{"sq"})
	g.node("Slice", []string{"sq", "sl.starts", "sl.ends", "sl.axes"}, []string{"sl"})
	g.node("Pad", []string{"sl", "pads"}, []string{"pd"})
	g.node("Gather", []string{"pd", "gidx"}, []string{"ga"}, intAttr("axis", 1))
	g.node("Split", []string{"ga", "split"}, []string{"sp0", "sp1"}, intAttr("axis", 2))
	g.node("Concat", []string{"sp1", "sp0"}, []string{"cc"}, intAttr("axis", 2))
	g.node("Expand", []string{"sp0", "eshape"}, []string{"ex"})
	g.node("Add", []string{"cc", "ex"}, []string{"ce"})
	g.node("ReduceMax", []string{"ce"}, []string{"mx"}, intsAttr("axes", 2), intAttr("keepdims", 0))
	g.node("Cast", []string{"mx"}, []string{"mxc"}, intAttr("to", int64(onnxpb.TensorProto_FLOAT)))
	g.node("Identity", []string{"mxc"}, []string{"mxi"})
	g.node("Dropout", []string{"mxi"}, []string{"mxd"})
	g.node("LogSoftmax", []string{"mxd"}, []string{"ls"}, intAttr("axis", 1))
	g.node("MatMul", []string{"rs", "wb"}, []string{"mm"})
	g.node("Flatten", []string{"mm"}, []string{"fl"})
	g.node("Transpose", []string{"fl"}, []string{"flt"})
	g.node("Gemm", []string{"flt", "gw", "gc"}, []string{"gm"}, intAttr("transA", 1), floatAttr("alpha", 0.7), floatAttr("beta", 0.3))
	g.node("MatMul", []string{"ls", "w2"}, []string{"m2"})
	g.node("Add", []string{"gm", "m2"}, []string{"logits"})
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 5)
	return g.model(13)
}

// gradMaxPool routes gradients through an overlapping, dilated, padded
// MaxPool: x [N,1,6,6] → MaxPool 3×2 (strides 1,2, dilations 1,2, pads
// [1,0,0,1]; 5×3 out) → Flatten → "logits" [N,15]. Opset 12.
func gradMaxPool(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_maxpool", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 1, 6, 6)
	g.node("MaxPool", []string{"x"}, []string{"mp"}, intsAttr("kernel_shape", 3, 2), intsAttr("strides", 1, 2),
		intsAttr("dilations", 1, 2), intsAttr("pads", 1, 0, 0, 1))
	g.node("Flatten", []string{"mp"}, []string{"logits"})
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 15)
	return g.model(12)
}

// gradNorm exercises the normalization rules: x [N,3,5,6] → Conv 3→6 →
// LRN (size 3) → InstanceNormalization → LRN (size 5) →
// LayerNormalization (axis 2, over H and W) → GlobalAveragePool → Flatten
// → Gemm → "logits" [N,4]. Opset 17.
func gradNorm(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_norm", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 5, 6)
	g.weights("c.w", 1, 6, 3, 3, 3)
	g.weights("c.b", 0.1, 6)
	g.weights("in.scale", 1, 6)
	g.weights("in.b", 0.3, 6)
	g.weights("ln.scale", 1, 5, 6)
	g.weights("ln.b", 0.3, 5, 6)
	g.weights("fc.w", 1, 4, 6)
	g.weights("fc.b", 0.1, 4)
	g.node("Conv", []string{"x", "c.w", "c.b"}, []string{"c"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("LRN", []string{"c"}, []string{"l1"}, intAttr("size", 3), floatAttr("alpha", 0.5), floatAttr("beta", 0.75), floatAttr("bias", 1.2))
	g.node("InstanceNormalization", []string{"l1", "in.scale", "in.b"}, []string{"in"})
	g.node("LRN", []string{"in"}, []string{"l2"}, intAttr("size", 5), floatAttr("alpha", 0.8))
	g.node("LayerNormalization", []string{"l2", "ln.scale", "ln.b"}, []string{"ln"}, intAttr("axis", 2))
	g.node("GlobalAveragePool", []string{"ln"}, []string{"gp"})
	g.node("Flatten", []string{"gp"}, []string{"f"})
	g.node("Gemm", []string{"f", "fc.w", "fc.b"}, []string{"logits"}, intAttr("transB", 1))
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 4)
	return g.model(17)
}

// gradMisc exercises the remaining rules and opset-18+ input forms: x
// [N,3,5,5] → Conv 3→4 → Gelu ("g") → Abs → Clip (min only) → Log; 1 /
// (g·g + 1) → Add → MaxPool 3×3 (stride 1, pads 1) → Pad (axes input) → Split (num_outputs) → Mul →
// ReduceMean (axes input, keepdims 0); Resize nearest ×2,×3 of the pad →
// Mul by a weight map → ReduceMax (axes input) → Flatten → Concat → Gemm → "logits" [N,3]. Opset
// 20.
func gradMisc(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_misc", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 5, 5)
	g.weights("c.w", 1, 4, 3, 3, 3)
	g.weights("c.b", 0.1, 4)
	g.floats("lo", []float32{0.1})
	g.floats("one", []float32{1})
	g.ints("pads", []int64{1, 0, 0, 2}, 4)
	g.ints("pad.axes", []int64{2, 3}, 2)
	g.ints("hw", []int64{2, 3}, 2)
	g.floats("up.scales", []float32{1, 1, 2, 3}, 4)
	g.weights("up.w", 1, 1, 1, 12, 21)
	g.weights("fc.w", 1, 3, 6)
	g.weights("fc.b", 0.1, 3)
	g.node("Conv", []string{"x", "c.w", "c.b"}, []string{"c"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("Gelu", []string{"c"}, []string{"g"})
	g.node("Abs", []string{"g"}, []string{"a"})
	g.node("Clip", []string{"a", "lo"}, []string{"cl"})
	g.node("Log", []string{"cl"}, []string{"l"})
	g.node("Mul", []string{"g", "g"}, []string{"gg"})
	g.node("Add", []string{"gg", "one"}, []string{"gg1"})
	g.node("Reciprocal", []string{"gg1"}, []string{"r"})
	g.node("Add", []string{"l", "r"}, []string{"s"})
	g.node("MaxPool", []string{"s"}, []string{"mp"}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
	g.node("Pad", []string{"mp", "pads", "", "pad.axes"}, []string{"p"})
	g.node("Split", []string{"p"}, []string{"sp0", "sp1"}, intAttr("axis", 1), intAttr("num_outputs", 2))
	g.node("Mul", []string{"sp0", "sp1"}, []string{"m"})
	g.node("ReduceMean", []string{"m", "hw"}, []string{"rm"}, intAttr("keepdims", 0))
	g.node("Resize", []string{"p", "", "up.scales"}, []string{"up"}, stringAttr("mode", "nearest"))
	g.node("Mul", []string{"up", "up.w"}, []string{"upw"})
	g.node("ReduceMax", []string{"upw", "hw"}, []string{"rx"})
	g.node("Flatten", []string{"rx"}, []string{"fx"})
	g.node("Concat", []string{"rm", "fx"}, []string{"h"}, intAttr("axis", 1))
	g.node("Gemm", []string{"h", "fc.w", "fc.b"}, []string{"logits"}, intAttr("transB", 1))
	g.output("logits", onnxpb.TensorProto_FLOAT, "N", 3)
	return g.model(20)
}

// gradBad has two outputs for the gradient error tests: "floor" (x →
// Floor → Flatten, an op without a backward rule) and "int" (x → Cast to
// int64 → Cast to float → Flatten, an integer path). Opset 13.
func gradBad(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_bad", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 1, 2, 2)
	g.node("Floor", []string{"x"}, []string{"fl"})
	g.node("Flatten", []string{"fl"}, []string{"floor"})
	g.node("Cast", []string{"x"}, []string{"xi"}, intAttr("to", int64(onnxpb.TensorProto_INT64)))
	g.node("Cast", []string{"xi"}, []string{"xf"}, intAttr("to", int64(onnxpb.TensorProto_FLOAT)))
	g.node("Flatten", []string{"xf"}, []string{"int"})
	g.output("floor", onnxpb.TensorProto_FLOAT, "N", 4)
	g.output("int", onnxpb.TensorProto_FLOAT, "N", 4)
	return g.model(13)
}

// flatOut flattens t into the model output name [N, K].
func (g *graph) flatOut(t, name string) {
	g.node("Flatten", []string{t}, []string{name})
	g.output(name, onnxpb.TensorProto_FLOAT, "N", "K")
}

// gradResize exercises every Resize mode, coordinate mapping and way of
// giving the output size, one output per variant so that each is checked
// on its own: x [N,3,4,5] → Resize → Flatten → output. The outputs named
// bad_* use attributes without a backward rule. Opset 19.
func gradResize(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_resize", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 4, 5)
	for _, v := range []struct {
		name   string
		scales []float32 // every axis
		sizes  []int64   // the axes attribute's
		axes   []int64
		attrs  []*onnxpb.AttributeProto
	}{
		{name: "linear_half", scales: []float32{1, 1, 1.5, 2.3}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear")}},
		{name: "linear_pytorch", sizes: []int64{7, 1}, axes: []int64{2, 3}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			stringAttr("coordinate_transformation_mode", "pytorch_half_pixel")}},
		{name: "linear_corners", scales: []float32{1, 1, 2, 0.6}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			stringAttr("coordinate_transformation_mode", "align_corners")}},
		{name: "linear_asym", sizes: []int64{9, 3}, axes: []int64{3, 2}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			stringAttr("coordinate_transformation_mode", "asymmetric")}},
		{name: "linear_sym", scales: []float32{1, 1, 0.75, 1.6}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			stringAttr("coordinate_transformation_mode", "half_pixel_symmetric")}},
		{name: "linear_policy", sizes: []int64{6, 12}, axes: []int64{2, 3}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			stringAttr("keep_aspect_ratio_policy", "not_larger")}},
		{name: "cubic_half", scales: []float32{1, 1, 1.75, 1.4}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "cubic"),
			floatAttr("cubic_coeff_a", -0.5)}},
		{name: "cubic_exclude", sizes: []int64{6, 4}, axes: []int64{2, 3}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "cubic"),
			intAttr("exclude_outside", 1)}},
		{name: "cubic_corners", scales: []float32{1, 1, 0.75, 2}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "cubic"),
			stringAttr("coordinate_transformation_mode", "align_corners")}},
		{name: "nearest_floor", scales: []float32{1, 1, 0.5, 1.6}},
		{name: "nearest_ceil", scales: []float32{1, 1, 1.5, 0.5}, attrs: []*onnxpb.AttributeProto{stringAttr("nearest_mode", "round_prefer_ceil")}},
		{name: "nearest_asym", sizes: []int64{7, 8}, axes: []int64{2, 3}, attrs: []*onnxpb.AttributeProto{
			stringAttr("coordinate_transformation_mode", "asymmetric"), stringAttr("nearest_mode", "ceil")}},
		{name: "nearest_corners", scales: []float32{1, 1, 0.5, 2.2}, attrs: []*onnxpb.AttributeProto{
			stringAttr("coordinate_transformation_mode", "align_corners"), stringAttr("nearest_mode", "floor")}},
		{name: "nearest_pytorch", scales: []float32{1, 1, 0.25, 1.2}, attrs: []*onnxpb.AttributeProto{
			stringAttr("coordinate_transformation_mode", "pytorch_half_pixel")}},
		{name: "nearest_tf", scales: []float32{1, 1, 1.5, 0.8}, attrs: []*onnxpb.AttributeProto{
			stringAttr("coordinate_transformation_mode", "tf_half_pixel_for_nn")}},
		{name: "nearest_policy", sizes: []int64{3, 12}, axes: []int64{2, 3}, attrs: []*onnxpb.AttributeProto{
			stringAttr("keep_aspect_ratio_policy", "not_smaller")}},
		{name: "bad_antialias", scales: []float32{1, 1, 0.5, 0.6}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			intAttr("antialias", 1)}},
		{name: "bad_crop", scales: []float32{1, 1, 2, 2}, attrs: []*onnxpb.AttributeProto{stringAttr("mode", "linear"),
			stringAttr("coordinate_transformation_mode", "tf_crop_and_resize")}},
	} {
		in := []string{"x", "", ""}
		if v.scales != nil {
			g.floats(v.name+".scales", v.scales, int64(len(v.scales)))
			in[2] = v.name + ".scales"
		} else {
			g.ints(v.name+".sizes", v.sizes, int64(len(v.sizes)))
			in = append(in, v.name+".sizes")
		}
		attrs := v.attrs
		if v.axes != nil {
			attrs = append(attrs, intsAttr("axes", v.axes...))
		}
		g.node("Resize", in, []string{v.name + ".y"}, attrs...)
		g.flatOut(v.name+".y", v.name)
	}
	return g.model(19)
}

// gradAttrs exercises attributes of the other rules, one output per case:
// x [N,3,5,6] → Gelu (tanh); Slice with steps of ±2, ±1 and 3 and clamped
// starts and ends; Pad reflect, edge (negative pads, axes input), wrap
// (unsorted axes) and constant (negative pads, a value); AveragePool with
// dilations, count_include_pad both ways; MatMul by a 1-D B and of a 1-D
// A; Conv with auto_pad SAME_LOWER, VALID with dilations, and a channel
// multiplier of 2 per group; MaxPool with storage_order 1; ReduceSum with
// noop_with_empty_axes, ReduceMax and ReduceMean with axes inputs;
// LayerNormalization (axis 1, epsilon); Clip with only a maximum and Cast
// to double and back; Softmax on axis 2; Gather of a scalar and of a 2-D
// index; Flatten on axis 2; PRelu with a slope along W. Outputs named bad_*
// have no backward rule. Opset 20.
func gradAttrs(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_attrs", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 5, 6)
	g.node("Gelu", []string{"x"}, []string{"gelu.y"}, stringAttr("approximate", "tanh"))
	g.flatOut("gelu.y", "gelu")

	for _, v := range []struct {
		name                      string
		starts, ends, axes, steps []int64
	}{
		{"slice_step2", []int64{4, 1}, []int64{math.MinInt64, 100}, []int64{2, -1}, []int64{-2, 2}},
		{"slice_reverse", []int64{10}, []int64{-10}, []int64{3}, []int64{-1}},
		{"slice_step3", []int64{-4, 1}, []int64{5, -1}, []int64{2, 1}, []int64{3, 1}},
	} {
		k := int64(len(v.axes))
		g.ints(v.name+".starts", v.starts, k)
		g.ints(v.name+".ends", v.ends, k)
		g.ints(v.name+".axes", v.axes, k)
		g.ints(v.name+".steps", v.steps, k)
		g.node("Slice", []string{"x", v.name + ".starts", v.name + ".ends", v.name + ".axes", v.name + ".steps"}, []string{v.name + ".y"})
		g.flatOut(v.name+".y", v.name)
	}

	g.floats("pad.value", []float32{0.5})
	for _, v := range []struct {
		name, mode string
		pads, axes []int64
	}{
		{"pad_reflect", "reflect", []int64{0, 0, 2, 1, 0, 0, 1, 3}, nil},
		{"pad_edge", "edge", []int64{-1, 2, 3, -2}, []int64{2, 3}},
		{"pad_wrap", "wrap", []int64{1, 4, 2, 0}, []int64{3, -2}},
		{"pad_const", "constant", []int64{0, 0, -1, 2, 0, 0, 2, -3}, nil},
	} {
		g.ints(v.name+".pads", v.pads, int64(len(v.pads)))
		in := []string{"x", v.name + ".pads", ""}
		if v.mode == "constant" {
			in[2] = "pad.value"
		}
		if v.axes != nil {
			g.ints(v.name+".axes", v.axes, int64(len(v.axes)))
			in = append(in, v.name+".axes")
		}
		g.node("Pad", in, []string{v.name + ".y"}, stringAttr("mode", v.mode))
		g.flatOut(v.name+".y", v.name)
	}

	g.node("AveragePool", []string{"x"}, []string{"avgpool_dil.y"}, intsAttr("kernel_shape", 2, 3), intsAttr("dilations", 2, 1),
		intsAttr("strides", 1, 2), intsAttr("pads", 1, 1, 1, 1), intAttr("ceil_mode", 1))
	g.flatOut("avgpool_dil.y", "avgpool_dil")
	g.node("AveragePool", []string{"x"}, []string{"avgpool_dil_inc.y"}, intsAttr("kernel_shape", 3, 2), intsAttr("dilations", 1, 2),
		intsAttr("strides", 2, 2), intsAttr("pads", 1, 0, 0, 1), intAttr("ceil_mode", 1), intAttr("count_include_pad", 1))
	g.flatOut("avgpool_dil_inc.y", "avgpool_dil_inc")

	g.weights("mm.b", 1, 6)
	g.weights("mm.a", 1, 5)
	g.node("MatMul", []string{"x", "mm.b"}, []string{"matmul_b1.y"})
	g.flatOut("matmul_b1.y", "matmul_b1")
	g.node("MatMul", []string{"mm.a", "x"}, []string{"matmul_a1.y"})
	g.flatOut("matmul_a1.y", "matmul_a1")

	g.weights("conv.w1", 0.5, 3, 3, 3, 2)
	g.weights("conv.w2", 0.5, 3, 3, 2, 2)
	g.weights("conv.w3", 0.5, 6, 1, 3, 3)
	g.node("Conv", []string{"x", "conv.w1"}, []string{"conv_lower.y"}, intsAttr("strides", 2, 2), stringAttr("auto_pad", "SAME_LOWER"))
	g.flatOut("conv_lower.y", "conv_lower")
	g.node("Conv", []string{"x", "conv.w2"}, []string{"conv_valid.y"}, intsAttr("dilations", 2, 2), intsAttr("strides", 1, 2),
		stringAttr("auto_pad", "VALID"))
	g.flatOut("conv_valid.y", "conv_valid")
	g.node("Conv", []string{"x", "conv.w3"}, []string{"conv_group.y"}, intAttr("group", 3), intsAttr("pads", 1, 0, 1, 2))
	g.flatOut("conv_group.y", "conv_group")

	g.node("MaxPool", []string{"x"}, []string{"maxpool.y"}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 1, 2),
		intsAttr("pads", 0, 1, 1, 0), intAttr("storage_order", 1))
	g.flatOut("maxpool.y", "maxpool")

	g.ints("reduce.none", []int64{}, 0)
	g.ints("reduce.last", []int64{-1}, 1)
	g.ints("reduce.ch", []int64{1, 3}, 2)
	g.weights("reduce.w", 1, 3, 5, 6)
	g.node("ReduceSum", []string{"x", "reduce.none"}, []string{"reduce_noop.s"}, intAttr("noop_with_empty_axes", 1))
	g.node("Mul", []string{"reduce_noop.s", "reduce.w"}, []string{"reduce_noop.y"})
	g.flatOut("reduce_noop.y", "reduce_noop")
	g.node("ReduceMax", []string{"x", "reduce.last"}, []string{"reduce_max.y"}, intAttr("keepdims", 0))
	g.flatOut("reduce_max.y", "reduce_max")
	g.node("ReduceMean", []string{"x", "reduce.ch"}, []string{"reduce_mean.y"})
	g.flatOut("reduce_mean.y", "reduce_mean")

	g.weights("ln.scale", 1, 3, 5, 6)
	g.node("LayerNormalization", []string{"x", "ln.scale"}, []string{"layernorm.y"}, intAttr("axis", 1), floatAttr("epsilon", 0.5))
	g.flatOut("layernorm.y", "layernorm")

	g.floats("clip.max", []float32{0.3})
	g.node("Clip", []string{"x", "", "clip.max"}, []string{"clip.c"})
	g.node("Cast", []string{"clip.c"}, []string{"clip.d"}, intAttr("to", int64(onnxpb.TensorProto_DOUBLE)))
	g.node("Mul", []string{"clip.d", "clip.d"}, []string{"clip.dd"})
	g.node("Cast", []string{"clip.dd"}, []string{"clip_cast.y"}, intAttr("to", int64(onnxpb.TensorProto_FLOAT)))
	g.flatOut("clip_cast.y", "clip_cast")

	g.node("Softmax", []string{"x"}, []string{"softmax.s"}, intAttr("axis", 2))
	g.node("Mul", []string{"softmax.s", "reduce.w"}, []string{"softmax.y"}) // else the scores would be x
	g.flatOut("softmax.y", "softmax")

	g.ints("gather.scalar", []int64{-2})
	g.ints("gather.2d", []int64{0, 5, 5, 1}, 2, 2)
	g.node("Gather", []string{"x", "gather.scalar"}, []string{"gather_scalar.y"}, intAttr("axis", 2))
	g.flatOut("gather_scalar.y", "gather_scalar")
	g.node("Gather", []string{"x", "gather.2d"}, []string{"gather_2d.y"}, intAttr("axis", 3))
	g.flatOut("gather_2d.y", "gather_2d")

	g.weights("flatten.w", 1, 30, 3)
	g.ints("flatten.shape", []int64{-1, 9}, 2)
	g.node("Flatten", []string{"x"}, []string{"flatten.f"}, intAttr("axis", 2))
	g.node("MatMul", []string{"flatten.f", "flatten.w"}, []string{"flatten.m"})
	g.node("Reshape", []string{"flatten.m", "flatten.shape"}, []string{"flatten"})
	g.output("flatten", onnxpb.TensorProto_FLOAT, "N", 9)

	g.weights("prelu.slope", 1, 6)
	g.node("PRelu", []string{"x", "prelu.slope"}, []string{"prelu.y"})
	g.flatOut("prelu.y", "prelu")

	g.ints("bad.start", []int64{-1}, 1)
	g.ints("bad.end", []int64{math.MinInt64}, 1)
	g.ints("bad.axis", []int64{0}, 1)
	g.ints("bad.step", []int64{-1}, 1)
	g.node("Slice", []string{"x", "bad.start", "bad.end", "bad.axis", "bad.step"}, []string{"bad_batch_slice.y"})
	g.flatOut("bad_batch_slice.y", "bad_batch_slice")
	return g.model(20)
}

// gradLegacy exercises the attribute forms of old opsets, one output per
// case: x [N,3,4,5] → Upsample (linear and nearest, scales input);
// Softmax and LogSoftmax with the 2-D coercion of every axis from axis on;
// Clip by min and max attributes; Slice by attributes; Pad reflect then
// edge by attributes; Split by a split attribute; Unsqueeze and Squeeze by
// axes attributes; ReduceMean and ReduceSum by axes attributes. Opset 9.
func gradLegacy(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_legacy", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, "N", 3, 4, 5)
	g.floats("up.linear", []float32{1, 1, 2, 1.5}, 4)
	g.floats("up.nearest", []float32{1, 1, 1.5, 2.5}, 4)
	g.node("Upsample", []string{"x", "up.linear"}, []string{"upsample_linear.y"}, stringAttr("mode", "linear"))
	g.flatOut("upsample_linear.y", "upsample_linear")
	g.node("Upsample", []string{"x", "up.nearest"}, []string{"upsample_nearest.y"})
	g.flatOut("upsample_nearest.y", "upsample_nearest")

	// Each is weighted: the scores of a Softmax output are its input.
	g.weights("softmax.w", 1, 3, 4, 5)
	g.node("Softmax", []string{"x"}, []string{"softmax.s"})
	g.node("Mul", []string{"softmax.s", "softmax.w"}, []string{"softmax.y"})
	g.flatOut("softmax.y", "softmax")
	g.node("LogSoftmax", []string{"x"}, []string{"logsoftmax.s"}, intAttr("axis", 2))
	g.node("Mul", []string{"logsoftmax.s", "softmax.w"}, []string{"logsoftmax.y"})
	g.flatOut("logsoftmax.y", "logsoftmax")

	g.node("Clip", []string{"x"}, []string{"clip.a"}, floatAttr("min", -0.3))
	g.node("Clip", []string{"clip.a"}, []string{"clip.y"}, floatAttr("min", -0.5), floatAttr("max", 0.4))
	g.flatOut("clip.y", "clip")

	g.node("Slice", []string{"x"}, []string{"slice.y"}, intsAttr("starts", -3, 1), intsAttr("ends", 100, -1), intsAttr("axes", 2, 3))
	g.flatOut("slice.y", "slice")

	g.node("Pad", []string{"x"}, []string{"pad.r"}, stringAttr("mode", "reflect"), intsAttr("pads", 0, 0, 1, 2, 0, 0, 2, 1))
	g.node("Pad", []string{"pad.r"}, []string{"pad.y"}, stringAttr("mode", "edge"), intsAttr("pads", 0, 0, 0, 1, 0, 0, 2, 0))
	g.flatOut("pad.y", "pad")

	g.node("Split", []string{"x"}, []string{"split.a", "split.b"}, intAttr("axis", 3), intsAttr("split", 2, 3))
	g.node("Tanh", []string{"split.b"}, []string{"split.t"})
	g.node("Concat", []string{"split.t", "split.a", "split.a"}, []string{"split.y"}, intAttr("axis", 3))
	g.flatOut("split.y", "split")

	g.node("Unsqueeze", []string{"x"}, []string{"squeeze.u"}, intsAttr("axes", 2))
	g.node("Sigmoid", []string{"squeeze.u"}, []string{"squeeze.s"})
	g.node("Squeeze", []string{"squeeze.s"}, []string{"squeeze.y"}, intsAttr("axes", 2))
	g.flatOut("squeeze.y", "squeeze")

	g.node("Mul", []string{"x", "x"}, []string{"reduce.xx"})
	g.node("ReduceMean", []string{"reduce.xx"}, []string{"reduce.m"}, intsAttr("axes", 2, 3), intAttr("keepdims", 0))
	g.node("ReduceSum", []string{"reduce.xx"}, []string{"reduce.s"}, intsAttr("axes", 1), intAttr("keepdims", 1))
	g.flatOut("reduce.m", "reduce_mean")
	g.flatOut("reduce.s", "reduce_sum")
	return g.model(9)
}

// gradVector differentiates MatMul with 1-D operands that depend on the
// input, with a static batch of one: x [1,3,2,4] → Reshape [24] → MatMul
// by [24,6] (a 1-D A) → Tanh ("v") → MatMul of [5,6] by it (a 1-D B), and
// of it by [6,5] → Add → Reshape → "logits" [1,5]. (A product of two 1-D
// operands is 0-d, which the shape probe cannot read back.) Opset 13.
func gradVector(rng *rand.Rand) *onnxpb.ModelProto {
	g := newGraph("grad_vector", rng)
	g.input("x", onnxpb.TensorProto_FLOAT, 1, 3, 2, 4)
	g.ints("flat", []int64{24}, 1)
	g.ints("out", []int64{1, 5}, 2)
	g.weights("w1", 0.5, 24, 6)
	g.weights("w2", 1, 5, 6)
	g.weights("w3", 1, 6, 5)
	g.node("Reshape", []string{"x", "flat"}, []string{"f"})
	g.node("MatMul", []string{"f", "w1"}, []string{"h"})
	g.node("Tanh", []string{"h"}, []string{"v"})
	g.node("MatMul", []string{"w2", "v"}, []string{"m"})
	g.node("MatMul", []string{"v", "w3"}, []string{"k"})
	g.node("Add", []string{"m", "k"}, []string{"s"})
	g.node("Reshape", []string{"s", "out"}, []string{"logits"})
	g.output("logits", onnxpb.TensorProto_FLOAT, 1, 5)
	return g.model(13)
}
