package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
)

// version is set with -ldflags "-X main.version=..."; otherwise it comes
// from the build information.
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// globalOptions are the flags every subcommand shares.
type globalOptions struct {
	out, errOut io.Writer
	stderrTTY   bool

	device    string
	deviceID  int
	threads   int
	gradCache string
	json      bool
	quiet     bool
	seed      uint64
}

// gradCacheEnv names the variable that sets --grad-cache when the flag is
// not given.
const gradCacheEnv = "CUTMIX_CAM_GRAD_CACHE"

// run builds the command tree, executes args and returns the exit code. It
// never panics: a panic becomes an internal-error line and exit 1.
func run(ctx context.Context, args []string, out, errOut io.Writer) (code exitCode) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(errOut, "cutmix-cam: internal error: %v\n", oneLine(fmt.Sprint(r)))
			code = exitRuntime
		}
	}()
	g := &globalOptions{out: out, errOut: errOut, stderrTTY: isTerminal(errOut)}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code = codeOf(err)
	if code == exitFailed {
		return code // the command already reported which check failed
	}
	msg := oneLine(err.Error())
	if code == exitUsage {
		msg += " (see cutmix-cam --help)"
	}
	fmt.Fprintf(errOut, "cutmix-cam: %s\n", msg)
	return code
}

func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "cutmix-cam",
		Short: "Check whether an ONNX image classifier looks at the object",
		Long: `cutmix-cam loads ONNX image classifiers with ONNX Runtime (CPU or CUDA),
finds their CAM target layer and classifier head, and predicts classes.

Run "cutmix-cam setup" once to install the ONNX Runtime library.`,
		Version:       toolVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if _, err := onnx.ParseDevice(g.device); err != nil {
				return usagef("--device %q: use cpu, cuda or auto", g.device)
			}
			if g.threads < 0 {
				return usagef("--threads %d: must be 0 (ORT's choice) or more", g.threads)
			}
			if g.deviceID < 0 {
				return usagef("--device-id %d: must be 0 or more", g.deviceID)
			}
			if !cmd.Flags().Changed("grad-cache") {
				g.gradCache = os.Getenv(gradCacheEnv)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.device, "device", "cpu", "where models run: cpu, cuda or auto (cuda if it loads, else cpu)")
	pf.IntVar(&g.deviceID, "device-id", 0, "CUDA device ordinal")
	pf.IntVar(&g.threads, "threads", 0, "ONNX Runtime intra-op threads (0: its default)")
	pf.StringVar(&g.gradCache, "grad-cache", "", "folder that keeps built gradient graphs across runs (default $"+gradCacheEnv+`; "" keeps them in memory only)`)
	pf.BoolVar(&g.json, "json", false, "write one JSON document to stdout instead of a table")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "no progress on stderr")
	pf.Uint64Var(&g.seed, "seed", 0, "seed for every random choice (echoed in the output)")

	root.AddCommand(
		newSetupCmd(g, nil),
		newInspectCmd(g, nil),
		newPredictCmd(g, nil),
		newGradCmd(g, nil),
		newProbeCmd(g, nil),
		newCAMCmd(g, nil),
		newWSOLCmd(g, nil),
		newMergeCmd(g, nil),
		newRobustCmd(g, nil),
		newCompareCmd(g, nil),
		newAuditCmd(g, nil),
	)
	return root
}

// openRuntime finds the ONNX Runtime library (never downloading) and
// initialises it. The caller closes the Runtime.
func (g *globalOptions) openRuntime() (*onnx.Runtime, error) {
	lib, err := onnx.FindLibrary(onnx.LibraryConfig{})
	if err != nil {
		return nil, err
	}
	return onnx.Init(lib.Path)
}

// openSingle starts the runtime and opens the one model of a command with
// openModel; close releases both.
func (g *globalOptions) openSingle(path string, size int) (m *onnx.Model, close func(), err error) {
	rt, err := g.openRuntime()
	if err != nil {
		return nil, nil, err
	}
	if m, err = g.openModel(path, size); err != nil {
		rt.Close()
		return nil, nil, err
	}
	return m, func() { m.Close(); rt.Close() }, nil
}

// openModel opens path with the global device, thread and gradient cache
// flags, printing one line on stderr when --device auto falls back to the
// CPU.
func (g *globalOptions) openModel(path string, size int) (*onnx.Model, error) {
	dev, _ := onnx.ParseDevice(g.device)
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("model %w", err)
	}
	m, err := onnx.Open(path, onnx.Options{Device: dev, DeviceID: g.deviceID, Threads: g.threads, Size: size, GradCache: g.gradCache})
	if err != nil {
		return nil, err
	}
	if fb := m.Fallback(); fb != nil && !g.quiet {
		fmt.Fprintf(g.errOut, "cutmix-cam: CUDA unavailable, running on the CPU (%s)\n", oneLine(fb.Error()))
	}
	return m, nil
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// checkFile returns a short error for a path that does not name a readable
// regular file.
func checkFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: file not found", path)
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("%s: is a folder, want a file", path)
	}
	return nil
}

// checkDir returns a short error for a path that is not a folder.
func checkDir(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: folder not found", path)
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("%s: is a file, want a folder", path)
	}
	return nil
}

// encodeJSON writes v as indented JSON, the one document --json prints.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// checkImages reads the header of every image before any model is opened,
// so that a bad file fails the command at once with the error loadBatch
// would give later.
func checkImages(paths []string, maxPixels int) error {
	for _, p := range paths {
		if err := checkFile(p); err != nil {
			return fmt.Errorf("image %w", err)
		}
		if err := preprocess.Check(p, maxPixels); err != nil {
			return fmt.Errorf("image %w", err)
		}
	}
	return nil
}

// loadBatch decodes and preprocesses paths into one input batch; callers
// have checked them with checkImages.
func loadBatch(paths []string, cfg preprocess.Config, maxPixels int) ([]float32, error) {
	batch := make([]float32, len(paths)*cfg.Len())
	for i, p := range paths {
		img, err := preprocess.Load(p, maxPixels)
		if err != nil {
			return nil, fmt.Errorf("image %w", err)
		}
		if err := cfg.Tensor(batch[i*cfg.Len():(i+1)*cfg.Len()], img); err != nil {
			return nil, fmt.Errorf("image %s: %w", p, err)
		}
	}
	return batch, nil
}

// layerFlag resolves a --layer value: "auto" is the detected target layer,
// anything else a tensor name checked to be a 4-D activation.
func layerFlag(ctx context.Context, m *onnx.Model, name string) (onnx.Layer, error) {
	var l onnx.Layer
	var err error
	if name == "auto" {
		l, err = m.TargetLayer(ctx)
	} else {
		l, err = m.Layer(ctx, name)
	}
	if err != nil {
		return onnx.Layer{}, fmt.Errorf("--layer: %w", err)
	}
	return l, nil
}
