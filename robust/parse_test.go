package robust_test

import (
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

func TestParseEpsilon(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  error
	}{
		{"8/255", 8.0 / 255, nil},
		{" 1 / 255 ", 1.0 / 255, nil},
		{"0.03", 0.03, nil},
		{"3e-2", 0.03, nil},
		{"1", 1, nil},
		{"255/255", 1, nil},
		{"0", 0, robust.ErrEpsilon},
		{"-1/255", 0, robust.ErrEpsilon},
		{"1.5", 0, robust.ErrEpsilon},
		{"256/255", 0, robust.ErrEpsilon},
		{"2/0", 0, robust.ErrEpsilon},
		{"nan", 0, robust.ErrEpsilon},
		{"inf", 0, robust.ErrEpsilon},
		{"0x1p-3", 0, robust.ErrEpsilon},
		{"", 0, robust.ErrEpsilon},
		{"8/255/2", 0, robust.ErrEpsilon},
		{"eight", 0, robust.ErrEpsilon},
	}
	for _, tc := range tests {
		got, err := robust.ParseEpsilon(tc.in)
		if !errors.Is(err, tc.err) || (tc.err != nil) != (err != nil) || got != tc.want {
			t.Errorf("ParseEpsilon(%q) = %v, %v, want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if _, err := robust.ParseEpsilons("1/255,,2/255"); !errors.Is(err, robust.ErrEpsilon) {
		t.Errorf("empty item: error %v, want ErrEpsilon", err)
	}
	if _, err := robust.ParseEpsilons(" "); !errors.Is(err, robust.ErrEpsilon) {
		t.Errorf("empty list: error %v, want ErrEpsilon", err)
	}
}

func TestParsePGD(t *testing.T) {
	tests := []struct {
		in   string
		want robust.PGD
		err  error
	}{
		{"", robust.PGD{}, nil},
		{"eps=8/255,step=2/255,steps=10", robust.PGD{Epsilon: 8.0 / 255, Step: 2.0 / 255, Steps: 10}, nil},
		{"steps=40, random-start=false, seed=3", robust.PGD{Steps: 40, NoRandomStart: true, Seed: 3}, nil},
		{"alpha=0.01", robust.PGD{Step: 0.01}, nil},
		{"steps=0", robust.PGD{}, robust.ErrSteps},
		{"steps=-2", robust.PGD{}, robust.ErrSteps},
		{"steps=x", robust.PGD{}, robust.ErrSteps},
		{"eps=0", robust.PGD{}, robust.ErrEpsilon},
		{"step=2", robust.PGD{}, robust.ErrEpsilon},
		{"eps", robust.PGD{}, robust.ErrOption},
		{"norm=l2", robust.PGD{}, robust.ErrOption},
		{"random-start=maybe", robust.PGD{}, robust.ErrOption},
	}
	for _, tc := range tests {
		got, err := robust.ParsePGD(tc.in)
		if !errors.Is(err, tc.err) || (tc.err != nil) != (err != nil) || got != tc.want {
			t.Errorf("ParsePGD(%q) = %+v, %v, want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseEnums(t *testing.T) {
	if v, err := robust.ParseTarget("Least-Likely"); v != robust.TargetLeastLikely || err != nil {
		t.Errorf("ParseTarget = %v, %v", v, err)
	}
	if v, err := robust.ParseOccluder("boundary"); v != robust.Boundary || err != nil {
		t.Errorf("ParseOccluder = %v, %v", v, err)
	}
	if v, err := robust.ParseFill("mean"); v != robust.FillMean || err != nil {
		t.Errorf("ParseFill = %v, %v", v, err)
	}
	if v, err := robust.ParseMix("cutmix"); v != robust.CutMix || err != nil {
		t.Errorf("ParseMix = %v, %v", v, err)
	}
	if v, err := robust.ParseStage("pgd"); v != robust.StagePGD || err != nil {
		t.Errorf("ParseStage = %v, %v", v, err)
	}
	if _, err := robust.ParseOccluder("corner"); !errors.Is(err, robust.ErrOption) {
		t.Errorf("ParseOccluder(corner) error %v, want ErrOption", err)
	}
}

func TestFromImages(t *testing.T) {
	a := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	a.SetNRGBA(0, 0, color.NRGBA{R: 255, G: 0, B: 51, A: 255})
	a.SetNRGBA(1, 0, color.NRGBA{R: 1, G: 2, B: 3, A: 255})
	g := image.NewGray(image.Rect(5, 5, 7, 6)) // bounds need not start at 0
	g.SetGray(6, 5, color.Gray{Y: 128})
	d, err := robust.FromImages([]image.Image{a, g}, []int{4, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 1.0 / 255, 0, 2.0 / 255, 0.2, 3.0 / 255, 0, 128.0 / 255, 0, 128.0 / 255, 0, 128.0 / 255}
	for i, v := range d.Pixels {
		if diff := v - want[i]; diff > 1e-7 || diff < -1e-7 {
			t.Errorf("pixel %d = %v, want %v", i, v, want[i])
		}
	}
	if d.C != 3 || d.H != 1 || d.W != 2 || d.Len() != 2 || d.Label(1) != 2 {
		t.Errorf("data %dx%dx%d, %d images", d.C, d.H, d.W, d.Len())
	}
	if _, err := robust.FromImages([]image.Image{a, image.NewGray(image.Rect(0, 0, 1, 1))}, []int{0, 0}); !errors.Is(err, robust.ErrShape) {
		t.Errorf("mixed sizes: error %v, want ErrShape", err)
	}
	if _, err := robust.FromImages(nil, nil); !errors.Is(err, robust.ErrEmpty) {
		t.Errorf("no images: error %v, want ErrEmpty", err)
	}
}
