package onnx_test

import (
	"context"
	"fmt"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

func ExampleModel_Gradient() {
	m, err := onnx.Open("../testdata/models/tiny_cam.onnx", onnx.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	// Two images; the first uses class 3, the second its top-1 class.
	x := make([]float32, 2*3*16*16)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	g, err := m.Gradient(context.Background(), x, 2, onnx.GradRequest{
		Objective: onnx.CrossEntropy,
		Wrt:       []string{"image", "features"},
		Classes:   []int{3, -1},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("scores", g.Scores.Shape, "classes", g.Classes)
	for i, t := range g.Grads {
		fmt.Println("d ce / d", t.Name, t.Shape, "value", g.Values[i].Shape)
	}
	// Output:
	// scores [2 5] classes [3 0]
	// d ce / d image [2 3 16 16] value [2 3 16 16]
	// d ce / d features [2 6 8 8] value [2 6 8 8]
}
