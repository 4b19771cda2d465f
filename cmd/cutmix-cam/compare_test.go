package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutmixcam/cutmix-cam/wsol"
)

// compareArgs are a fast comparison of two fixture models on 16 images.
func compareArgs(out string) []string {
	return []string{"--norm", "unit", "--limit", "16", "--methods", "cam", "--fgsm", "2/255,8/255", "--steps", "3",
		"--bootstrap", "50", "--faith-limit", "6", "--faith-steps", "4", "--grid", "3", "--batch", "8", "--out", out,
		"--data", "testdata/fmnist-wsol", "testdata/models/fmnist_baseline.onnx", "testdata/models/fmnist_mixup.onnx"}
}

// compareRun runs compare with the hook set and returns its options.
func compareRun(t *testing.T, ctx context.Context, args []string, hook func(model, stage string)) (*compareOptions, error) {
	t.Helper()
	var got *compareOptions
	g := &globalOptions{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}, device: "cpu", quiet: true}
	cmd := newCompareCmd(g, func(o *compareOptions) error {
		got = o
		o.afterStage = hook
		return runCompare(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(g.out)
	cmd.SetErr(g.errOut)
	err := cmd.ExecuteContext(ctx)
	return got, err
}

func TestCompare(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	dir := t.TempDir()
	o, err := compareRun(t, context.Background(), compareArgs(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	// predict, wsol/cam, fgsm, curves, faith/cam for each model.
	if len(o.computed) != 10 {
		t.Errorf("computed %v, want 10 stages", o.computed)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res compareResults
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.SchemaVersion != compareSchema || res.Bootstrap != 50 || res.Data.Images != 16 || len(res.Models) != 2 || res.Data.Fingerprint == "" {
		t.Fatalf("results.json header: schema %d, bootstrap %d, %d images, %d models", res.SchemaVersion, res.Bootstrap, res.Data.Images, len(res.Models))
	}
	for _, m := range res.Models {
		if len(m.SHA256) != 64 || m.Classes != 10 || m.WSOL["cam"].Images != 16 || m.FGSM == nil || m.Occlusion == nil || m.Between == nil || m.Faithfulness["cam"].Images != 6 {
			t.Errorf("model %s: incomplete: sha %q classes %d", m.Name, m.SHA256, m.Classes)
		}
		for _, mv := range m.Metrics {
			if !(float64(mv.CILow) <= mv.Value+1e-9 || mv.Value <= float64(mv.CIHigh)+1e-9) {
				t.Errorf("%s %s = %v outside [%v, %v]", m.Name, mv.Key, mv.Value, mv.CILow, mv.CIHigh)
			}
		}
	}
	keys := map[string]bool{}
	for _, c := range res.Comparisons {
		keys[c.Key] = true
		if c.Model != "fmnist_mixup" || c.Baseline != "fmnist_baseline" || !c.Comparable || float64(c.CILow) > float64(c.CIHigh) {
			t.Errorf("comparison %+v", c)
		}
	}
	for _, k := range []string{"accuracy", "maxboxacc_v2/cam", "maxboxacc/cam", "pxap/cam", "top1_loc/cam", "gt_known_loc/cam", "fgsm_2", "fgsm_8", "deletion_auc/cam", "insertion_auc/cam", "average_drop/cam", "increase/cam"} {
		if !keys[k] {
			t.Errorf("no comparison of %s", k)
		}
	}

	// FGSM per image matches the robust command on the same images.
	out, errOut, code := cli(t, "-q", "robust", "--json", "--norm", "unit", "--limit", "16", "--fgsm", "2/255,8/255", "--occlusion", "none", "--inbetween=false",
		"--data", "testdata/fmnist-wsol", "testdata/models/fmnist_baseline.onnx")
	if code != exitOK {
		t.Fatalf("robust: exit %d: %s", code, errOut)
	}
	var rr robustReport
	if err := json.Unmarshal([]byte(out), &rr); err != nil {
		t.Fatal(err)
	}
	for i, p := range rr.Report.FGSM.Points {
		if q := res.Models[0].FGSM.Points[i]; p.Correct != q.Correct || p.Successes != q.Successes {
			t.Errorf("FGSM ε=%g: compare %d correct, robust %d", p.Epsilon255, q.Correct, p.Correct)
		}
	}

	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(md), "| metric | fmnist_baseline | fmnist_mixup |") || !strings.Contains(string(md), "| MaxBoxAccV2 (cam) ↑ |") {
		t.Errorf("summary.md:\n%s", md)
	}

	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, string(html))

	// A rerun reads every stage from the cache and writes the same numbers.
	o2, err := compareRun(t, context.Background(), compareArgs(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(o2.computed) != 0 {
		t.Errorf("rerun computed %v, want nothing", o2.computed)
	}
	if b2, _ := os.ReadFile(filepath.Join(dir, "results.json")); !bytes.Equal(b, b2) {
		t.Error("rerun changed results.json")
	}

	t.Run("resume after interruption", func(t *testing.T) {
		dir2 := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var done []string
		_, err := compareRun(t, ctx, compareArgs(dir2), func(model, stage string) {
			done = append(done, model+"/"+stage)
			if len(done) == 3 {
				cancel() // interrupt during the fourth stage
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v, want context.Canceled", err)
		}
		if _, err := os.Stat(filepath.Join(dir2, "results.json")); err == nil {
			t.Fatal("interrupted run wrote results.json")
		}
		o, err := compareRun(t, context.Background(), compareArgs(dir2), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range done[:3] {
			if slices.Contains(o.computed, s) {
				t.Errorf("rerun recomputed finished stage %s", s)
			}
		}
		if len(o.computed) != 7 {
			t.Errorf("rerun computed %v, want the 7 unfinished stages", o.computed)
		}
		b2, err := os.ReadFile(filepath.Join(dir2, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.ReplaceAll(b2, []byte(dir2), []byte(dir)), b) {
			t.Error("resumed results.json differs from the uninterrupted run's")
		}
		// Deleting one cache entry recomputes that stage only.
		entries, _ := filepath.Glob(filepath.Join(dir2, ".cache", "*.gob.gz"))
		if len(entries) != 10 {
			t.Fatalf("%d cache entries, want 10", len(entries))
		}
		os.Remove(entries[0])
		o, err = compareRun(t, context.Background(), compareArgs(dir2), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.computed) != 1 {
			t.Errorf("after deleting one entry the rerun computed %v, want one stage", o.computed)
		}
	})

	t.Run("audit", func(t *testing.T) { testAudit(t, dir) })
}

// checkSelfContained fails when the HTML loads anything from outside.
func checkSelfContained(t *testing.T, html string) {
	t.Helper()
	if !strings.Contains(html, `<table id="summary">`) {
		t.Error("report.html has no summary table")
	}
	imgs := regexp.MustCompile(`<img [^>]*src="([^"]*)"`).FindAllStringSubmatch(html, -1)
	if len(imgs) < 5 {
		t.Errorf("report.html has %d images", len(imgs))
	}
	for _, m := range imgs {
		if !strings.HasPrefix(m[1], "data:image/png;base64,") {
			t.Errorf("<img src=%.40q> is not a data URI", m[1])
		}
	}
	for _, bad := range []string{"http://", "https://", "<script src", "<link", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
}

func writeYAML(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testAudit runs audit against the results.json of TestCompare in dir.
func testAudit(t *testing.T, dir string) {
	base := filepath.Join(dir, "results.json")
	pass := writeYAML(t, "norm: unit\nlimit: 16\nmethods: [cam]\nfgsm: [8/255]\nbootstrap: 50\nchecks:\n  min_accuracy: 10\n  min_maxboxacc_v2: 10\n  min_pxap: 10\n  max_fgsm_drop: 100\n  max_regression:\n    accuracy: 5\n    maxboxacc_v2: 5\n")
	fail := writeYAML(t, "norm: unit\nlimit: 16\nmethods: [cam]\nfgsm: [8/255]\nchecks:\n  min_accuracy: 99.5\n  min_pxap: 10\n")
	unknown := writeYAML(t, "norm: unit\nchecks:\n  min_accuracy: 10\n  min_maxboxac_v2: 50\n")
	other := writeYAML(t, "norm: unit\nlimit: 12\nchecks:\n  max_regression:\n    accuracy: 1\n")
	model := "testdata/models/fmnist_baseline.onnx"
	junit := filepath.Join(t.TempDir(), "junit.xml")
	tests := []struct {
		name string
		args []string
		code exitCode
		want string
	}{
		{"pass", []string{"audit", "--config", pass, "--baseline", base, "--junit", junit, "--data", "testdata/fmnist-wsol", model}, exitOK, "6 of 6 checks passed"},
		{"fail", []string{"audit", "--config", fail, "--data", "testdata/fmnist-wsol", model}, exitFailed, "FAIL  min_accuracy"},
		{"unknown key", []string{"audit", "--config", unknown, "--data", "testdata/fmnist-wsol", model}, exitUsage, "line 4: field min_maxboxac_v2 not found"},
		{"no config", []string{"audit", "--data", "testdata/fmnist-wsol", model}, exitUsage, "--config"},
		{"regression without baseline", []string{"audit", "--config", other, "--data", "testdata/fmnist-wsol", model}, exitUsage, "--baseline"},
		{"baseline of another data set", []string{"audit", "--config", other, "--baseline", base, "--data", "testdata/fmnist-wsol", model}, exitRuntime, "another data set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, append([]string{"-q"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("audit %s: exit %d, want %d with %q:\n%s%s", tc.name, code, tc.code, tc.want, out, errOut)
			}
		})
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var s junitSuite
	if err := xml.Unmarshal(b, &s); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if s.Tests != 6 || s.Failures != 0 || len(s.Cases) != 6 || s.Cases[0].Name != "min_accuracy" {
		t.Errorf("junit = %+v", s)
	}
}

func TestCompareBadInput(t *testing.T) {
	inRoot(t)
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		code exitCode
		want string
	}{
		{[]string{"compare", "--data", "testdata/fmnist-wsol", "--out", file, "m.onnx"}, exitUsage, "is a file"},
		{[]string{"compare", "--data", "testdata/fmnist-wsol", "m.onnx"}, exitUsage, "--out"},
		{[]string{"compare", "--out", t.TempDir(), "--data", "testdata/fmnist-wsol"}, exitUsage, "MODEL"},
		{[]string{"compare", "--methods", "nope", "--out", t.TempDir(), "--data", "x", "m.onnx"}, exitUsage, "--methods"},
	} {
		_, errOut, code := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q: %s", tc.args, code, tc.code, tc.want, errOut)
		}
	}
}

// TestBootstrapStats checks that summing per-image statistics with
// multiplicities gives exactly wsol's result on the resampled images.
func TestBootstrapStats(t *testing.T) {
	cfg := wsol.Config{Interval: 0.01, IoUThresholds: []int{30, 50, 70}, Sigma: 0.15}
	r := rand.New(rand.NewPCG(1, 2))
	var samples []wsol.Sample
	for i := range 12 {
		m := wsol.Map{W: 32, H: 32, Pix: make([]float64, 32*32)}
		x0, y0 := r.IntN(16), r.IntN(16)
		for y := range 32 {
			for x := range 32 {
				if x >= x0 && x < x0+12 && y >= y0 && y < y0+12 {
					m.Pix[y*32+x] = 0.3 + 0.7*r.Float64()
				} else {
					m.Pix[y*32+x] = 0.3 * r.Float64()
				}
			}
		}
		mk := &wsol.Mask{W: 32, H: 32, Pix: make([]uint8, 32*32)}
		for y := 8; y < 20; y++ {
			for x := 8; x < 20; x++ {
				mk.Pix[y*32+x] = 1
			}
		}
		samples = append(samples, wsol.Sample{ID: string(rune('a' + i)), Map: m, Boxes: []image.Rectangle{image.Rect(8, 8, 20, 20)}, Mask: mk, Label: i % 3, Pred: i % 2})
	}
	acc, err := wsol.NewAccumulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var st wsolStage
	prev := acc.Stats()
	for _, s := range samples {
		if err := acc.Add(s); err != nil {
			t.Fatal(err)
		}
		cur := acc.Stats()
		st.Images = append(st.Images, diffStats(cur, prev))
		prev = cur
	}
	st.Partial = acc.Partial(wsol.Shard{Index: 0, Count: 1}, "test")
	for _, w := range resamples(len(samples), 5, 7) {
		var drawn []wsol.Sample
		for i, k := range w {
			for range k {
				drawn = append(drawn, samples[i])
			}
		}
		want, err := wsol.Evaluate(cfg, drawn)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.resampledResult(w)
		if err != nil {
			t.Fatal(err)
		}
		if got.MaxBoxAccV2 != want.MaxBoxAccV2 || got.MaxBoxAcc != want.MaxBoxAcc || got.PxAP != want.PxAP || got.Top1Loc != want.Top1Loc || got.GTKnownLoc != want.GTKnownLoc {
			t.Errorf("resampledResult(%v) = %.4f %.4f %.4f %.4f %.4f, want %.4f %.4f %.4f %.4f %.4f", w,
				got.MaxBoxAccV2, got.MaxBoxAcc, got.PxAP, got.Top1Loc, got.GTKnownLoc, want.MaxBoxAccV2, want.MaxBoxAcc, want.PxAP, want.Top1Loc, want.GTKnownLoc)
		}
	}
}

// TestCompareImageFolder compares models of other input shapes and class
// counts on an ImageFolder tree: WSOL is skipped and every difference is
// flagged, not bootstrapped.
func TestCompareImageFolder(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	data := imageFolder(t)
	dir := t.TempDir()
	out, errOut, code := cli(t, "-q", "--json", "compare", "--bootstrap", "20", "--fgsm", "8/255", "--steps", "2", "--out", dir, "--data", data,
		"testdata/models/tiny_cam.onnx", "testdata/models/tiny_gray_static.onnx")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res compareResults
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Data.Layout != "imagefolder" || res.Data.Images != 6 || len(res.Models) != 2 || res.Models[0].WSOL != nil {
		t.Fatalf("results: layout %q, %d images, %d models", res.Data.Layout, res.Data.Images, len(res.Models))
	}
	if res.Models[1].Input != [3]int{1, 8, 8} || len(res.Comparisons) == 0 {
		t.Fatalf("model 1 input %v, %d comparisons", res.Models[1].Input, len(res.Comparisons))
	}
	for _, c := range res.Comparisons {
		if c.Comparable || c.Significant || !strings.Contains(c.Note, "not comparable") {
			t.Errorf("comparison %s: comparable %v, note %q", c.Key, c.Comparable, c.Note)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	if !strings.Contains(string(md), "† tiny_gray_static: not comparable") {
		t.Errorf("summary.md does not flag the model:\n%s", md)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	checkSelfContained(t, string(html))
}

// TestReportChromium loads report.html in headless Chromium, offline,
// and checks that every image decoded and the summary table is there.
func TestReportChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium (apt-get install chromium)")
	}
	needRuntime(t)
	inRoot(t)
	dir := t.TempDir()
	if _, errOut, code := cli(t, "-q", "compare", "--bootstrap", "10", "--fgsm", "8/255", "--steps", "2", "--out", dir, "--data", imageFolder(t), "testdata/models/tiny_cam.onnx", "testdata/models/tiny_avgpool.onnx"); code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, errOut)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// A probe script records, after the load event, how many images there
	// are and how many failed to decode.
	const probe = `<script>window.addEventListener('load',function(){var im=document.images,bad=0;for(var i=0;i<im.length;i++){if(!im[i].complete||im[i].naturalWidth===0)bad++;}document.body.setAttribute('data-images',im.length);document.body.setAttribute('data-broken',bad);document.body.setAttribute('data-table',document.getElementById('summary')?1:0);});</script>`
	page := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(page, bytes.Replace(html, []byte("</body>"), []byte(probe+"</body>"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
		"--proxy-server=127.0.0.1:9", "--user-data-dir="+filepath.Join(dir, "chromium"), "--virtual-time-budget=5000",
		"--dump-dom", "file://"+page)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`<body data-images="(\d+)" data-broken="(\d+)" data-table="(\d)"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("chromium ran no probe; DOM starts %.300s", out)
	}
	if string(m[1]) == "0" || string(m[2]) != "0" || string(m[3]) != "1" {
		t.Errorf("report.html in chromium: %s images, %s broken, summary table %s", m[1], m[2], m[3])
	}
}

// shardArgs are a small comparison of two fixture models on 18 images
// with PGD; extra flags go before the models.
func shardArgs(out string, extra ...string) []string {
	args := []string{"-q", "compare", "--norm", "unit", "--limit", "18", "--methods", "cam", "--fgsm", "2/255,8/255",
		"--pgd", "eps=8/255,step=2/255,steps=3", "--steps", "2", "--bootstrap", "50", "--faith-limit", "5", "--faith-steps", "4",
		"--grid", "2", "--batch", "8", "--out", out, "--data", "testdata/fmnist-wsol"}
	args = append(args, extra...)
	return append(args, "testdata/models/fmnist_baseline.onnx", "testdata/models/fmnist_mixup.onnx")
}

// TestCompareShards checks that three shards merged with compare --merge
// write exactly the single run's outputs, that PGD matches the robust
// command, and that partials of another run are refused.
func TestCompareShards(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	single := t.TempDir()
	if _, errOut, code := cli(t, shardArgs(single)...); code != exitOK {
		t.Fatalf("single run: exit %d: %s", code, errOut)
	}
	var parts []string
	for i := range 3 {
		dir := t.TempDir()
		shard := fmt.Sprintf("%d/3", i)
		if i == 1 {
			t.Setenv("JOB_COMPLETION_INDEX", "1")
			shard = "env/3"
		}
		if _, errOut, code := cli(t, shardArgs(dir, "--shard", shard)...); code != exitOK {
			t.Fatalf("shard %d: exit %d: %s", i, code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
			t.Errorf("shard %d wrote results.json", i)
		}
		parts = append(parts, filepath.Join(dir, fmt.Sprintf("shard-%d-of-3.json", i)))
	}
	merged := t.TempDir()
	// Shards may come in any order.
	if _, errOut, code := cli(t, "-q", "compare", "--merge", "--out", merged, parts[2], parts[0], parts[1]); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"results.json", "summary.md", "report.html", "overlays.png"} {
		want, err := os.ReadFile(filepath.Join(single, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(merged, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			p := filepath.Join(t.TempDir(), f)
			os.WriteFile(p, got, 0o644)
			t.Errorf("merged %s differs from the single run's; merged in %s", f, p)
		}
	}

	// PGD is reported and bootstrapped, and agrees with robust --pgd.
	b, err := os.ReadFile(filepath.Join(single, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res compareResults
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Options.PGD == nil || res.Options.PGD.Steps != 3 || res.Models[0].PGD == nil || len(res.Models[0].PGDCorrect) != 18 {
		t.Fatalf("results.json has no PGD: options %+v", res.Options.PGD)
	}
	found := false
	for _, c := range res.Comparisons {
		if c.Key == "pgd" {
			found = true
			if !c.Comparable || math.IsNaN(float64(c.CILow)) || float64(c.CILow) > float64(c.CIHigh) {
				t.Errorf("pgd comparison %+v", c)
			}
		}
	}
	if !found {
		t.Error("no comparison of pgd")
	}
	if md, _ := os.ReadFile(filepath.Join(single, "summary.md")); !strings.Contains(string(md), "| PGD ε=8/255 (3×2/255) accuracy % ↑ |") {
		t.Errorf("summary.md has no PGD row:\n%s", md)
	}
	if html, _ := os.ReadFile(filepath.Join(single, "report.html")); !strings.Contains(string(html), "PGD ε=8/255 (3×2/255) accuracy %") {
		t.Error("report.html has no PGD row")
	}
	out, errOut, code := cli(t, "-q", "robust", "--json", "--norm", "unit", "--limit", "18", "--fgsm", "none", "--pgd", "eps=8/255,step=2/255,steps=3",
		"--occlusion", "none", "--inbetween=false", "--data", "testdata/fmnist-wsol", "testdata/models/fmnist_mixup.onnx")
	if code != exitOK {
		t.Fatalf("robust: exit %d: %s", code, errOut)
	}
	var rr robustReport
	if err := json.Unmarshal([]byte(out), &rr); err != nil {
		t.Fatal(err)
	}
	if p, q := rr.Report.PGD.Points[0], res.Models[1].PGD.Points[0]; p.Correct != q.Correct || p.Successes != q.Successes || rr.Report.PGD.CleanCorrect != res.Models[1].PGD.CleanCorrect {
		t.Errorf("PGD: compare %d correct, %d successes; robust %d, %d", q.Correct, q.Successes, p.Correct, p.Successes)
	}

	// Partials of another run, duplicates and gaps are refused.
	other := t.TempDir()
	if _, errOut, code := cli(t, shardArgs(other, "--shard", "2/3", "--faith-limit", "4")...); code != exitOK {
		t.Fatalf("other shard: exit %d: %s", code, errOut)
	}
	wsolPart := filepath.Join(t.TempDir(), "wsol.json")
	if err := os.WriteFile(wsolPart, []byte(`{"schema_version": 1, "config_hash": "x", "shards": [{"index": 0, "count": 2}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code exitCode
		want string
	}{
		{"another configuration", []string{"compare", "--merge", "--out", t.TempDir(), parts[0], parts[1], filepath.Join(other, "shard-2-of-3.json")}, exitRuntime, "configuration hash"},
		{"duplicate shard", []string{"compare", "--merge", "--out", t.TempDir(), parts[0], parts[1], parts[1]}, exitRuntime, "duplicate shard 1/3"},
		{"missing shard", []string{"compare", "--merge", "--out", t.TempDir(), parts[0], parts[2]}, exitRuntime, "missing shard 1/3"},
		{"wsol partial", []string{"compare", "--merge", "--out", t.TempDir(), wsolPart}, exitRuntime, "not written by compare --shard"},
		{"compare partial to merge", []string{"merge", parts[0]}, exitUsage, "compare --merge"},
		{"options with merge", []string{"compare", "--merge", "--methods", "gradcam", "--out", t.TempDir(), parts[0]}, exitUsage, "drop --methods"},
		{"bad shard", []string{"compare", "--shard", "3/3", "--out", t.TempDir(), "--data", "testdata/fmnist-wsol", "m.onnx"}, exitUsage, "--shard"},
		{"bad pgd", []string{"compare", "--pgd", "eps=2", "--out", t.TempDir(), "--data", "testdata/fmnist-wsol", "m.onnx"}, exitUsage, "--pgd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := cli(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, want %d with %q: %s", tc.args, code, tc.code, tc.want, errOut)
			}
		})
	}
}
