package onnx

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// makeTarball writes a gzipped tar with the given members to dir and
// returns its path and sha512 integrity string.
func makeTarball(t *testing.T, dir string, members map[string]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range members {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pkg.tgz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(buf.Bytes())
	return path, "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestExtractVerified(t *testing.T) {
	dir := t.TempDir()
	member := "package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
	tgz, integrity := makeTarball(t, dir, map[string]string{member: "ELF library bytes", "package/README.md": "x"})
	dst := filepath.Join(dir, "cache", "libonnxruntime.so.1")

	if _, err := extractVerified(tgz, integrity, member, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != "ELF library bytes" {
		t.Fatalf("extracted %q, %v", got, err)
	}
	if st, _ := os.Stat(dst); st.Mode().Perm()&0o100 == 0 {
		t.Errorf("extracted library mode %v is not executable", st.Mode())
	}

	bad := "sha512-" + strings.Repeat("A", 86) + "=="
	if _, err := extractVerified(tgz, bad, member, filepath.Join(dir, "other")); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("wrong integrity: error = %v, want a checksum error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written despite the wrong checksum")
	}
	if _, err := extractVerified(tgz, integrity, "package/missing.so", filepath.Join(dir, "m")); err == nil || !strings.Contains(err.Error(), "no package/missing.so") {
		t.Errorf("missing member: error = %v", err)
	}
}

func TestRuntimeIntegrityFormat(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(runtimeIntegrity, "sha512-"))
	if err != nil || len(raw) != sha512.Size {
		t.Errorf("runtimeIntegrity does not hold a base64 sha512: %d bytes, %v", len(raw), err)
	}
}

func TestFetchWithoutNpm(t *testing.T) {
	_, err := fetchPackage(context.Background(), filepath.Join(t.TempDir(), "npm"), runtimePackage, runtimeIntegrity, "m", filepath.Join(t.TempDir(), "x"))
	if err == nil || !strings.Contains(err.Error(), "npm not found") || !strings.Contains(err.Error(), LibraryEnv) {
		t.Errorf("fetch with no npm: error = %v", err)
	}
}

// TestFetchChecksumMismatch runs the real fetch path with a stand-in npm
// that packs a tarball whose checksum is not the pinned one.
func TestFetchChecksumMismatch(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	dir := t.TempDir()
	tgz, _ := makeTarball(t, dir, map[string]string{"package/x": "y"})
	npm := filepath.Join(dir, "npm")
	script := "#!/bin/sh\n# stand-in for npm pack: copy a prepared tarball to --pack-destination\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --pack-destination ]; then cp " + tgz + " \"$2/onnxruntime-node-1.30.0.tgz\"; fi; shift; done\n"
	if err := os.WriteFile(npm, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := fetchPackage(context.Background(), npm, runtimePackage, runtimeIntegrity, "package/x", filepath.Join(dir, "out"))
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("fetch of a tampered tarball: error = %v, want a checksum error", err)
	}
}

func TestFindLibraryOrder(t *testing.T) {
	if _, _, err := platformMember(runtime.GOOS, runtime.GOARCH); err != nil {
		t.Skip(err)
	}
	_, file, _ := platformMember(runtime.GOOS, runtime.GOARCH)
	cache := t.TempDir()
	cfg := LibraryConfig{CacheDir: cache, SkipSystem: true}

	t.Setenv(LibraryEnv, "")
	if _, err := FindLibrary(cfg); !errors.Is(err, ErrNoLibrary) {
		t.Errorf("empty cache: FindLibrary error = %v, want ErrNoLibrary", err)
	}
	if !strings.Contains(ErrNoLibrary.Error(), `run "cutmix-cam setup"`) {
		t.Errorf("ErrNoLibrary does not tell the user what to run: %v", ErrNoLibrary)
	}

	cached := filepath.Join(cache, "onnxruntime", RuntimeVersion, file)
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached, []byte("lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	lib, err := FindLibrary(cfg)
	if err != nil || lib.Path != cached || lib.Source != "cache" {
		t.Errorf("FindLibrary = %+v, %v; want the cached file", lib, err)
	}
	// InstallLibrary is offline once cached: npm is never consulted.
	lib, err = InstallLibrary(context.Background(), LibraryConfig{CacheDir: cache, SkipSystem: true, Npm: "/nonexistent/npm"})
	if err != nil || lib.Source != "cache" {
		t.Errorf("InstallLibrary with a cached library = %+v, %v", lib, err)
	}

	envLib := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if err := os.WriteFile(envLib, []byte("lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(LibraryEnv, envLib)
	if lib, err := FindLibrary(cfg); err != nil || lib.Path != envLib || lib.Source != "env" {
		t.Errorf("FindLibrary with %s set = %+v, %v", LibraryEnv, lib, err)
	}
	t.Setenv(LibraryEnv, filepath.Join(t.TempDir(), "missing.so"))
	if _, err := FindLibrary(cfg); err == nil || !strings.Contains(err.Error(), LibraryEnv) {
		t.Errorf("FindLibrary with %s pointing nowhere: error = %v", LibraryEnv, err)
	}
}

func TestPlatformMember(t *testing.T) {
	for _, tc := range []struct{ goos, goarch, member string }{
		{"linux", "amd64", "package/bin/napi-v6/linux/x64/libonnxruntime.so.1"},
		{"linux", "arm64", "package/bin/napi-v6/linux/arm64/libonnxruntime.so.1"},
		{"darwin", "arm64", "package/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib"},
	} {
		m, _, err := platformMember(tc.goos, tc.goarch)
		if err != nil || m != tc.member {
			t.Errorf("platformMember(%s, %s) = %q, %v", tc.goos, tc.goarch, m, err)
		}
	}
	if _, _, err := platformMember("plan9", "386"); !errors.Is(err, ErrUnsupportedPlatform) {
		t.Errorf("plan9/386: error = %v, want ErrUnsupportedPlatform", err)
	}
}
