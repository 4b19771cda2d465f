package onnx

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
)

// RuntimeVersion is the ONNX Runtime release that InstallLibrary fetches.
const RuntimeVersion = "1.30.0"

// LibraryEnv is the environment variable that names the ONNX Runtime shared
// library explicitly; it wins over every other place.
const LibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// runtimePackage is the npm package that carries the runtime, and
// runtimeIntegrity the registry's dist.integrity of its tarball.
const (
	runtimePackage   = "onnxruntime-node@" + RuntimeVersion
	runtimeIntegrity = "sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw=="
)

// ErrNoLibrary reports that no ONNX Runtime shared library was found.
var ErrNoLibrary = errors.New(`onnx: no ONNX Runtime library found; run "cutmix-cam setup"`)

// ErrUnsupportedPlatform reports a platform for which no pinned runtime
// library exists.
var ErrUnsupportedPlatform = errors.New("onnx: no pinned ONNX Runtime build for this platform")

// Library is a located ONNX Runtime shared library.
type Library struct {
	// Path is the absolute path of the shared library.
	Path string
	// Source says where it was found: "env", "cache", "python", "system"
	// or "npm" (just installed).
	Source string
}

// LibraryConfig says where to look for and put the runtime library. The zero
// value uses the environment, the user's cache directory and npm from PATH.
type LibraryConfig struct {
	// CacheDir is the cache root; empty means $XDG_CACHE_HOME/cutmix-cam
	// (os.UserCacheDir). The library lives in
	// CacheDir/onnxruntime/<RuntimeVersion>/.
	CacheDir string
	// Npm is the npm executable; empty means "npm" from PATH.
	Npm string
	// SkipSystem, when set, skips the Python and system library folders so
	// only the environment variable and the cache are consulted before a
	// fetch.
	SkipSystem bool
}

// platformMember returns the tarball member and the cached file name of the
// runtime library for goos/goarch.
func platformMember(goos, goarch string) (member, file string, err error) {
	switch goos + "/" + goarch {
	case "linux/amd64":
		return "package/bin/napi-v6/linux/x64/libonnxruntime.so.1", "libonnxruntime.so.1", nil
	case "linux/arm64":
		return "package/bin/napi-v6/linux/arm64/libonnxruntime.so.1", "libonnxruntime.so.1", nil
	case "darwin/arm64":
		return "package/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib", "libonnxruntime.1.dylib", nil
	}
	return "", "", fmt.Errorf("%w (%s/%s): set %s to a libonnxruntime you built or downloaded", ErrUnsupportedPlatform, goos, goarch, LibraryEnv)
}

func (c LibraryConfig) dir() (string, error) {
	root := c.CacheDir
	if root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("onnx: locate cache directory: %w", err)
		}
		root = filepath.Join(base, "cutmix-cam")
	}
	return filepath.Join(root, "onnxruntime", RuntimeVersion), nil
}

// FindLibrary locates the ONNX Runtime shared library without fetching
// anything, in this order: the LibraryEnv variable; the cache directory; a
// Python onnxruntime install; the usual system library folders. It returns
// an error wrapping ErrNoLibrary when none is found, and an error naming the
// variable when LibraryEnv points at a missing file.
func FindLibrary(cfg LibraryConfig) (Library, error) {
	if p := os.Getenv(LibraryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return Library{}, fmt.Errorf("onnx: %s=%s: %w; fix the path or unset it", LibraryEnv, p, err)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return Library{}, err
		}
		return Library{Path: abs, Source: "env"}, nil
	}
	if _, file, err := platformMember(runtime.GOOS, runtime.GOARCH); err == nil {
		dir, err := cfg.dir()
		if err != nil {
			return Library{}, err
		}
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return Library{Path: p, Source: "cache"}, nil
		}
	}
	if !cfg.SkipSystem {
		if p := firstMatch(pythonPatterns()); p != "" {
			return Library{Path: p, Source: "python"}, nil
		}
		if p := firstMatch(systemPatterns); p != "" {
			return Library{Path: p, Source: "system"}, nil
		}
	}
	return Library{}, ErrNoLibrary
}

