package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/onnx"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// runtimeMissing is set when no ONNX Runtime library is found outside CI.
var runtimeMissing error

// mainEnv, when set, makes the test binary run as cutmix-cam itself, so
// that tests can run the command in a fresh process (see runMain).
const mainEnv = "CUTMIX_CAM_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(int(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)))
	}
	flag.Parse()
	if _, err := onnx.FindLibrary(onnx.LibraryConfig{}); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "cmd tests: %v (under CI a missing runtime is a failure)\n", err)
			os.Exit(1)
		}
		runtimeMissing = err
	}
	os.Exit(m.Run())
}

func needRuntime(t testing.TB) {
	t.Helper()
	if runtimeMissing != nil {
		t.Skipf("%v; provision it with: go run ./cmd/cutmix-cam setup", runtimeMissing)
	}
}

// cli runs the command line in the repository root and returns stdout,
// stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, exitCode) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// inRoot makes the repository root the working directory for t.
func inRoot(t testing.TB) {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("cmd", "cutmix-cam", "testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/cutmix-cam -update to create it)", err)
	}
	if got != string(want) {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, []byte(got), 0o644)
		t.Errorf("%s differs from the golden file; new output in %s", name, p)
	}
}

func TestInspect(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	out, errOut, code := cli(t, "inspect", "testdata/models/tiny_cam.onnx")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	flat := oneLine(out)
	for _, want := range []string{
		"input image float[N,3,16,16]",
		"cam layer features 6×8×8 via GlobalAveragePool <- target layer",
		"head Gemm -> logits: 5 classes × 6 channels",
		"ops Conv 2, Relu 2, Flatten 1, Gemm 1, GlobalAveragePool 1",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = cli(t, "inspect", "--json", "--seed", "7", "testdata/models/tiny_gray_static.onnx")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	golden(t, "inspect_json.golden", out)
	var rep inspectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.SchemaVersion != 1 || rep.Seed != 7 || rep.Target != "act" || rep.Head == nil || rep.Head.Op != "MatMul+Add" {
		t.Errorf("inspect --json = %+v", rep)
	}
}

func TestPredict(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	out, errOut, code := cli(t, "predict", "--json", "--top-k", "3", "--labels", "cmd/cutmix-cam/testdata/labels.txt",
		"testdata/models/tiny_cam.onnx", "testdata/images/shapes.png", "testdata/images/gray.png", "testdata/images/shapes.gif")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep predictReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 || rep.Device != "cpu" || rep.Output != "logits" {
		t.Fatalf("predict --json = %+v", rep)
	}
	for _, r := range rep.Results {
		if len(r.Top) != 3 {
			t.Fatalf("%s: %d classes, want 3", r.Image, len(r.Top))
		}
		for i := 1; i < 3; i++ {
			if r.Top[i].Score > r.Top[i-1].Score || r.Top[i].Prob > r.Top[i-1].Prob {
				t.Errorf("%s: top-k not sorted: %+v", r.Image, r.Top)
			}
		}
		if want := fmt.Sprintf("class %d", r.Top[0].Class); r.Top[0].Label != want {
			t.Errorf("%s: label %q, want %q", r.Image, r.Top[0].Label, want)
		}
	}
	// The PNG and the GIF hold the same picture (GIF palette-quantised):
	// the same top class.
	if rep.Results[0].Top[0].Class != rep.Results[2].Top[0].Class {
		t.Errorf("PNG and GIF of one picture disagree: %+v vs %+v", rep.Results[0].Top[0], rep.Results[2].Top[0])
	}

	// Softmax models report their own probabilities, which sum to 1 over all
	// classes; the grayscale model takes RGB images (converted).
	out, errOut, code = cli(t, "predict", "--json", "--top-k", "4", "testdata/models/tiny_gray_static.onnx", "testdata/images/shapes.png")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep = predictReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, c := range rep.Results[0].Top {
		sum += c.Prob
		if float64(c.Score) != c.Prob {
			t.Errorf("softmax model: prob %g differs from score %g", c.Prob, c.Score)
		}
	}
	if sum < 0.9999 || sum > 1.0001 {
		t.Errorf("probabilities sum to %g", sum)
	}
}

func TestSetup(t *testing.T) {
	needRuntime(t)
	out, errOut, code := cli(t, "setup", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Library, Version string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rep.Library); err != nil || rep.Version == "" {
		t.Errorf("setup --json = %s", out)
	}
}

// TestBadInput checks that every bad input gives exactly one line on stderr
// starting "cutmix-cam: ", the right exit code and a useful message.
func TestBadInput(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	tests := []struct {
		name string
		args []string
		code exitCode
		text string
	}{
		{"missing model", []string{"inspect", "nosuch.onnx"}, exitRuntime, "nosuch.onnx: file not found"},
		{"png renamed onnx", []string{"inspect", "testdata/models/not_onnx.onnx"}, exitRuntime, "not an ONNX model"},
		{"truncated onnx", []string{"inspect", "testdata/models/truncated.onnx"}, exitRuntime, "truncated"},
		{"not an image model", []string{"predict", "testdata/models/vector_input.onnx", "testdata/images/shapes.png"}, exitRuntime, "not an image tensor"},
		{"undecodable image", []string{"predict", "testdata/models/tiny_cam.onnx", "testdata/images/corrupt.png"}, exitRuntime, "corrupt.png"},
		{"image over the cap", []string{"predict", "testdata/models/tiny_cam.onnx", "testdata/images/bomb.png"}, exitRuntime, "pixel cap"},
		{"missing image", []string{"predict", "testdata/models/tiny_cam.onnx", "nosuch.png"}, exitRuntime, "nosuch.png: file not found"},
		{"unknown tensor", []string{"inspect", "--layer", "nope", "testdata/models/tiny_cam.onnx"}, exitRuntime, "candidates: conv2, features"},
		{"cuda without cuda", []string{"--device", "cuda", "inspect", "testdata/models/tiny_cam.onnx"}, exitRuntime, "--device cpu"},
		{"unknown flag", []string{"predict", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{"unknown command", []string{"bogus"}, exitUsage, "unknown command"},
		{"bad device", []string{"--device", "tpu", "inspect", "x.onnx"}, exitUsage, "--device"},
		{"no model", []string{"inspect"}, exitUsage, "one MODEL"},
		{"no image", []string{"predict", "testdata/models/tiny_cam.onnx"}, exitUsage, "at least one IMAGE"},
		{"bad norm", []string{"predict", "--norm", "foo", "m.onnx", "i.png"}, exitUsage, "--norm"},
		{"bad top-k", []string{"predict", "--top-k", "0", "m.onnx", "i.png"}, exitUsage, "--top-k"},
		{"bad threads", []string{"--threads", "-1", "inspect", "m.onnx"}, exitUsage, "--threads"},
		{"missing labels", []string{"predict", "--labels", "nosuch.txt", "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitRuntime, "--labels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(errOut, "cutmix-cam: ") {
				t.Errorf("stderr is not one cutmix-cam: line: %q", errOut)
			}
			if !strings.Contains(errOut, tc.text) {
				t.Errorf("stderr %q does not mention %q", errOut, tc.text)
			}
		})
	}
}

func TestHelpGolden(t *testing.T) {
	inRoot(t)
	for _, args := range [][]string{{"--help"}, {"inspect", "--help"}, {"predict", "--help"}, {"setup", "--help"}, {"probe", "--help"}, {"cam", "--help"}, {"wsol", "--help"}, {"merge", "--help"}, {"robust", "--help"}, {"compare", "--help"}, {"audit", "--help"}} {
		out, _, code := cli(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		name := "help_root.golden"
		if args[0] != "--help" {
			name = "help_" + args[0] + ".golden"
		}
		golden(t, name, out)
	}
}

// TestFlagsBind checks the flag half of predict without running a model.
func TestFlagsBind(t *testing.T) {
	var got *predictOptions
	g := &globalOptions{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	cmd := newPredictCmd(g, func(o *predictOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--top-k", "3", "--norm", "unit", "--resize", "crop", "--batch", "8", "m.onnx", "a.png", "b.png"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.topK != 3 || got.norm != "unit" || got.resize != "crop" || got.batch != 8 || got.model != "m.onnx" || len(got.images) != 2 {
		t.Errorf("options = %+v", got)
	}
}

// TestReadmeCommands runs every "cutmix-cam ..." line of the README's shell
// blocks, so the README cannot show a command that does not work.
func TestReadmeCommands(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	inBlock := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock && strings.TrimPrefix(line, "```") == "sh"
		case inBlock && strings.HasPrefix(line, "cutmix-cam "):
			cmds = append(cmds, line)
		}
	}
	if len(cmds) == 0 {
		t.Fatal("README shows no cutmix-cam command")
	}
	space := regexp.MustCompile(`\s+`)
	for _, c := range cmds {
		args := space.Split(strings.TrimSpace(strings.TrimPrefix(c, "cutmix-cam ")), -1)
		_, errOut, code := cli(t, args...)
		if code != exitOK {
			t.Errorf("README command %q: exit %d: %s", c, code, errOut)
		}
	}
}

func TestProbe(t *testing.T) {
	inRoot(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"probe", "--seed", "5", "--count", "3", "--json", "--out", out, "--images",
			"testdata/images/shapes.png", "testdata/images/gray.png", "testdata/images/shapes.jpg"}
	}
	out, errOut, code := cli(t, args(filepath.Join(dir, "a"))...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep probeReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Count != 3 || rep.Seed != 5 || rep.Method != "cutmix" {
		t.Errorf("probe --json = %+v", rep)
	}
	if _, _, code := cli(t, args(filepath.Join(dir, "b"))...); code != exitOK {
		t.Fatal("second run failed")
	}
	for _, f := range []string{"manifest.json", "contact_sheet.png", "probe_00000.png", "probe_00002.png"} {
		a, errA := os.ReadFile(filepath.Join(dir, "a", f))
		b, errB := os.ReadFile(filepath.Join(dir, "b", f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed (%v, %v)", f, errA, errB)
		}
	}
	// In-between-class probes: the second source (gray.png, 24×24) is the
	// outside image, so λ = 1 − s²/576 and the square is centred.
	_, errOut, code = cli(t, "probe", "--json", "--between", "0,12,24", "--out", filepath.Join(dir, "c"), "--images", "testdata/images/shapes.png", "testdata/images/gray.png")
	if code != exitOK {
		t.Fatalf("between: exit %d: %s", code, errOut)
	}
	var m struct {
		Probes []struct {
			Lambda float64 `json:"lambda"`
			Box    [4]int  `json:"box"`
		} `json:"probes"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "c", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		lam float64
		box [4]int
	}{{1, [4]int{0, 0, 0, 0}}, {1 - 144.0/576, [4]int{6, 6, 18, 18}}, {0, [4]int{0, 0, 24, 24}}}
	for i, w := range want {
		if m.Probes[i].Lambda != w.lam || m.Probes[i].Box != w.box {
			t.Errorf("between probe %d: λ %g box %v, want %g %v", i, m.Probes[i].Lambda, m.Probes[i].Box, w.lam, w.box)
		}
	}
}

func TestProbeBadInput(t *testing.T) {
	inRoot(t)
	tests := []struct {
		args []string
		code exitCode
		text string
	}{
		{[]string{"probe", "--out", "x"}, exitUsage, "--data DIR or --images"},
		{[]string{"probe", "--images", "a.png"}, exitUsage, "--out"},
		{[]string{"probe", "--alpha", "0", "--out", "x", "--images", "a.png"}, exitUsage, "--alpha"},
		{[]string{"probe", "--method", "blend", "--out", "x", "--images", "a.png"}, exitUsage, "--method"},
		{[]string{"probe", "--out", "x", "--images", "nosuch.png"}, exitRuntime, "nosuch.png: file not found"},
		{[]string{"probe", "--out", "x", "--data", "nosuch"}, exitRuntime, "folder not found"},
		{[]string{"probe", "--out", t.TempDir(), "--images", "testdata/images/bomb.png", "testdata/images/gray.png"}, exitRuntime, "pixel cap"},
		{[]string{"probe", "--out", t.TempDir(), "--fixed", "64", "--images", "testdata/images/shapes.png", "testdata/images/gray.png"}, exitRuntime, "box"},
	}
	for _, tc := range tests {
		_, errOut, code := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.text) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.text)
		}
	}
}

func TestCAMCommand(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	dir := t.TempDir()
	out, errOut, code := cli(t, "-q", "cam", "--json", "--npy", "--panel", "--class", "top2", "--method", "cam,gradcam++,scorecam",
		"--out", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png", "testdata/images")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep camReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// shapes.png twice (named and from the folder), shapes.jpg, shapes.gif,
	// gray.png; bomb.png and corrupt.png in the folder are skipped.
	if len(rep.Images) != 5 || len(rep.Skipped) != 2 || rep.Layer != "features" {
		t.Fatalf("cam --json: %d images, skipped %v, layer %q", len(rep.Images), rep.Skipped, rep.Layer)
	}
	for _, im := range rep.Images {
		if len(im.Results) != 6 || im.Panel == "" {
			t.Errorf("%s: %d results, panel %q; want 3 methods × 2 classes and a panel", im.Image, len(im.Results), im.Panel)
		}
		for _, r := range im.Results {
			for _, f := range r.Files {
				if _, err := os.Stat(f); err != nil {
					t.Error(err)
				}
			}
		}
	}
	// The .npy map is the min-max normalised map at the input size.
	f, err := os.Open(rep.Images[0].Results[0].Files[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	arr, err := npy.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := arr.Data[0], arr.Data[0]
	for _, v := range arr.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if fmt.Sprint(arr.Shape) != "[16 16]" || lo != 0 || hi != 1 {
		t.Errorf(".npy map shape %v range [%g, %g], want [16 16] over [0, 1]", arr.Shape, lo, hi)
	}
	// Duplicate stems get a suffix instead of overwriting each other.
	if _, err := os.Stat(filepath.Join(dir, "shapes-2.cam.c0.png")); err != nil {
		t.Errorf("second shapes image: %v", err)
	}
}

func TestCAMBadInput(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	empty := t.TempDir()
	tests := []struct {
		args []string
		code exitCode
		text string
	}{
		{[]string{"cam", "--out", "x", "testdata/models/tiny_cam.onnx"}, exitUsage, "IMAGE"},
		{[]string{"cam", "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitUsage, "--out"},
		{[]string{"cam", "--method", "foo", "--out", "x", "m.onnx", "i.png"}, exitUsage, "--method"},
		{[]string{"cam", "--class", "x", "--out", "x", "m.onnx", "i.png"}, exitUsage, "--class"},
		{[]string{"cam", "--out", t.TempDir(), "testdata/models/tiny_cam.onnx", empty}, exitRuntime, "no PNG, JPEG or GIF"},
		{[]string{"cam", "--out", t.TempDir(), "--class", "9", "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitRuntime, "out of range"},
		{[]string{"cam", "--out", t.TempDir(), "--layer", "logits", "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitRuntime, "4-D"},
		{[]string{"cam", "--out", t.TempDir(), "--layer", "relu1", "--method", "cam", "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitRuntime, "try gradcam"},
		{[]string{"cam", "--out", t.TempDir(), "testdata/models/tiny_cam.onnx", "testdata/images/corrupt.png"}, exitRuntime, "corrupt.png"},
	}
	for _, tc := range tests {
		_, errOut, code := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.text) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.text)
		}
	}
}
