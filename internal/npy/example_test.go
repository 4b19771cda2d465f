package npy_test

import (
	"bytes"
	"fmt"

	"github.com/cutmixcam/cutmix-cam/internal/npy"
)

func ExampleRead() {
	var buf bytes.Buffer
	a := npy.Array{Shape: []int{2, 2}, Data: []float64{0, 0.25, 0.5, 1}, DType: npy.Float32}
	if err := npy.Write(&buf, a); err != nil {
		fmt.Println(err)
		return
	}
	got, err := npy.Read(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Shape, got.Data)
	// Output: [2 2] [0 0.25 0.5 1]
}
