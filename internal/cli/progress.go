package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/release"
)

// progressTo is where a command's wait reports to, w (its stderr): on a
// terminal a live view redrawn in place, elsewhere one line per change of a
// resource's state.
func progressTo(w io.Writer) release.Progress {
	v := &progressView{w: w, start: time.Now(), rows: map[string]int{}}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		v.live = true
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			v.width = w
		}
	}
	return v.update
}

// progressView shows the states of the resources a wait watches.
type progressView struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool // redraw in place (a terminal)
	width  int  // the terminal's, 0: unknown
	start  time.Time
	rows   map[string]int // resource -> index in states
	states []release.ResourceState
	drawn  int // lines drawn by the last redraw
}

func (v *progressView) update(rs release.ResourceState) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := rs.Kind + "/" + rs.Namespace + "/" + rs.Name
	i, ok := v.rows[key]
	if !ok {
		i = len(v.states)
		v.rows[key] = i
		v.states = append(v.states, rs)
	}
	v.states[i] = rs
	if !v.live {
		if rs.State != release.StateWaiting { // every resource starts so: no news
			fmt.Fprintln(v.w, progressLine(rs))
		}
		return
	}
	v.redraw()
}

// progressLine is a resource's state as one line, e.g. "StatefulSet
// magento-cache: in progress: Ready: 1/3".
func progressLine(rs release.ResourceState) string {
	s := rs.String() + ": " + string(rs.State)
	if rs.Message != "" && rs.State != release.StateReady {
		s += ": " + rs.Message
	}
	return s
}

// redraw draws the view over the one drawn before: a heading, then a line
// per resource, each cut to the terminal's width so that none wraps.
func (v *progressView) redraw() {
	ready := 0
	for _, s := range v.states {
		if s.State == release.StateReady {
			ready++
		}
	}
	lines := []string{fmt.Sprintf("Waiting for %d resources: %d ready (%s)", len(v.states), ready, time.Since(v.start).Round(time.Second))}
	for _, s := range v.states {
		mark := "…"
		switch s.State {
		case release.StateReady:
			mark = "✓"
		case release.StateFailed, release.StateNotFound:
			mark = "✗"
		}
		line := fmt.Sprintf("  %s %-40s %-11s %s", mark, s.String(), s.State, s.Message)
		lines = append(lines, strings.TrimRight(cut(line, v.width), " "))
	}
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	for _, l := range lines {
		b.WriteString("\r\x1b[2K" + l + "\n")
	}
	io.WriteString(v.w, b.String())
	v.drawn = len(lines)
}

// cut shortens s to width-1 characters (none wraps); width 0: as is.
func cut(s string, width int) string {
	if width <= 0 {
		return s
	}
	r := []rune(s)
	if len(r) < width {
		return s
	}
	return string(r[:width-2]) + "…"
}

// printError prints a command's error: "Error: " and one line, then, for
// objects the API server rejected, one indented line per object saying
// why; for a wait that ended with resources not ready, one indented line
// per resource saying why (as last seen, when the API server did not
// answer), and what to try.
func printError(w io.Writer, err error) {
	fmt.Fprintln(w, "Error: "+oneLine(withHints(err)))
	var re *release.RejectedError
	if errors.As(err, &re) {
		for _, o := range re.Objects {
			fmt.Fprintln(w, "  "+oneLine(o.String()))
		}
		return
	}
	var we *release.WaitError
	if !errors.As(err, &we) || len(we.Resources) == 0 {
		return
	}
	for _, r := range we.Resources {
		fmt.Fprintln(w, "  "+oneLine(r.String()))
	}
	if we.Unreachable > 0 {
		fmt.Fprintf(w, "Try: kubectl get --raw /readyz; if the API server was only restarting, a longer --timeout (it was %s)\n", we.Timeout)
		return
	}
	first := we.Resources[0]
	ns := ""
	if first.Namespace != "" {
		ns = " -n " + first.Namespace
	}
	try := fmt.Sprintf("Try: kubectl describe%s %s %s, and kubectl get events%s", ns, strings.ToLower(first.Kind), first.Name, ns)
	if we.Timeout > 0 {
		try += fmt.Sprintf("; if it is only slow, a longer --timeout (it was %s)", we.Timeout)
	}
	fmt.Fprintln(w, try)
}
