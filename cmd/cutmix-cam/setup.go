package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

type setupOptions struct {
	g        *globalOptions
	cacheDir string
	npm      string
}

func newSetupCmd(g *globalOptions, runF func(*setupOptions) error) *cobra.Command {
	o := &setupOptions{g: g}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Find or install the ONNX Runtime library and print its path",
		Long: fmt.Sprintf(`Find the ONNX Runtime shared library, in this order: $%s; the cache
(~/.cache/cutmix-cam/onnxruntime/%s/); a Python onnxruntime install; the
system library folders. If none is found, fetch the pinned npm package
onnxruntime-node@%s with "npm pack", verify its sha512, and extract the
library into the cache. Idempotent; offline once cached.`, onnx.LibraryEnv, onnx.RuntimeVersion, onnx.RuntimeVersion),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runSetup(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.cacheDir, "cache-dir", "", "cache root (default $XDG_CACHE_HOME/cutmix-cam)")
	cmd.Flags().StringVar(&o.npm, "npm", "npm", "npm executable used to fetch the runtime")
	return cmd
}

func runSetup(cmd *cobra.Command, o *setupOptions) error {
	cfg := onnx.LibraryConfig{CacheDir: o.cacheDir, Npm: o.npm}
	lib, err := onnx.InstallLibrary(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	rt, err := onnx.Init(lib.Path)
	if err != nil {
		return err
	}
	ver := rt.Version()
	if err := rt.Close(); err != nil {
		return err
	}
	if o.g.json {
		return json.NewEncoder(o.g.out).Encode(map[string]any{
			"schema_version": 1, "seed": o.g.seed,
			"library": lib.Path, "source": lib.Source, "version": ver,
		})
	}
	fmt.Fprintln(o.g.out, lib.Path)
	if !o.g.quiet {
		fmt.Fprintf(o.g.errOut, "ONNX Runtime %s (%s)\n", ver, lib.Source)
	}
	return nil
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// minArgs requires at least n positional arguments named what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}
