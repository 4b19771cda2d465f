package wsol_test

import (
	"fmt"
	"image"

	"github.com/cutmixcam/cutmix-cam/wsol"
)

func ExampleIoU() {
	fmt.Printf("%.3f\n", wsol.IoU(image.Rect(0, 0, 2, 2), image.Rect(1, 1, 3, 3)))
	// The reference's inclusive boxes [1,2,5,6] and [3,1,4,5]:
	fmt.Printf("%.4f\n", wsol.IoU(image.Rect(1, 2, 6, 7), image.Rect(3, 1, 5, 6)))
	// Output:
	// 0.143
	// 0.2963
}

func ExampleBoxes() {
	m := wsol.Map{W: 5, H: 4, Pix: []float64{
		.4, 0, .2, .2, .2,
		.4, .4, 0, .4, 0,
		0, 0, 0, .4, 0,
		1, .6, .8, .2, .2,
	}}
	largest, _ := wsol.Boxes(m, 0.2, false)
	all, _ := wsol.Boxes(m, 0.2, true)
	fmt.Println(largest)
	fmt.Println(all)
	// Output:
	// [(0,0)-(3,3)]
	// [(0,1)-(5,4) (0,0)-(3,3)]
}

func ExampleEvaluate() {
	// One 4x3 map with a bright 2x2 blob and its ground-truth box.
	m := wsol.Map{W: 4, H: 3, Pix: []float64{
		0, 0, 0, 0,
		0, 1, .8, 0,
		0, .9, .7, 0,
	}}
	s := wsol.Sample{ID: "a.jpg", Map: m, Boxes: []image.Rectangle{image.Rect(1, 1, 3, 3)}}
	r, err := wsol.Evaluate(wsol.Config{Interval: 0.01}, []wsol.Sample{s})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("MaxBoxAcc %.1f at tau %.2f, MaxBoxAccV2 %.1f, GT-known Loc %.1f\n",
		r.MaxBoxAcc, r.MaxBoxAccThreshold, r.MaxBoxAccV2, r.GTKnownLoc)
	// Output: MaxBoxAcc 100.0 at tau 0.00, MaxBoxAccV2 100.0, GT-known Loc 100.0
}

func ExampleScaleBox() {
	// The reference's resize_bbox test vector: box (1,2,4,3) in a 10x20
	// image, scaled to 35x10, gives (3,1,14,1).
	b := wsol.ScaleBox(image.Rect(1, 2, 5, 4), image.Pt(10, 20), image.Pt(35, 10))
	fmt.Println(b.Min.X, b.Min.Y, b.Max.X-1, b.Max.Y-1)
	// Output: 3 1 14 1
}

func ExampleMerge() {
	samples := []wsol.Sample{
		{Map: wsol.Map{W: 2, H: 2, Pix: []float64{1, 0, 0, 0}}, Boxes: []image.Rectangle{image.Rect(0, 0, 2, 2)}},
		{Map: wsol.Map{W: 2, H: 2, Pix: []float64{0, 0, 0, 1}}, Boxes: []image.Rectangle{image.Rect(0, 0, 1, 1)}},
	}
	var parts []wsol.Partial
	for i := range 2 {
		shard := wsol.Shard{Index: i, Count: 2}
		a, err := wsol.NewAccumulator(wsol.Config{Interval: 0.5})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, k := range shard.Indices(len(samples)) {
			if err := a.Add(samples[k]); err != nil {
				fmt.Println(err)
				return
			}
		}
		parts = append(parts, a.Partial(shard, "example"))
	}
	merged, err := wsol.Merge(parts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := merged.Result()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(merged.Complete(), r.Images, r.Box[1].V2)
	// Output: true 2 [50 50]
}

func ExampleThresholds() {
	ts := wsol.Thresholds(0.2)
	fmt.Println(len(ts), ts[3], len(wsol.Thresholds(0.001)))
	// Output: 5 0.6000000000000001 1000
}
