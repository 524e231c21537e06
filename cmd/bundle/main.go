// Command bundle installs apps together with the infrastructure they need
// (databases, caches, ...) on Kubernetes, as one Helm-compatible release.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/bundlesh/bundle/internal/cli"
)

// grace is how long a command has to end on its own once interrupted;
// then bundle exits anyway.
const grace = 700 * time.Millisecond

func main() {
	// The Helm SDK warns through the standard logger (values that do not
	// coalesce, unknown hooks); print its warnings as the helm CLI does:
	// "coalesce.go:319: warning: ...".
	log.SetFlags(log.Lshortfile)
	// Helm 4 also logs through the default slog logger (a required value
	// missing, hooks of an unknown kind, ...): its warnings and errors
	// are printed as "warning: ..." lines, its information is not (what
	// --debug shows goes through each operation's own logger).
	slog.SetDefault(slog.New(warnings{w: os.Stderr}))
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	stderr := &sealable{w: os.Stderr}
	// A password prompt turns echo off: put the terminal back on exit.
	var restore func()
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		if st, err := term.GetState(fd); err == nil {
			restore = func() { term.Restore(fd, st) }
		}
	}
	go func() {
		sig := <-sigs
		cancel(interrupted{sig})
		// A command that does not end in time, or a second signal, ends
		// here, with the same one line.
		select {
		case <-time.After(grace):
		case <-sigs:
		}
		stderr.last(fmt.Sprintf("Error: %s\n", interrupted{sig}))
		if restore != nil {
			restore()
		}
		os.Exit(exitCode(sig))
	}()
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, stderr)
	if err := context.Cause(ctx); err != nil {
		if i, ok := err.(interrupted); ok {
			code = exitCode(i.sig)
		}
	}
	stderr.seal()
	os.Exit(code)
}

// warnings prints the records of Helm's default logger at level Warn and
// above to w, one line each: "warning: MESSAGE key=value ...".
type warnings struct {
	w     io.Writer
	attrs []slog.Attr
}

func (h warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h warnings) Handle(_ context.Context, r slog.Record) error {
	line := "warning: " + r.Message
	add := func(a slog.Attr) bool {
		line += fmt.Sprintf(" %s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	_, err := fmt.Fprintln(h.w, line)
	return err
}

func (h warnings) WithAttrs(as []slog.Attr) slog.Handler {
	return warnings{w: h.w, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h warnings) WithGroup(string) slog.Handler { return h }

// interrupted is the cause of an interrupted command's cancellation; the
// command line prints it as the error.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string {
	return fmt.Sprintf("interrupted (%s)", sigName(i.sig))
}

func sigName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// exitCode is the shells' code for a command ended by sig: 128 + its
// number.
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// sealable is stderr, which the interrupt path may close for good after
// writing its last line, so that no second error line follows it.
type sealable struct {
	mu     sync.Mutex
	w      io.Writer
	sealed bool
}

func (s *sealable) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed {
		return len(p), nil
	}
	return s.w.Write(p)
}

// last writes msg unless the command already ended, and seals.
func (s *sealable) last(msg string) {
	s.mu.Lock()
	if !s.sealed {
		io.WriteString(s.w, msg)
		s.sealed = true
	}
	// Held: the process exits before anything else writes.
}

func (s *sealable) seal() {
	s.mu.Lock()
	s.sealed = true
	s.mu.Unlock()
}
