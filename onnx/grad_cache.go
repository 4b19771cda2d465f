package onnx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
)

// gradCacheFormat is the version of the layout of gradient cache files.
// Bump it when gradFile or the layout around it changes.
const gradCacheFormat = 2

// gradCacheMagic opens every gradient cache file.
const gradCacheMagic = "cutmix-cam gradient graph\n"

// gradCacheExt ends the name of every gradient cache file.
const gradCacheExt = ".gradgraph"

// A gradient cache file is gradCacheMagic, the gradFile header as one line
// of JSON, a newline, then the encoded gradient model (gradGraph.data).
// The header repeats the full key, so that a file is only ever used for
// the request it was built for, and holds the size and CRC-32C of the
// model, so that a truncated or damaged file is rebuilt.
type gradFile struct {
	Format  int          `json:"format"`
	Builder int          `json:"builder"`
	Key     gradFileKey  `json:"key"`
	Graph   gradFileMeta `json:"graph"`
}

// gradFileKey is gradKey as stored in a cache file.
type gradFileKey struct {
	Model     string   `json:"model_sha256"`
	CHW       [3]int   `json:"chw"`
	Batch     int      `json:"batch"`
	Objective string   `json:"objective"`
	Wrt       []string `json:"wrt"`
	Output    string   `json:"output"`
}

// gradFileMeta holds the fields of a gradGraph other than its data, and
// the data's size and checksum.
type gradFileMeta struct {
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	Classes int      `json:"classes"`
	Batch   int      `json:"batch"`
	Wrt     []string `json:"wrt"`
	Size    int      `json:"size"`
	CRC32C  uint32   `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (k gradKey) file() gradFileKey {
	return gradFileKey{Model: k.hash, CHW: k.chw, Batch: k.batch, Objective: k.objective.String(),
		Wrt: strings.Split(k.wrt, "\x00"), Output: k.output}
}

func (a gradFileKey) equal(b gradFileKey) bool {
	return a.Model == b.Model && a.CHW == b.CHW && a.Batch == b.Batch && a.Objective == b.Objective &&
		slices.Equal(a.Wrt, b.Wrt) && a.Output == b.Output
}

// gradCachePath returns the cache file for key in dir: the hex SHA-256 of
// the file format, the builder version and the key.
func gradCachePath(dir string, key gradKey) string {
	k, _ := json.Marshal(key.file()) // plain strings and ints: cannot fail
	h := sha256.New()
	fmt.Fprintf(h, "%s%d %d\n", gradCacheMagic, gradCacheFormat, gradBuildVersion)
	h.Write(k)
	return filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+gradCacheExt)
}

// loadGradCache reads the graph for key from path. It reports false for a
// missing, unreadable, damaged or stale file, or one built for another key.
func loadGradCache(path string, key gradKey) (*gradGraph, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	rest, ok := bytes.CutPrefix(b, []byte(gradCacheMagic))
	if !ok {
		return nil, false
	}
	head, data, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return nil, false
	}
	var f gradFile
	if err := json.Unmarshal(head, &f); err != nil {
		return nil, false
	}
	meta := f.Graph
	if f.Format != gradCacheFormat || f.Builder != gradBuildVersion || !f.Key.equal(key.file()) ||
		meta.Size != len(data) || meta.CRC32C != crc32.Checksum(data, castagnoli) {
		return nil, false
	}
	return &gradGraph{data: data, inputs: meta.Inputs, outputs: meta.Outputs, classes: meta.Classes,
		batch: meta.Batch, wrt: meta.Wrt}, true
}

// saveGradCache writes gg, built for key, to path atomically: readers in
// other processes see the old file or the whole new one.
func saveGradCache(path string, key gradKey, gg *gradGraph) error {
	head, err := json.Marshal(gradFile{Format: gradCacheFormat, Builder: gradBuildVersion, Key: key.file(),
		Graph: gradFileMeta{Inputs: gg.inputs, Outputs: gg.outputs, Classes: gg.classes, Batch: gg.batch,
			Wrt: gg.wrt, Size: len(gg.data), CRC32C: crc32.Checksum(gg.data, castagnoli)}})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0, func(w io.Writer) error {
		for _, p := range [][]byte{[]byte(gradCacheMagic), head, []byte("\n"), gg.data} {
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkGradCacheDir creates dir if needed and checks that files can be
// created in it.
func checkGradCacheDir(dir string) error {
	f, err := os.CreateTemp(dir, ".probe*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o755); err == nil {
			f, err = os.CreateTemp(dir, ".probe*")
		}
	}
	if err != nil {
		return fmt.Errorf("onnx: gradient cache %s: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
