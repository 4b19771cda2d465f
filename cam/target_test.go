package cam

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"", "top1", false},
		{"top1", "top1", false},
		{"TOP5", "top5", false},
		{" 281 ", "281", false},
		{"0", "0", false},
		{"top0", "", true},
		{"top", "", true},
		{"-1", "", true},
		{"cat", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTarget(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrTarget) {
					t.Errorf("ParseTarget(%q) err = %v, want ErrTarget", tc.in, err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("ParseTarget(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	logits := []float32{1, 3, 3, 0 /* image 0 */, 5, -1, 2, 4 /* image 1 */}
	tests := []struct {
		name string
		t    Target
		want [][]int
		err  error
	}{
		{"zero is top1", Target{}, [][]int{{1}, {0}}, nil},
		{"top2 ties to lower index", TopK(2), [][]int{{1, 2}, {0, 3}}, nil},
		{"topK clipped", TopK(9), [][]int{{1, 2, 0, 3}, {0, 3, 2, 1}}, nil},
		{"class", Class(2), [][]int{{2}, {2}}, nil},
		{"class range", Class(4), nil, ErrClassRange},
		{"per image", PerImage([]int{3, 1}), [][]int{{3}, {1}}, nil},
		{"per image range", PerImage([]int{3, -1}), nil, ErrClassRange},
		{"per image length", PerImage([]int{3}), nil, ErrTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.t.resolve(2, 4, logits)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("resolve err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("resolve = %v, %v, want %v", got, err, tc.want)
			}
		})
	}
}

func TestPerImageCopies(t *testing.T) {
	c := []int{1, 2}
	tg := PerImage(c)
	c[0] = 3
	if got, _ := tg.resolve(2, 4, nil); got[0][0] != 1 {
		t.Errorf("PerImage kept a reference to its argument")
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"top1", "top5", "281", "", "top", "-3", "top99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			if !errors.Is(err, ErrTarget) {
				t.Fatalf("ParseTarget(%q) error %v does not wrap ErrTarget", s, err)
			}
			return
		}
		// String round-trips, and resolving never panics.
		back, err := ParseTarget(tg.String())
		if err != nil || back.String() != tg.String() {
			t.Fatalf("ParseTarget(%q).String() = %q does not round-trip: %v", s, tg.String(), err)
		}
		got, err := tg.resolve(1, 3, []float32{0, 2, 1})
		if err == nil && (len(got) != 1 || len(got[0]) == 0 || len(got[0]) > 3) {
			t.Fatalf("resolve(%q) = %v", s, got)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add(0.0, 1.0, 2.0, -1.0)
	f.Add(1.0, 1.0, 1.0, 1.0)
	f.Add(1e308, -1e308, 0.0, 5.0)
	f.Fuzz(func(t *testing.T, a, b, c, d float64) {
		m := Map{W: 2, H: 2, V: []float64{a, b, c, d}}
		Normalize(m)
		var lo, hi float64 = 2, -1
		for _, v := range m.V {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("Normalize(%v, %v, %v, %v) = %v, outside [0, 1]", a, b, c, d, m.V)
			}
			lo, hi = min(lo, v), max(hi, v)
		}
		finite := true
		for _, v := range []float64{a, b, c, d} {
			finite = finite && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
		distinct := finite && !(a == b && b == c && c == d)
		if (distinct && (lo != 0 || hi != 1)) || (!distinct && hi != 0) {
			t.Fatalf("Normalize(%v, %v, %v, %v) = %v: not all zero and not attaining 0 and 1", a, b, c, d, m.V)
		}
	})
}

func TestRegistry(t *testing.T) {
	names := Names()
	if len(names) != 15 {
		t.Errorf("Names() has %d entries: %v", len(names), names)
	}
	for _, n := range names {
		m, err := Lookup(n)
		if err != nil || m.Name() != n {
			t.Errorf("Lookup(%q) = %v, %v", n, m, err)
		}
	}
	for alias, want := range map[string]string{"GradCAM": "gradcam", "gradcampp": "gradcam++", "integrated-gradients": "ig", " cam-relu ": "cam-relu"} {
		if m, err := Lookup(alias); err != nil || m.Name() != want {
			t.Errorf("Lookup(%q) = %v, %v, want %s", alias, m, err, want)
		}
	}
	if _, err := Lookup("fullgrad"); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("Lookup(fullgrad) err = %v, want ErrUnknownMethod", err)
	}
}
