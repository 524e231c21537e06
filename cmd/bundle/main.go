// Command bundle installs apps together with the infrastructure they need
// (databases, caches, ...) on Kubernetes, as one Helm-compatible release.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/bundlesh/bundle/internal/cli"
)

func main() {
	// The Helm SDK warns through the standard logger (values that do not
	// coalesce, unknown hooks); print its warnings as the helm CLI does:
	// "coalesce.go:319: warning: ...".
	log.SetFlags(log.Lshortfile)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
