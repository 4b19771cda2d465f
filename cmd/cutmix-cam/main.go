// Command cutmix-cam checks whether an ONNX image classifier looks at the
// object: it inspects models, predicts classes, and (in later subcommands)
// computes class activation maps, localization scores and robustness
// curves. Run "cutmix-cam --help" for the subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(int(code))
}
