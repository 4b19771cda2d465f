package robust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// goldenReport is a full Evaluate run on a small linear model.
func goldenReport(t *testing.T) *robust.Report {
	t.Helper()
	m := randomLinear(4, 3, 8, 8, 41)
	d := randomData(m, 10, 0, 1, 42)
	r, err := robust.Evaluate(context.Background(), m, d, robust.Config{
		BatchSize: 4,
		Seed:      7,
		Epsilons:  []float64{1.0 / 255, 2.0 / 255, 4.0 / 255, 8.0 / 255},
		PGD:       robust.PGD{Steps: 3},
		Occlusion: robust.Occlusion{Steps: 4},
		Between:   robust.Between{Steps: 4, Pairs: 6},
		Stages:    []robust.Stage{robust.StageFGSM, robust.StagePGD, robust.StageOcclusion, robust.StageBetween},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportGolden(t *testing.T) {
	r := goldenReport(t)
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !jsonClose(g, w, 1e-9) {
		out := filepath.Join(t.TempDir(), "report.golden")
		os.WriteFile(out, got, 0o644)
		t.Errorf("report differs from %s; new output in %s (go test ./robust -update to accept)", path, out)
	}
	for _, key := range []string{`"schema_version": 1`, `"seed": 7`, `"space": "pixel [0,1]"`, `"fill": "black"`, `"success_rate"`} {
		if !bytes.Contains(got, []byte(key)) {
			t.Errorf("report lacks %s", key)
		}
	}
}

// jsonClose compares decoded JSON values, numbers within tol (absolute
// or relative).
func jsonClose(a, b any, tol float64) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= tol*max(1, math.Abs(x), math.Abs(y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonClose(x[i], y[i], tol) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !jsonClose(v, y[k], tol) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
