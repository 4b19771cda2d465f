package onnx

import (
	"errors"
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrNotInitialized reports use of the package before Init.
var ErrNotInitialized = errors.New("onnx: runtime not initialized; call onnx.Init first")

// ErrInitialized reports a second Init while a Runtime is open.
var ErrInitialized = errors.New("onnx: runtime already initialized")

// Runtime is the process-wide ONNX Runtime environment. Exactly one may be
// open at a time; it must outlive every Model opened under it.
type Runtime struct {
	lib    string
	closed bool
}

var (
	envMu   sync.Mutex
	current *Runtime
)

// Init loads the ONNX Runtime shared library at libPath (see FindLibrary and
// InstallLibrary) and creates the process-wide environment. It errors if a
// Runtime is already open. The caller owns the Runtime and must Close it
// after closing every Model.
func Init(libPath string) (*Runtime, error) {
	envMu.Lock()
	defer envMu.Unlock()
	if current != nil {
		return nil, ErrInitialized
	}
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("onnx: load runtime %s: %w; run \"cutmix-cam setup\" or set %s to a libonnxruntime %s", libPath, err, LibraryEnv, RuntimeVersion)
	}
	current = &Runtime{lib: libPath}
	return current, nil
}

// Library returns the path of the loaded shared library.
func (r *Runtime) Library() string { return r.lib }

// Version returns the version string the loaded library reports.
func (r *Runtime) Version() string { return ort.GetVersion() }

// Close destroys the environment. It is idempotent; after it, Init may be
// called again.
func (r *Runtime) Close() error {
	envMu.Lock()
	defer envMu.Unlock()
	if r == nil || r.closed {
		return nil
	}
	r.closed = true
	current = nil
	if err := ort.DestroyEnvironment(); err != nil {
		return fmt.Errorf("onnx: close runtime: %w", err)
	}
	return nil
}

func initialized() bool {
	envMu.Lock()
	defer envMu.Unlock()
	return current != nil
}
