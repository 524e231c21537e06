package render

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/postrenderer"
)

// A post-renderer is named as either Helm names it:
//
//   - Helm 4: the name of an installed plugin of type postrenderer/v1
//     (found in $HELM_PLUGINS, as helm 4 --post-renderer finds it);
//   - Helm 3: an executable, a path or a name looked up in $PATH, that
//     reads the manifests on its standard input and writes them back on
//     its standard output (Helm 4 dropped these; Helm 3 users have them).
//
// A bare name that names an installed plugin is the plugin, as in Helm 4;
// anything else is an executable.

// newPostRenderer returns the post-renderer path names, with args.
func newPostRenderer(path string, args ...string) (postrenderer.PostRenderer, error) {
	if !strings.ContainsRune(path, filepath.Separator) {
		if pr, err := postrenderer.NewPostRendererPlugin(cli.New(), path, args...); err == nil {
			return pr, nil
		}
	}
	return newExecPostRenderer(path, args...)
}

// execPostRenderer runs an executable as Helm 3's --post-renderer did.
type execPostRenderer struct {
	path string
	args []string
}

// newExecPostRenderer resolves path (a name is looked up in $PATH, a
// relative path made absolute) once, before anything is rendered.
func newExecPostRenderer(path string, args ...string) (*execPostRenderer, error) {
	found, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("unable to find binary at %s: %w", path, err)
	}
	abs, err := filepath.Abs(found)
	if err != nil {
		return nil, err
	}
	return &execPostRenderer{path: abs, args: args}, nil
}

// Run pipes manifests through the executable and returns what it wrote on
// its standard output; its standard error is part of the error when it
// fails.
func (p *execPostRenderer) Run(manifests *bytes.Buffer) (*bytes.Buffer, error) {
	cmd := exec.Command(p.path, p.args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	go func() {
		defer stdin.Close()
		_, _ = io.Copy(stdin, manifests)
	}()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("error while running command %s. error output:\n%s: %w", p.path, stderr.String(), err)
	}
	return &out, nil
}
