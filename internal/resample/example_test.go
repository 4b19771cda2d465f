package resample_test

import (
	"fmt"

	"github.com/cutmixcam/cutmix-cam/internal/resample"
)

func ExampleCubic() {
	src := []float64{0, 1} // 2×1
	dst := make([]float64, 4)
	resample.Cubic(dst, 4, 1, src, 2, 1)
	fmt.Printf("%.5f\n", dst)
	// Output: [-0.10547 0.22656 0.77344 1.10547]
}

func ExampleNearest() {
	src := []float64{1, 2, 3}
	dst := make([]float64, 5)
	resample.Nearest(dst, 5, 1, src, 3, 1)
	fmt.Println(dst)
	// Output: [1 1 2 2 3]
}
