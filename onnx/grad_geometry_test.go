package onnx_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// geomCase is one random convolution or average-pooling geometry.
type geomCase struct {
	op               string // "Conv" or "AveragePool"
	opset            int64
	c, m, group      int64
	h, w             int64
	kernel, stride   [2]int64
	dilation         [2]int64
	pads             [4]int64
	autoPad          string
	ceil, includePad int64
}

func (c geomCase) String() string {
	return fmt.Sprintf("%s/opset%d/c%d-m%d-g%d/%dx%d/k%v-s%v-d%v-p%v-%s-ceil%d-inc%d", c.op, c.opset, c.c, c.m, c.group,
		c.h, c.w, c.kernel, c.stride, c.dilation, c.pads, c.autoPad, c.ceil, c.includePad)
}

// model writes a one-node model x → op → Flatten → scores.
func (c geomCase) model(t *testing.T) string {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(c.h), uint64(c.w*31+c.kernel[0])))
	attrs := []*onnxpb.AttributeProto{ints("kernel_shape", c.kernel[:]...), ints("strides", c.stride[:]...)}
	if c.autoPad != "" {
		attrs = append(attrs, &onnxpb.AttributeProto{Name: proto.String("auto_pad"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(c.autoPad)})
	} else {
		attrs = append(attrs, ints("pads", c.pads[:]...))
	}
	g := &onnxpb.GraphProto{Name: proto.String("geom")}
	inputs := []string{"x"}
	if c.op == "Conv" {
		attrs = append(attrs, ints("dilations", c.dilation[:]...), intAttr("group", c.group))
		w := make([]float32, c.m*(c.c/c.group)*c.kernel[0]*c.kernel[1])
		for i := range w {
			w[i] = 2*r.Float32() - 1
		}
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Dims: []int64{c.m, c.c / c.group, c.kernel[0], c.kernel[1]}, FloatData: w})
		inputs = append(inputs, "w")
	} else {
		attrs = append(attrs, intAttr("count_include_pad", c.includePad))
		if c.opset >= 10 {
			attrs = append(attrs, intAttr("ceil_mode", c.ceil))
		}
	}
	g.Node = []*onnxpb.NodeProto{
		{OpType: proto.String(c.op), Input: inputs, Output: []string{"y"}, Attribute: attrs},
		{OpType: proto.String("Flatten"), Input: []string{"y"}, Output: []string{"scores"}},
	}
	g.Input = []*onnxpb.ValueInfoProto{tensorValue("x", "N", c.c, c.h, c.w)}
	g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String("scores"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(c.opset)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "geom.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func tensorValue(name string, batch string, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: batch}}}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
}

// randomGeometry draws a valid geometry: the window fits the padded input
// at least once, pads stay below the window's reach.
func randomGeometry(r *rand.Rand, op string) geomCase {
	for {
		c := geomCase{op: op, opset: []int64{9, 11, 13, 17}[r.IntN(4)], c: []int64{1, 3}[r.IntN(2)], h: 3 + r.Int64N(10), w: 3 + r.Int64N(10)}
		c.group, c.m = 1, 1+r.Int64N(4)
		if c.c == 3 && r.IntN(2) == 0 {
			c.group = 3
			c.m = 3 * (1 + r.Int64N(2))
		}
		c.dilation = [2]int64{1, 1}
		for i := 0; i < 2; i++ {
			c.kernel[i] = 1 + r.Int64N(4)
			c.stride[i] = 1 + r.Int64N(3)
			if op == "Conv" {
				c.dilation[i] = 1 + r.Int64N(3)
			}
		}
		if op == "AveragePool" {
			c.m, c.group = c.c, 1
			c.ceil, c.includePad = r.Int64N(2), r.Int64N(2)
			if c.opset < 10 {
				c.ceil = 0 // ceil_mode is opset 10
			}
		}
		switch r.IntN(3) {
		case 0:
			c.autoPad = []string{"SAME_UPPER", "SAME_LOWER", "VALID"}[r.IntN(3)]
			if op == "AveragePool" && c.autoPad != "VALID" {
				c.autoPad = "" // ONNX Runtime's SAME pooling pads differ from the spec's count
			}
			if c.autoPad != "VALID" {
				c.dilation = [2]int64{1, 1} // ONNX Runtime refuses SAME with dilations
			}
		}
		ok := true
		for i := 0; i < 2; i++ {
			reach := (c.kernel[i] - 1) * c.dilation[i]
			if c.autoPad == "" {
				c.pads[i], c.pads[i+2] = r.Int64N(reach+1), r.Int64N(reach+1)
				if op == "AveragePool" {
					c.pads[i], c.pads[i+2] = r.Int64N(c.kernel[i]), r.Int64N(c.kernel[i])
				}
			}
			in := []int64{c.h, c.w}[i]
			if in+c.pads[i]+c.pads[i+2] < reach+1 {
				ok = false
			}
		}
		if ok {
			return c
		}
	}
}

