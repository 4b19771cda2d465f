package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// committed is the evaluation split relative to this package, and the flags
// that wrote it (see the package comment and testdata/README.md).
const committed = "../../fmnist-wsol"

var committedConfig = config{split: "test", n: 600, seed: 1}

const source = "/usr/share/datasets/fashion-mnist"

// TestCommittedSplit regenerates the committed evaluation split and checks
// that every file matches byte for byte, and that no file is missing or
// extra.
func TestCommittedSplit(t *testing.T) {
	if _, err := os.Stat(source); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v); on Debian: apt-get install dataset-fashion-mnist", err)
	}
	c := committedConfig
	c.src = source
	c.out = t.TempDir()
	if err := generate(context.Background(), c); err != nil {
		t.Fatalf("generate: %v", err)
	}
	want := tree(t, committed)
	got := tree(t, c.out)
	if len(want) == 0 {
		t.Fatalf("no committed files under %s", committed)
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: committed but not regenerated", name)
			continue
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s: regenerated %d bytes differ from the committed %d bytes", name, len(g), len(w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: regenerated but not committed", name)
		}
	}
}

// TestSeedChangesOutput guards against a generator that ignores its seed.
func TestSeedChangesOutput(t *testing.T) {
	if _, err := os.Stat(source); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v); on Debian: apt-get install dataset-fashion-mnist", err)
	}
	var outs [2]map[string][]byte
	for i := range outs {
		c := config{src: source, split: "test", n: 20, seed: uint64(7 + i), out: t.TempDir()}
		if err := generate(context.Background(), c); err != nil {
			t.Fatalf("generate seed %d: %v", c.seed, err)
		}
		outs[i] = tree(t, c.out)
	}
	const f = "test/0/00000.png"
	if bytes.Equal(outs[0][f], outs[1][f]) {
		t.Errorf("%s is the same for seeds 7 and 8", f)
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []config{
		{split: "test", n: 10},                                     // no -out
		{split: "test", n: 15, out: t.TempDir()},                   // not a multiple of 10
		{split: "val", n: 10, out: t.TempDir()},                    // unknown split
		{split: "test", n: 10, out: t.TempDir(), src: t.TempDir()}, // no idx files
	} {
		if err := generate(context.Background(), c); err == nil {
			t.Errorf("generate(%+v) = nil, want an error", c)
		}
	}
}

// tree reads every regular file under root, keyed by slash path.
func tree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		m[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", root, err)
	}
	return m
}
