package wsol

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// opencvGolden is testdata/opencv_golden.json, made by
// testdata/gen_opencv_golden.py with OpenCV 4.6 and NumPy.
type opencvGolden struct {
	OpenCV   string `json:"opencv"`
	Contours []struct {
		W, H  int
		U     []int
		Taus  []float64
		V1    [][4]int
		V2    [][][4]int
		Areas [][]float64
		GT    [][4]int
	} `json:"contours"`
	BoxAcc []struct {
		Interval float64
		V1, V2   map[string][]float64
		V1Max    map[string]float64 `json:"v1_max"`
		V2Max    map[string]float64 `json:"v2_max"`
		V2Mean   float64            `json:"v2_mean"`
	} `json:"box_acc"`
	PxAP []struct {
		Interval float64
		Maps     []struct {
			W, H int
			S    []float64
			Mask []uint8
		}
		PxAP float64
	} `json:"pxap"`
}

func loadGolden(t *testing.T) *opencvGolden {
	t.Helper()
	b, err := os.ReadFile("testdata/opencv_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g opencvGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Contours) == 0 || len(g.BoxAcc) == 0 || len(g.PxAP) == 0 {
		t.Fatalf("golden file has %d contour, %d box and %d PxAP cases", len(g.Contours), len(g.BoxAcc), len(g.PxAP))
	}
	return &g
}

func levelMap(w, h int, u []int) Map {
	m := Map{W: w, H: h, Pix: make([]float64, len(u))}
	for i, k := range u {
		m.Pix[i] = float64(k) / 255
	}
	return m
}

func rects(bs [][4]int) []image.Rectangle {
	out := make([]image.Rectangle, len(bs))
	for i, b := range bs {
		out[i] = image.Rect(b[0], b[1], b[2]+1, b[3]+1)
	}
	return out
}

// TestOpenCVContours compares Boxes and the contour areas, in OpenCV's
// order, with cv2.findContours / contourArea / boundingRect.
func TestOpenCVContours(t *testing.T) {
	g := loadGolden(t)
	for i, c := range g.Contours {
		m := levelMap(c.W, c.H, c.U)
		u8 := make([]uint8, len(m.Pix))
		mx := quantize(u8, m.Pix)
		for k, tau := range c.Taus {
			name := fmt.Sprintf("%d_%dx%d/tau=%v", i, c.W, c.H, tau)
			v1, err := Boxes(m, tau, false)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rects([][4]int{c.V1[k]}), v1); diff != "" {
				t.Errorf("%s: V1 box mismatch (-opencv +got):\n%s", name, diff)
			}
			v2, err := Boxes(m, tau, true)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rects(c.V2[k]), v2); diff != "" {
				t.Errorf("%s: V2 boxes mismatch (-opencv +got):\n%s", name, diff)
			}
			var tr tracer
			tr.trace(u8, m.W, level(tau, mx), 0, 0, m.W-1, m.H-1)
			areas := []float64{}
			for _, k := range tr.order {
				areas = append(areas, float64(area2(tr.contours[k].pts))/2)
			}
			if diff := cmp.Diff(append([]float64{}, c.Areas[k]...), areas); diff != "" {
				t.Errorf("%s: contour areas mismatch (-opencv +got):\n%s", name, diff)
			}
		}
	}
}

// TestOpenCVBoxAcc compares whole accuracy curves with the reference's
// BoxEvaluator logic on cv2 boxes.
func TestOpenCVBoxAcc(t *testing.T) {
	g := loadGolden(t)
	var samples []Sample
	for _, c := range g.Contours {
		samples = append(samples, Sample{Map: levelMap(c.W, c.H, c.U), Boxes: rects(c.GT)})
	}
	for _, want := range g.BoxAcc {
		t.Run(fmt.Sprint(want.Interval), func(t *testing.T) {
			r, err := Evaluate(Config{Interval: want.Interval, Metrics: []Metric{MaxBoxAcc, MaxBoxAccV2}}, samples)
			if err != nil {
				t.Fatal(err)
			}
			for _, bc := range r.Box {
				d := strconv.Itoa(bc.IoU)
				if !cmp.Equal(bc.V1, want.V1[d]) || !cmp.Equal(bc.V2, want.V2[d]) {
					t.Errorf("IoU %s curves differ:\nv1 %v\nwant %v\nv2 %v\nwant %v", d, bc.V1, want.V1[d], bc.V2, want.V2[d])
				}
				if bc.MaxV1 != want.V1Max[d] || bc.MaxV2 != want.V2Max[d] {
					t.Errorf("IoU %s max = %v, %v; want %v, %v", d, bc.MaxV1, bc.MaxV2, want.V1Max[d], want.V2Max[d])
				}
			}
			if r.MaxBoxAccV2 != want.V2Mean || r.MaxBoxAcc != want.V1Max["50"] {
				t.Errorf("MaxBoxAcc, V2 = %v, %v; want %v, %v", r.MaxBoxAcc, r.MaxBoxAccV2, want.V1Max["50"], want.V2Mean)
			}
		})
	}
}

// TestOpenCVPxAP compares PxAP with the reference's MaskEvaluator logic on
// numpy (histogram binning on float edges, pairwise summation).
func TestOpenCVPxAP(t *testing.T) {
	g := loadGolden(t)
	for i, c := range g.PxAP {
		var samples []Sample
		for _, m := range c.Maps {
			samples = append(samples, Sample{Map: Map{W: m.W, H: m.H, Pix: m.S}, Mask: &Mask{W: m.W, H: m.H, Pix: m.Mask}})
		}
		r, err := Evaluate(Config{Interval: c.Interval, Metrics: []Metric{PxAP}}, samples)
		if err != nil {
			t.Fatal(err)
		}
		if r.PxAP != c.PxAP {
			t.Errorf("case %d (interval %v): PxAP = %v, want %v", i, c.Interval, r.PxAP, c.PxAP)
		}
	}
}
