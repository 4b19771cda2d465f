package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runMain runs cutmix-cam with args in a fresh process (this test binary
// under mainEnv), so that nothing is cached in memory, with env added to an
// environment that has no gradCacheEnv. It returns stdout, stderr and the
// exit code.
func runMain(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, gradCacheEnv+"=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(append(cmd.Env, mainEnv+"=1"), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), errOut.String(), exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

// readFiles returns the contents of the files in dir by name; nil when dir
// does not exist.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// TestGradCacheFlag runs grad twice, each in a fresh process, and checks
// that --grad-cache (or its variable) leaves one cached graph that the
// second run reads, with identical outputs.
func TestGradCacheFlag(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	for _, tc := range []struct {
		name  string
		flag  []string // --grad-cache and its value; CACHE stands for the folder
		env   bool     // set gradCacheEnv to the folder
		files int
	}{
		{"flag", []string{"--grad-cache", "CACHE"}, false, 1},
		{"variable", nil, true, 1},
		{"flag_over_variable", []string{"--grad-cache", ""}, true, 0},
		{"off", nil, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			cache, out := filepath.Join(tmp, "cache"), filepath.Join(tmp, "out")
			args := []string{"grad", "--json", "--wrt", "input", "--wrt", "features", "--objective", "ce", "--class", "1"}
			for _, a := range tc.flag {
				args = append(args, strings.ReplaceAll(a, "CACHE", cache))
			}
			args = append(args, "--out", out, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png")
			var env []string
			if tc.env {
				env = []string{gradCacheEnv + "=" + cache}
			}
			var stdout [2]string
			var outs, caches [2]map[string][]byte
			var stats [2]os.FileInfo
			for i := range 2 {
				var errOut string
				var code int
				stdout[i], errOut, code = runMain(t, env, args...)
				if code != int(exitOK) {
					t.Fatalf("run %d: exit %d: %s", i+1, code, errOut)
				}
				outs[i], caches[i] = readFiles(t, out), readFiles(t, cache)
				if len(caches[i]) != tc.files {
					t.Fatalf("run %d: %d files in the cache folder, want %d", i+1, len(caches[i]), tc.files)
				}
				for name := range caches[i] {
					st, err := os.Stat(filepath.Join(cache, name))
					if err != nil {
						t.Fatal(err)
					}
					stats[i] = st
				}
			}
			if stdout[0] != stdout[1] {
				t.Errorf("stdout differs between the runs: %s", cmp.Diff(stdout[0], stdout[1]))
			}
			if len(outs[0]) == 0 || !cmp.Equal(outs[0], outs[1]) {
				t.Errorf("output files differ between the runs (%d and %d files)", len(outs[0]), len(outs[1]))
			}
			if tc.files > 0 && !os.SameFile(stats[0], stats[1]) {
				t.Error("the second run rewrote the cached graph; want it read")
			}
		})
	}
}
