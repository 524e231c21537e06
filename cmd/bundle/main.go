// Command bundle installs apps together with the infrastructure they need
// (databases, caches, ...) on Kubernetes, as one Helm-compatible release.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/bundlesh/bundle/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
