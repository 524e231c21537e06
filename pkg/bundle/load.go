package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"

	"github.com/bundlesh/bundle/pkg/resolve"
)

// Size limits applied while loading, the same as Helm's defaults.
const (
	MaxFileSize  = 5 << 20   // one file
	MaxTotalSize = 100 << 20 // a whole bundle
)

// Bundle is a loaded, validated bundle.
type Bundle struct {
	Name        string
	Version     *semver.Version
	AppVersion  string
	Description string
	// File is the parsed bundle.yaml; empty (not nil) for a plain chart.
	File *File
	// Chart is the Helm chart, including bundle.yaml among its files.
	Chart *chart.Chart
	// Source says where the bundle was loaded from, for messages.
	Source string
	// Lock is the bundle's bundle.lock, nil when it has none.
	Lock *Lock
	// SourceDigest, when the source has one (the manifest digest of an OCI
	// artifact), is what lock files record instead of Digest.
	SourceDigest string

	files []*loader.BufferedFile
	digestCache
}

// String returns NAME VERSION.
func (b *Bundle) String() string { return b.Name + " " + b.Version.String() }

// LoadDir loads the bundle in a directory on disk.
func LoadDir(dir string) (*Bundle, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{File: dir, Msg: "no such directory", Err: ErrInvalid}
		}
		return nil, err
	}
	if !st.IsDir() {
		return nil, &FileError{File: dir, Msg: "not a directory", Hint: "give the directory that holds Chart.yaml"}
	}
	return Load(os.DirFS(dir), dir)
}

// Load loads the bundle at the root of fsys. source names it in messages
// (a directory, or stable/NAME for the built-in catalog).
func Load(fsys fs.FS, source string) (*Bundle, error) {
	name := func(p string) string { return filepath.Join(source, filepath.FromSlash(p)) }

	chartYAML, err := fs.ReadFile(fsys, ChartFileName)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{File: name(ChartFileName), Msg: "not found", Hint: "a bundle is a Helm chart directory: add Chart.yaml with apiVersion: v2, name and version", Err: ErrInvalid}
		}
		return nil, fmt.Errorf("%s: %w", name(ChartFileName), err)
	}
	b, err := checkChartYAML(name(ChartFileName), chartYAML)
	if err != nil {
		return nil, err
	}
	b.Source = source

	files, err := readFiles(fsys, source)
	if err != nil {
		return nil, err
	}
	valuesLines, err := topLevelKeys(fsys, name(ValuesFileName))
	if err != nil {
		return nil, err
	}
	b.files = files
	b.Chart, err = loader.LoadFiles(files)
	if err != nil {
		return nil, &FileError{File: source, Msg: "cannot load chart: " + err.Error(), Err: ErrInvalid}
	}

	b.File = &File{}
	if data, err := fs.ReadFile(fsys, FileName); err == nil {
		if b.File, err = ParseFile(name(FileName), data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name(FileName), err)
	}
	if err := checkClashes(b, name, valuesLines); err != nil {
		return nil, err
	}
	if data, err := fs.ReadFile(fsys, LockFileName); err == nil {
		if b.Lock, err = ParseLock(name(LockFileName), data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name(LockFileName), err)
	}
	return b, nil
}

// checkChartYAML validates the fields bundle relies on, with line numbers
// (Helm's loader reports none).
func checkChartYAML(file string, data []byte) (*Bundle, error) {
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &FileError{File: file, Msg: "file is empty", Hint: "add apiVersion: v2, name and version"}
	}
	m, err := mapping(file, root, "")
	if err != nil {
		return nil, err
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i < len(m.Content); i += 2 {
		fields[m.Content[i].Value] = m.Content[i+1]
	}
	get := func(f, hint string) (string, int, error) {
		v, ok := fields[f]
		if !ok {
			return "", 1, &FileError{File: file, Line: 1, Field: f, Msg: "missing", Hint: hint}
		}
		s, err := scalar(file, v, f)
		return s, v.Line, err
	}
	api, line, err := get("apiVersion", "add apiVersion: v2")
	if err != nil {
		return nil, err
	}
	if api != "v2" {
		return nil, &FileError{File: file, Line: line, Field: "apiVersion", Msg: fmt.Sprintf("unsupported chart apiVersion %q", api), Hint: "bundles are Helm 3 charts: use apiVersion: v2"}
	}
	b := &Bundle{}
	if b.Name, line, err = get("name", "add the bundle's name"); err != nil {
		return nil, err
	}
	if !bundleRE.MatchString(b.Name) {
		return nil, &FileError{File: file, Line: line, Field: "name", Msg: fmt.Sprintf("invalid bundle name %q", b.Name), Hint: "use lower case letters, digits and -"}
	}
	v, line, err := get("version", "add a semver version such as 1.0.0")
	if err != nil {
		return nil, err
	}
	if b.Version, err = semver.StrictNewVersion(v); err != nil {
		return nil, &FileError{File: file, Line: line, Field: "version", Msg: fmt.Sprintf("invalid version %q: %v", v, err), Hint: "use strict semver such as 1.2.3"}
	}
	if n, ok := fields["appVersion"]; ok {
		b.AppVersion = n.Value
	}
	if n, ok := fields["description"]; ok {
		b.Description = n.Value
	}
	return b, nil
}

