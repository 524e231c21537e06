package repo

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress draws one blob's transfer as a bar on a terminal line:
//
//	chart sha256:1a2b3c4d5e6f [##########          ]  50%  12.0/24.0 KiB
type progress struct {
	r     io.Reader
	w     io.Writer
	label string
	total int64
	done  int64
	last  int
}

func newProgress(w io.Writer, label string, total int64, r io.Reader) io.Reader {
	if w == nil {
		return r
	}
	p := &progress{r: r, w: w, label: label, total: total, last: -1}
	p.draw()
	return p
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.draw()
	if err == io.EOF {
		fmt.Fprintln(p.w)
	}
	return n, err
}

func (p *progress) draw() {
	pct := 100
	if p.total > 0 {
		pct = int(p.done * 100 / p.total)
	}
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 20
	bar := strings.Repeat("#", pct*width/100) + strings.Repeat(" ", width-pct*width/100)
	fmt.Fprintf(p.w, "\r%s [%s] %3d%%  %.1f/%.1f KiB", p.label, bar, pct, float64(p.done)/1024, float64(p.total)/1024)
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// syncWriter returns w with its writes serialized: the blobs of an image
// are copied concurrently, and each draws its own bar on the same writer.
// nil stays nil (no progress).
func syncWriter(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