// TestGradientGeometry checks the adjoint of Conv and AveragePool on many
// random geometries exactly, using linearity: for f(x) = seed·op(x) (no
// bias), ⟨∂f/∂x, v⟩ = f(v).
func TestGradientGeometry(t *testing.T) {
	needRuntime(t)
	r := rand.New(rand.NewPCG(2026, 11))
	ctx := context.Background()
	for i := 0; i < 64; i++ {
		op := "Conv"
		if i%3 == 2 {
			op = "AveragePool"
		}
		c := randomGeometry(r, op)
		t.Run(c.String(), func(t *testing.T) {
			m := openModel(t, c.model(t), onnx.Options{Threads: 1})
			per := int(c.c * c.h * c.w)
			v := randomInput(per, uint64(i))
			out, err := m.Run(ctx, v, 1)
			if err != nil {
				t.Fatal(err)
			}
			k := len(out[0].Data)
			seed := randomInput(k, uint64(i+100))
			var f float64
			for j, y := range out[0].Data {
				f += float64(seed[j]) * float64(y)
			}
			g, err := m.Gradient(ctx, v, 1, onnx.GradRequest{Objective: onnx.Weighted, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			var gv, scale float64
			for j, x := range v {
				gv += float64(g.Grads[0].Data[j]) * float64(x)
				scale += math.Abs(float64(g.Grads[0].Data[j]) * float64(x))
			}
			if math.Abs(gv-f) > 1e-5*scale {
				t.Errorf("⟨∂f/∂x, v⟩ = %g, f(v) = %g", gv, f)
			}
		})
	}
}

// TestGradientScoresNearInput covers a model whose scores are the input
// itself (its output is Flatten(Softmax(input))): the shape probe then has
// no intermediate tensor to fetch.
func TestGradientScoresNearInput(t *testing.T) {
	needRuntime(t)
	g := &onnxpb.GraphProto{Name: proto.String("near")}
	g.Node = []*onnxpb.NodeProto{
		{OpType: proto.String("Softmax"), Input: []string{"x"}, Output: []string{"s"}, Attribute: []*onnxpb.AttributeProto{intAttr("axis", -1)}},
		{OpType: proto.String("Flatten"), Input: []string{"s"}, Output: []string{"p"}},
	}
	g.Input = []*onnxpb.ValueInfoProto{tensorValue("x", "N", 1, 1, 4)}
	g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String("p"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "near.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := openModel(t, path, onnx.Options{Threads: 1})
	x := []float32{0.5, -1, 2, 0}
	res, err := m.Gradient(context.Background(), x, 1, onnx.GradRequest{Objective: onnx.Logit, Classes: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	// The scores (the Softmax's input) are the input itself: ∂x₂/∂x is
	// one-hot.
	want := []float32{0, 0, 1, 0}
	for i, v := range res.Grads[0].Data {
		if v != want[i] {
			t.Fatalf("gradient %v, want %v", res.Grads[0].Data, want)
		}
	}
}