// readFiles reads every file of the bundle, honouring .helmignore, refusing
// symlinks and files over the size limits.
func readFiles(fsys fs.FS, source string) ([]*loader.BufferedFile, error) {
	rules := ignore.Empty()
	if data, err := fs.ReadFile(fsys, ".helmignore"); err == nil {
		if rules, err = ignore.Parse(strings.NewReader(string(data))); err != nil {
			return nil, &FileError{File: filepath.Join(source, ".helmignore"), Msg: err.Error(), Err: ErrInvalid}
		}
	}
	rules.AddDefaults()

	var files []*loader.BufferedFile
	total := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(p, info) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return &FileError{File: filepath.Join(source, p), Msg: "symbolic links are not allowed in a bundle", Hint: "copy the file in, or list it in .helmignore", Err: ErrInvalid}
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return &FileError{File: filepath.Join(source, p), Msg: "not a regular file", Err: ErrInvalid}
		}
		if info.Size() > MaxFileSize {
			return &FileError{File: filepath.Join(source, p), Msg: fmt.Sprintf("file is %d bytes, over the %d-byte limit", info.Size(), MaxFileSize), Hint: "list it in .helmignore", Err: ErrInvalid}
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if total += len(data); total > MaxTotalSize {
			return &FileError{File: source, Msg: fmt.Sprintf("bundle is over the %d-byte limit", MaxTotalSize), Err: ErrInvalid}
		}
		files = append(files, &loader.BufferedFile{Name: path.Clean(p), Data: data})
		return nil
	})
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return files, nil
}

// topLevelKeys parses values.yaml (if any), reporting syntax errors with a
// line, and returns the line of each top-level key.
func topLevelKeys(fsys fs.FS, file string) (map[string]int, error) {
	lines := map[string]int{}
	data, err := fs.ReadFile(fsys, ValuesFileName)
	if err != nil {
		return lines, nil
	}
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return lines, nil
	}
	if _, err := mapping(file, root, ""); err != nil {
		return nil, err
	}
	for i := 0; i < len(root.Content); i += 2 {
		lines[root.Content[i].Value] = root.Content[i].Line
	}
	return lines, nil
}

// checkClashes refuses a requirement whose instance name is already a key of
// the chart's values or a Chart.yaml dependency, and the reserved key.
func checkClashes(b *Bundle, name func(string) string, valuesLines map[string]int) error {
	if line, ok := valuesLines[RequiresKey]; ok {
		return &FileError{File: name(ValuesFileName), Line: line, Field: RequiresKey, Msg: "key is reserved: bundle puts the outputs of requirements there", Hint: "rename the key"}
	}
	deps := map[string]bool{}
	for _, d := range b.Chart.Metadata.Dependencies {
		deps[d.Name] = true
		if d.Alias != "" {
			deps[d.Alias] = true
		}
	}
	for _, r := range b.File.Requires {
		if line, ok := valuesLines[r.Name]; ok {
			return &FileError{File: name(FileName), Line: r.Line, Field: "requires." + r.Name,
				Msg:  fmt.Sprintf("instance name clashes with key %q the chart already uses (%s:%d)", r.Name, name(ValuesFileName), line),
				Hint: "rename the instance or the values key"}
		}
		if deps[r.Name] {
			return &FileError{File: name(FileName), Line: r.Line, Field: "requires." + r.Name,
				Msg:  fmt.Sprintf("instance name clashes with a dependency named %q in Chart.yaml", r.Name),
				Hint: "rename the instance or the dependency's alias"}
		}
	}
	return nil
}

// Requirements returns the bundle's requires: as solver requirements.
func (b *Bundle) Requirements() []resolve.Requirement {
	out := make([]resolve.Requirement, 0, len(b.File.Requires))
	for _, r := range b.File.Requires {
		out = append(out, resolve.Requirement{
			Ref:        resolve.Ref{Repository: r.Repository, Name: r.Bundle},
			Instance:   r.Name,
			Constraint: r.Constraint,
			Text:       r.Version,
			By:         b.String(),
		})
	}
	return out
}
