package onnx_test

import (
	"context"
	"fmt"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

// The runtime is initialised once in TestMain, as a program does in main.

func ExampleModel_TargetLayer() {
	m, err := onnx.Open("../testdata/models/tiny_cam.onnx", onnx.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	ctx := context.Background()
	l, err := m.TargetLayer(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := m.Head(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("layer %s: %d×%d×%d via %s\n", l.Tensor, l.Channels, l.Height, l.Width, l.Pool)
	fmt.Printf("head %s -> %s: %d classes × %d channels\n", h.Op, h.Output, h.Classes, h.Channels)

	// One call returns the logits and the layer's activation.
	out, err := m.Run(ctx, make([]float32, 2*3*16*16), 2, l.Tensor)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range out {
		fmt.Println(t.Name, t.Shape)
	}
	// Output:
	// layer features: 6×8×8 via GlobalAveragePool
	// head Gemm -> logits: 5 classes × 6 channels
	// logits [2 5]
	// features [2 6 8 8]
}

func ExampleTensorInfo_String() {
	t := onnx.TensorInfo{Name: "image", Elem: "float", Shape: []int64{-1, 3, 224, 224}, Params: []string{"batch", "", "", ""}}
	fmt.Println(t)
	// Output: image float[batch,3,224,224]
}
