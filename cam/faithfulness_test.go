package cam_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/cutmixcam/cutmix-cam/cam"
)

// sumModel scores class 0 with the sum of the input values and class 1
// with 0, so p(0) = σ(Σx).
type sumModel struct{}

func (sumModel) Forward(_ context.Context, b cam.Batch, _ string) (cam.Activations, error) {
	s := b.C * b.H * b.W
	a := cam.Activations{K: 2, Logits: make([]float32, 2*b.N)}
	for n := range b.N {
		var t float32
		for _, v := range b.Data[n*s : (n+1)*s] {
			t += v
		}
		a.Logits[2*n] = t
	}
	return a, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func TestFaithfulnessScore(t *testing.T) {
	// Image [1, 2], map [1, 0]: pixel 0 goes first, one pixel per step.
	b := cam.Batch{Data: []float32{1, 2}, N: 1, C: 1, H: 1, W: 2}
	maps := []cam.Map{{W: 2, H: 1, V: []float64{1, 0}}}
	tests := []struct {
		name string
		f    cam.Faithfulness
		del  []float64
		ins  []float64
		mask float64
	}{
		{"zero baseline", cam.Faithfulness{Steps: 2},
			[]float64{sigmoid(3), sigmoid(2), sigmoid(0)},
			[]float64{sigmoid(0), sigmoid(1), sigmoid(3)}, sigmoid(1)},
		{"baseline and start", cam.Faithfulness{Steps: 2, Baseline: []float32{-1, -1}, Start: []float32{0.5, 0.5}},
			[]float64{sigmoid(3), sigmoid(1), sigmoid(-2)},
			[]float64{sigmoid(1), sigmoid(1.5), sigmoid(3)}, sigmoid(0)}, // masked: [1, -1]
		{"steps capped at pixels", cam.Faithfulness{Steps: 9},
			[]float64{sigmoid(3), sigmoid(2), sigmoid(0)},
			[]float64{sigmoid(0), sigmoid(1), sigmoid(3)}, sigmoid(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.Score(context.Background(), sumModel{}, b, maps, []int{0})
			if err != nil {
				t.Fatal(err)
			}
			s := got[0]
			for i := range tc.del {
				if !scalar.EqualWithinAbsOrRel(s.DeletionCurve[i], tc.del[i], 1e-6, 1e-6) || !scalar.EqualWithinAbsOrRel(s.InsertionCurve[i], tc.ins[i], 1e-6, 1e-6) {
					t.Fatalf("curves = %v, %v, want %v, %v", s.DeletionCurve, s.InsertionCurve, tc.del, tc.ins)
				}
			}
			wantDel := (tc.del[0] + tc.del[1] + tc.del[2] - (tc.del[0]+tc.del[2])/2) / 2
			wantIns := (tc.ins[0] + tc.ins[1] + tc.ins[2] - (tc.ins[0]+tc.ins[2])/2) / 2
			wantDrop := max(0, sigmoid(3)-tc.mask) / sigmoid(3)
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"Deletion", s.Deletion, wantDel}, {"Insertion", s.Insertion, wantIns}, {"Masked", s.Masked, tc.mask}, {"Drop", s.Drop, wantDrop}, {"Prob", s.Prob, sigmoid(3)}} {
				if !scalar.EqualWithinAbsOrRel(c.got, c.want, 1e-6, 1e-6) {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
			if s.Increase {
				t.Errorf("Increase = true, want false (O %v < Y %v)", s.Masked, s.Prob)
			}
		})
	}
}

func TestAUC(t *testing.T) {
	for _, tc := range []struct {
		p    []float64
		want float64
	}{{nil, 0}, {[]float64{0.3}, 0.3}, {[]float64{1, 0}, 0.5}, {[]float64{1, 1, 0, 0}, 0.5}, {[]float64{0, 0.5, 1}, 0.5}} {
		if got := cam.AUC(tc.p); !scalar.EqualWithinAbsOrRel(got, tc.want, 1e-12, 1e-12) {
			t.Errorf("AUC(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestFaithfulnessIncrease(t *testing.T) {
	// A negative pixel that the map masks out raises the class-0 score.
	b := cam.Batch{Data: []float32{1, -3}, N: 1, C: 1, H: 1, W: 2}
	got, err := cam.Faithfulness{Steps: 2}.Score(context.Background(), sumModel{}, b, []cam.Map{{W: 2, H: 1, V: []float64{1, 0}}}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Increase || got[0].Drop != 0 {
		t.Errorf("Score = increase %v drop %v, want true 0", got[0].Increase, got[0].Drop)
	}
}

func ExampleFaithfulness_Score() {
	// sumModel's class-0 probability is σ(Σ pixels); the map says pixel 0
	// matters most.
	b := cam.Batch{Data: []float32{1, 2}, N: 1, C: 1, H: 1, W: 2}
	m := []cam.Map{{W: 2, H: 1, V: []float64{1, 0}}}
	s, err := cam.Faithfulness{Steps: 2}.Score(context.Background(), sumModel{}, b, m, []int{0})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("deletion %.3f insertion %.3f drop %.3f increase %v\n", s[0].Deletion, s[0].Insertion, s[0].Drop, s[0].Increase)
	// Output: deletion 0.804 insertion 0.729 drop 0.233 increase false
}
