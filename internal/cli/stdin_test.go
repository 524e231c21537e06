package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
)

// runReader runs the command line in-process with stdin as the standard
// input, under ctx.
func runReader(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runEnv(ctx, append([]string{"bundle"}, args...), stdin, &out, &errb, testGetenv(nil))
	return code, out.String(), errb.String()
}

// endless is an input that never ends (as /dev/zero).
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// -f - (and --values -) reads a values file from standard input, once, in
// its place among the other files, bounded as a values file is; a second
// - is refused, and so is --confirm, which would ask on it.
func TestValuesFromStdin(t *testing.T) {
	app := testutil.Chart{Name: "app", Values: "a: chart\nb: chart\nc: chart\n", Templates: map[string]string{
		"cm.yaml": testutil.Object("v1", "ConfigMap", "app", "data:\n  a: {{ .Values.a }}\n  b: {{ .Values.b }}\n  c: {{ .Values.c }}\n"),
	}}.Write(t, t.TempDir())
	dir := t.TempDir()
	first, last := filepath.Join(dir, "first.yaml"), filepath.Join(dir, "last.yaml")
	os.WriteFile(first, []byte("a: first\nb: first\nc: first\n"), 0o644)
	os.WriteFile(last, []byte("c: last\n"), 0o644)
	tests := []struct {
		name  string
		args  []string
		stdin io.Reader
		code  int
		out   string // in stdout
		err   string // stderr, whole
	}{
		{"-f -", []string{"template", app, "-f", "-"}, strings.NewReader("a: stdin\n"), 0, "a: stdin\n  b: chart\n  c: chart\n", ""},
		{"--values -", []string{"template", app, "--values", "-"}, strings.NewReader("b: stdin\n"), 0, "a: chart\n  b: stdin\n", ""},
		{"in its place among files", []string{"template", app, "-f", first, "-f", "-", "-f", last}, strings.NewReader("b: stdin\nc: stdin\n"), 0, "a: first\n  b: stdin\n  c: last\n", ""},
		{"empty", []string{"template", app, "-f", "-"}, strings.NewReader(""), 0, "a: chart\n", ""},
		{"lint", []string{"lint", app, "-f", "-"}, strings.NewReader("a: stdin\n"), 0, "", ""},
		{"twice", []string{"template", app, "-f", "-", "-f", "-"}, strings.NewReader("a: stdin\n"), ExitUsage, "",
			"Error: -f - given twice: standard input is read once; give the other values in a file (see bundle template --help)\n"},
		{"twice in one flag", []string{"template", app, "-f", "-,-"}, strings.NewReader("a: stdin\n"), ExitUsage, "",
			"Error: -f - given twice: standard input is read once; give the other values in a file (see bundle template --help)\n"},
		{"invalid YAML", []string{"template", app, "-f", "-"}, strings.NewReader("a: [\n"), ExitError, "",
			"Error: <stdin>:1: invalid YAML: did not find expected node content\n"},
		{"duplicate keys", []string{"template", app, "-f", "-"}, strings.NewReader("a: 1\na: 2\n"), ExitError, "",
			"Error: <stdin>:2: a: duplicate key (first at line 1) (keep one)\n"},
		{"endless", []string{"template", app, "-f", "-"}, endless{}, ExitError, "",
			"Error: -f -: the values on standard input are larger than 64 MiB, the limit of a values file\n"},
		{"with --confirm", []string{"upgrade", "app", app, "-f", "-", "--confirm"}, strings.NewReader("a: stdin\n"), ExitUsage, "",
			"Error: -f - reads the values from standard input, where --confirm would ask: add --yes, or give the values in a file (see bundle upgrade --help)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var code int
			var out, errs string
			testutil.Within(t, 30*time.Second, func() { code, out, errs = runReader(t, context.Background(), tt.stdin, tt.args...) })
			if code != tt.code || !strings.Contains(out, tt.out) || (tt.err != "" && errs != tt.err) || (tt.code != 0 && strings.Count(errs, "\n") != 1) {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant exit %d, stderr %q, stdout holding %q", code, errs, out, tt.code, tt.err, tt.out)
			}
		})
	}
	if bundle.MaxValuesFileSize != 64<<20 {
		t.Errorf("the test's message says 64 MiB; the limit is %d", bundle.MaxValuesFileSize)
	}
}

// Waiting for standard input ends at an interrupt.
func TestValuesFromStdinInterrupted(t *testing.T) {
	app := testutil.Chart{Name: "app", Templates: map[string]string{"cm.yaml": testutil.Object("v1", "ConfigMap", "app", "")}}.Write(t, t.TempDir())
	r, w := io.Pipe() // open and silent
	defer w.Close()
	interrupted := errors.New("interrupted")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(200*time.Millisecond, func() { cancel(interrupted) })
	var code int
	var errs string
	testutil.Within(t, 10*time.Second, func() { code, _, errs = runReader(t, ctx, r, "template", app, "-f", "-") })
	if code != ExitError || errs != "Error: interrupted\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