var systemPatterns = []string{
	"/usr/local/lib/libonnxruntime.so*",
	"/usr/lib/libonnxruntime.so*",
	"/usr/lib/x86_64-linux-gnu/libonnxruntime.so*",
	"/usr/lib/aarch64-linux-gnu/libonnxruntime.so*",
	"/opt/homebrew/lib/libonnxruntime*.dylib",
}

func pythonPatterns() []string {
	const sub = "onnxruntime/capi/libonnxruntime.so*"
	pats := []string{
		"/usr/lib/python3*/*-packages/" + sub,
		"/usr/local/lib/python3*/*-packages/" + sub,
	}
	if home, err := os.UserHomeDir(); err == nil {
		pats = append(pats,
			filepath.Join(home, ".local/lib/python3*/site-packages", sub),
			filepath.Join(home, ".pyenv/versions/*/lib/python3*/site-packages", sub),
		)
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		pats = append([]string{filepath.Join(venv, "lib/python3*/site-packages", sub)}, pats...)
	}
	return pats
}

// firstMatch returns the first regular file matching the patterns, taking
// the lexically last match of a pattern (usually the newest version).
func firstMatch(patterns []string) string {
	for _, pat := range patterns {
		m, _ := filepath.Glob(pat)
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		for _, p := range m {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// InstallLibrary returns the library FindLibrary finds or, when there is
// none, fetches the pinned npm package with `npm pack`, verifies the tarball
// against the pinned sha512 integrity, and extracts this platform's library
// into the cache directory (atomically). It is idempotent and offline once
// the library is cached.
func InstallLibrary(ctx context.Context, cfg LibraryConfig) (Library, error) {
	lib, err := FindLibrary(cfg)
	if err == nil || !errors.Is(err, ErrNoLibrary) {
		return lib, err
	}
	member, file, err := platformMember(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return Library{}, err
	}
	dir, err := cfg.dir()
	if err != nil {
		return Library{}, err
	}
	path, err := fetchPackage(ctx, cfg.Npm, runtimePackage, runtimeIntegrity, member, filepath.Join(dir, file))
	if err != nil {
		return Library{}, err
	}
	return Library{Path: path, Source: "npm"}, nil
}

// fetchPackage runs `npm pack spec` in a temporary folder, checks the
// tarball's sha512 against integrity ("sha512-<base64>") and extracts member
// to dst.
func fetchPackage(ctx context.Context, npm, spec, integrity, member, dst string) (string, error) {
	if npm == "" {
		npm = "npm"
	}
	bin, err := exec.LookPath(npm)
	if err != nil {
		return "", fmt.Errorf("onnx: npm not found (%w): install Node.js and npm (apt-get install npm), or set %s", err, LibraryEnv)
	}
	tmp, err := os.MkdirTemp("", "cutmix-cam-ort-")
	if err != nil {
		return "", fmt.Errorf("onnx: fetch runtime: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, bin, "pack", spec, "--silent", "--pack-destination", tmp)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = strings.TrimSpace(msg[i+1:])
		}
		return "", fmt.Errorf("onnx: npm pack %s: %w: %s", spec, err, msg)
	}
	tgz, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgz) != 1 {
		return "", fmt.Errorf("onnx: npm pack %s left %d tarballs in %s, want 1", spec, len(tgz), tmp)
	}
	return extractVerified(tgz[0], integrity, member, dst)
}

// extractVerified checks the tarball at path against integrity and copies
// member to dst through a temporary file and a rename.
func extractVerified(path, integrity, member, dst string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("onnx: read runtime tarball: %w", err)
	}
	sum := sha512.Sum512(data)
	got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if got != integrity {
		return "", fmt.Errorf("onnx: runtime tarball %s has checksum %s, want %s: the download is corrupt or not the pinned release; clear the npm cache (npm cache clean --force) and run setup again", filepath.Base(path), got, integrity)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("onnx: runtime tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("onnx: runtime tarball has no %s", member)
		}
		if err != nil {
			return "", fmt.Errorf("onnx: runtime tarball: %w", err)
		}
		if h.Name != member || h.Typeflag != tar.TypeReg {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("onnx: cache directory: %w", err)
		}
		return dst, atomicfile.Write(dst, 0o755, func(w io.Writer) error { _, err := io.Copy(w, tr); return err })
	}
}
