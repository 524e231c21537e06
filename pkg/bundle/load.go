package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"

	"github.com/bundlesh/bundle/pkg/resolve"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// Size limits applied while loading, the same as Helm's defaults.
const (
	MaxFileSize  = 5 << 20   // one file
	MaxTotalSize = 100 << 20 // a whole bundle
)

// MaxValuesFileSize bounds a values file (-f) and a --set-file file: far
// more than a release can hold (its record, compressed, is at most 1 MiB),
// so that only a path to the wrong file is refused.
const MaxValuesFileSize = 64 << 20

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

	files []*archive.BufferedFile
	digestCache
}

// String returns NAME VERSION.
func (b *Bundle) String() string { return b.Name + " " + b.Version.String() }

// LoadDir loads the bundle in a directory on disk as Helm loads a chart
// directory: dependencies must be vendored under charts/ (install and
// template refuse them otherwise, as Helm does).
func LoadDir(dir string) (*Bundle, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	return LoadLocal(os.DirFS(dir), dir, nil)
}

// LoadDirBuildingDeps loads the bundle in a directory on disk, vendoring
// the file:// dependencies of its Chart.yaml from the directories they name
// (see LoadLocal), as helm package --dependency-update does for them:
// bundle package and push build a chart archive that carries them.
func LoadDirBuildingDeps(dir string) (*Bundle, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	return LoadLocal(os.DirFS(dir), dir, func(p string) (fs.FS, string, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return os.DirFS(p), p, nil
	})
}

func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &FileError{File: dir, Msg: "no such directory", Err: ErrInvalid}
		}
		return err
	}
	if !st.IsDir() {
		return &FileError{File: dir, Msg: "not a directory", Hint: "give the directory that holds Chart.yaml"}
	}
	return nil
}

// Load loads the bundle at the root of fsys. source names it in messages
// (a directory, or stable/NAME for the built-in catalog).
//
// A bundle is any chart Helm 3 loads: apiVersion v2, v1 (dependencies in
// requirements.yaml and requirements.lock, vendored under charts/) or none
// (read as v1, as Helm does), of type application or library; bundle.yaml
// may sit beside any of them. Every file is checked (no symlinks, regular
// files only, size limits, .helmignore) before any is parsed.
func Load(fsys fs.FS, source string) (*Bundle, error) {
	return LoadLocal(fsys, source, nil)
}

// LocalCharts finds the chart a file:// dependency of Chart.yaml points at:
// given the path written after file:// (relative to the bundle's
// directory, or absolute), it returns the chart's files and a name for
// them in messages.
type LocalCharts func(p string) (fs.FS, string, error)

// LoadLocal is Load for a bundle that sits among other charts (a directory
// on disk, a catalog): each Chart.yaml dependency whose repository is
// file://PATH and that charts/ does not already vendor is vendored from
// PATH, found through local, as charts/NAME/ — the chart helm dependency
// build would put there, so that the bundle installs, renders and packages
// (its archive carrying the dependency, as a Helm chart archive must) the
// same as if it had been built. The dependency's version must satisfy the
// constraint; its own dependencies are taken as its directory holds them,
// as Helm takes them. local nil vendors nothing: an archive must carry its
// dependencies.
//
// One copy of a shared chart (the catalog's library chart) thus serves
// every chart that depends on it, and the files a bundle is made of, hence
// its package and digest, are the same bytes whenever the two directories
// are.
func LoadLocal(fsys fs.FS, source string, local LocalCharts) (*Bundle, error) {
	name := func(p string) string { return filepath.Join(source, filepath.FromSlash(p)) }

	files, err := readFiles(fsys, source)
	if err != nil {
		return nil, err
	}
	byName := map[string][]byte{}
	for _, f := range files {
		byName[f.Name] = f.Data
	}
	chartYAML, ok := byName[ChartFileName]
	if !ok {
		return nil, &FileError{File: name(ChartFileName), Msg: "not found", Hint: "a bundle is a Helm chart directory: add Chart.yaml with apiVersion: v2, name and version", Err: ErrInvalid}
	}
	b, err := checkChartYAML(name(ChartFileName), chartYAML)
	if err != nil {
		return nil, err
	}
	b.Source = source

	valuesLines, err := topLevelKeys(byName, name(ValuesFileName))
	if err != nil {
		return nil, err
	}
	b.Chart, err = loader.LoadFiles(files)
	if err != nil {
		return nil, helmLoadError(source, err)
	}
	if local != nil {
		more, err := vendorLocal(b.Chart, name(ChartFileName), local)
		if err != nil {
			return nil, err
		}
		if len(more) > 0 {
			files = append(files, more...)
			if err := checkTotal(files, source); err != nil {
				return nil, err
			}
			if b.Chart, err = loader.LoadFiles(files); err != nil {
				return nil, helmLoadError(source, err)
			}
		}
	}
	b.files = files

	b.File = &File{}
	if data, ok := byName[FileName]; ok {
		if b.File, err = ParseFile(name(FileName), data); err != nil {
			return nil, err
		}
		if err := loadClaimTemplates(b.File.Claims, b.Chart, name(FileName), name); err != nil {
			return nil, err
		}
		if err := loadBackupScripts(b.File.Backup, b.Chart, name(FileName)); err != nil {
			return nil, err
		}
	}
	if err := checkClashes(b, name, valuesLines); err != nil {
		return nil, err
	}
	if data, ok := byName[LockFileName]; ok {
		if b.Lock, err = ParseLock(name(LockFileName), data); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// LocalPrefix starts the repository of a Chart.yaml dependency that is a
// chart directory on the same machine, as Helm writes it.
const LocalPrefix = "file://"

// vendorLocal returns, under charts/NAME/, the files of each file://
// dependency of c's Chart.yaml (requirements.yaml for apiVersion v1) that
// charts/ does not vendor. file names Chart.yaml in messages.
func vendorLocal(c *chart.Chart, file string, local LocalCharts) ([]*archive.BufferedFile, error) {
	have := map[string]bool{}
	for _, d := range c.Dependencies() {
		have[d.Name()] = true
	}
	var out []*archive.BufferedFile
	for _, d := range c.Metadata.Dependencies {
		p, ok := strings.CutPrefix(d.Repository, LocalPrefix)
		if !ok || have[d.Name] {
			continue
		}
		bad := func(hint, format string, args ...any) error {
			return &FileError{File: file, Field: "dependencies." + d.Name, Msg: fmt.Sprintf(format, args...), Hint: hint, Err: ErrInvalid}
		}
		fsys, source, err := local(p)
		if err != nil {
			return nil, bad("", "repository %s: %v", d.Repository, err)
		}
		if st, err := fs.Stat(fsys, "."); err != nil || !st.IsDir() {
			return nil, bad("vendor the chart under charts/, or correct the path", "repository %s: no such directory %s", d.Repository, source)
		}
		dep, err := Load(fsys, source)
		if err != nil {
			return nil, err
		}
		if dep.Name != d.Name {
			return nil, bad("", "repository %s holds chart %q, not %q", d.Repository, dep.Name, d.Name)
		}
		if d.Version != "" {
			cons, err := semver.NewConstraint(d.Version)
			if err != nil {
				return nil, bad("", "invalid version constraint %q: %v", d.Version, err)
			}
			if !cons.Check(dep.Version) {
				return nil, bad("change the constraint, or the chart at "+source, "%s is %s %s, which does not satisfy %s", d.Repository, dep.Name, dep.Version, d.Version)
			}
		}
		dir := path.Join("charts", d.Name) + "/"
		for _, f := range c.Raw {
			if strings.HasPrefix(f.Name, dir) {
				return nil, bad("", "%s holds another chart than %s: cannot vendor it there", dir, d.Name)
			}
		}
		have[d.Name] = true
		for _, f := range dep.files {
			out = append(out, &archive.BufferedFile{Name: path.Join("charts", d.Name, f.Name), Data: f.Data})
		}
	}
	return out, nil
}

// checkTotal refuses files over MaxTotalSize together.
func checkTotal(files []*archive.BufferedFile, source string) error {
	total := 0
	for _, f := range files {
		total += len(f.Data)
	}
	if total > MaxTotalSize {
		return &FileError{File: source, Msg: fmt.Sprintf("bundle is over the %d-byte limit with its file:// dependencies", MaxTotalSize), Err: ErrInvalid}
	}
	return nil
}

// helmLoadError reports what Helm's chart loader refused, on one line,
// naming the file when Helm's message does.
func helmLoadError(source string, err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	file := source
	for _, f := range []string{"Chart.yaml", "Chart.lock", "values.yaml", "requirements.yaml", "requirements.lock"} {
		if p := "cannot load " + f + ": "; strings.HasPrefix(msg, p) {
			file, msg = filepath.Join(source, f), strings.TrimPrefix(msg, p)
			break
		}
	}
	if m, ok := strings.CutPrefix(msg, "validation: "); ok {
		// Chart.yaml's metadata (or requirements.yaml's dependencies).
		file = filepath.Join(source, ChartFileName)
		msg = strings.TrimPrefix(m, "chart.metadata.")
	}
	return &FileError{File: file, Msg: msg, Err: ErrInvalid}
}

// Chart types (Chart.yaml type:), as Helm defines them.
const (
	TypeApplication = "application"
	TypeLibrary     = "library"
)

// IsLibrary reports whether the bundle's chart is a library chart: one that
// only provides templates to the charts that depend on it.
func (b *Bundle) IsLibrary() bool { return b.Chart.Metadata.Type == TypeLibrary }

// CheckInstallable refuses what Helm refuses to install or template: a
// library chart, and dependencies declared in Chart.yaml (requirements.yaml
// for apiVersion v1) that are not vendored under charts/.
func (b *Bundle) CheckInstallable() error {
	switch v := b.Chart.Metadata.APIVersion; v {
	case chart.APIVersionV1, chart.APIVersionV2:
	case "v3":
		// Helm 4.3's actions take only v2 charts (its chart v3 is
		// internal), with or without its switch.
		return &FileError{File: filepath.Join(b.Source, "Chart.yaml"), Msg: "chart apiVersion v3 (Helm 4's experimental chart format) cannot be installed or rendered",
			Hint: "helm 4.3 refuses it too, with or without HELM_EXPERIMENTAL_CHART_V3: use apiVersion: v2", Err: ErrInvalid}
	default:
		return &FileError{File: filepath.Join(b.Source, "Chart.yaml"), Msg: fmt.Sprintf("invalid chart apiVersion %q", v),
			Hint: "use apiVersion: v2, or v1 for Helm 2's charts", Err: ErrInvalid}
	}
	if b.IsLibrary() {
		return &FileError{File: b.Source, Msg: "library charts are not installable", Hint: "a library chart only provides templates to charts that depend on it: install a chart that lists it under dependencies", Err: ErrInvalid}
	}
	have := map[string]bool{}
	for _, d := range b.Chart.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range b.Chart.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		where := "Chart.yaml"
		if b.Chart.Metadata.APIVersion == "v1" {
			if _, ok := b.ReadFile("requirements.yaml"); ok {
				where = "requirements.yaml"
			}
		}
		return &FileError{File: filepath.Join(b.Source, where), Msg: "dependencies missing in charts/: " + strings.Join(missing, ", "), Hint: "vendor them with helm dependency build", Err: ErrInvalid}
	}
	return nil
}

// ReadFile returns the content of one of the bundle's files (a path
// relative to its root, such as bundle.lock).
func (b *Bundle) ReadFile(name string) ([]byte, bool) {
	for _, f := range b.files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// checkChartYAML validates the fields bundle relies on with line numbers
// (Helm's loader reports none), accepting exactly what Helm 3 accepts:
// apiVersion v2, v1 or none (v1), any name Helm allows, a version Helm's
// semver parser reads, type application or library.
func checkChartYAML(file string, data []byte) (*Bundle, error) {
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &FileError{File: file, Msg: "file is empty", Hint: "add apiVersion: v2, name and version"}
	}
	// Helm reads Chart.yaml leniently: a duplicate key is no error, the
	// later one wins (real charts have them).
	m, err := helmMapping(file, root)
	if err != nil {
		return nil, err
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i < len(m.Content); i += 2 {
		fields[m.Content[i].Value] = m.Content[i+1]
	}
	get := func(f, hint string) (string, int, error) {
		v, ok := fields[f]
		if !ok || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
			return "", 1, &FileError{File: file, Line: 1, Field: f, Msg: "missing", Hint: hint}
		}
		s, err := scalar(file, v, f)
		return s, v.Line, err
	}
	if n, ok := fields["apiVersion"]; ok {
		if _, err := scalar(file, n, "apiVersion"); err != nil {
			return nil, err
		}
	}
	b := &Bundle{}
	var line int
	if b.Name, line, err = get("name", "add the bundle's name"); err != nil {
		return nil, err
	}
	if b.Name == "" || b.Name == "." || b.Name == ".." || strings.ContainsAny(b.Name, `/\`) {
		return nil, &FileError{File: file, Line: line, Field: "name", Msg: fmt.Sprintf("invalid chart name %q", b.Name), Hint: "use lower case letters, digits and -"}
	}
	v, line, err := get("version", "add a semver version such as 1.0.0")
	if err != nil {
		return nil, err
	}
	if b.Version, err = semver.NewVersion(v); err != nil {
		return nil, &FileError{File: file, Line: line, Field: "version", Msg: fmt.Sprintf("invalid version %q: %v", v, err), Hint: "use semver such as 1.2.3"}
	}
	if n, ok := fields["type"]; ok {
		t, err := scalar(file, n, "type")
		if err != nil {
			return nil, err
		}
		if t != "" && t != TypeApplication && t != TypeLibrary {
			return nil, &FileError{File: file, Line: n.Line, Field: "type", Msg: fmt.Sprintf("unknown chart type %q", t), Hint: "use application or library"}
		}
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
func readFiles(fsys fs.FS, source string) ([]*archive.BufferedFile, error) {
	rules := ignore.Empty()
	if data, err := readRegular(fsys, ".helmignore", source); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	} else {
		if rules, err = ignore.Parse(strings.NewReader(string(data))); err != nil {
			return nil, &FileError{File: filepath.Join(source, ".helmignore"), Msg: err.Error(), Err: ErrInvalid}
		}
	}
	rules.AddDefaults()

	var files []*archive.BufferedFile
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
		data, err := readRegular(fsys, p, source)
		if err != nil {
			return err
		}
		if total += len(data); total > MaxTotalSize {
			return &FileError{File: source, Msg: fmt.Sprintf("bundle is over the %d-byte limit", MaxTotalSize), Err: ErrInvalid}
		}
		// Helm drops a UTF-8 byte order mark.
		data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
		files = append(files, &archive.BufferedFile{Name: path.Clean(p), Data: data})
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

// helmMapping checks that n is a mapping, as Helm's reader does: duplicate
// keys are allowed (the later wins).
func helmMapping(file string, n *yaml.Node) (*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, &FileError{File: file, Line: n.Line, Msg: fmt.Sprintf("the file must be a mapping, not %s", kindName(n))}
	}
	return n, nil
}

// LoadArchiveFile loads a bundle from a chart archive on disk (a .tgz that
// bundle package or helm package wrote).
func LoadArchiveFile(file string) (*Bundle, error) {
	data, err := ReadArchiveFile(file)
	if err != nil {
		return nil, err
	}
	return LoadArchive(data, file)
}

// ReadArchiveFile reads a chart archive from disk: nothing but a regular
// file, and at most MaxTotalSize bytes of it.
func ReadArchiveFile(file string) ([]byte, error) {
	data, err := userfile.Read("", file, MaxTotalSize)
	var refused *userfile.Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &FileError{File: file, Msg: "no such file", Err: ErrInvalid}
	case errors.As(err, &refused) && refused.Limit > 0:
		return nil, &FileError{File: file, Msg: fmt.Sprintf("archive is over the %d-byte limit", MaxTotalSize), Err: ErrInvalid}
	case errors.As(err, &refused):
		return nil, &FileError{File: file, Msg: "not a chart archive: not a regular file (" + userfile.TypeName(refused.Mode) + ")", Err: ErrInvalid}
	case err != nil:
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return data, nil
}

// readRegular reads one file of a bundle, refusing anything but a regular
// file (a symlink, a FIFO that would block, a device that never ends) and
// reading at most MaxFileSize+1 bytes whatever the file claims.
func readRegular(fsys fs.FS, p, source string) ([]byte, error) {
	if lst, ok := fsys.(fs.ReadLinkFS); ok {
		if fi, err := lst.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, &FileError{File: filepath.Join(source, p), Msg: "symbolic links are not allowed in a bundle", Hint: "copy the file in, or list it in .helmignore", Err: ErrInvalid}
		}
	}
	return readLimited(fsys, p, limited{display: filepath.Join(source, p), notRegular: "not a regular file",
		what: "file", limit: MaxFileSize, hint: "list it in .helmignore"})
}

// limited says how readLimited names a file and what it allows.
type limited struct {
	display    string // the file as errors name it
	notRegular string // the problem when it is not a regular file
	what       string // "file", "archive"
	limit      int    // bytes
	hint       string // how to keep under the limit; may be empty
}

// readLimited reads p from fsys: a regular file only (stat before opening:
// opening a FIFO blocks until a writer comes), and at most l.limit bytes
// whatever the file claims.
func readLimited(fsys fs.FS, p string, l limited) ([]byte, error) {
	fi, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{File: l.display, Msg: l.notRegular, Err: ErrInvalid}
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(l.limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.display, err)
	}
	if len(data) > l.limit {
		return nil, &FileError{File: l.display, Msg: fmt.Sprintf("%s is over the %d-byte limit", l.what, l.limit), Hint: l.hint, Err: ErrInvalid}
	}
	return data, nil
}

// topLevelKeys parses values.yaml (if any), reporting syntax errors with a
// line, and returns the line of each top-level key.
func topLevelKeys(files map[string][]byte, file string) (map[string]int, error) {
	lines := map[string]int{}
	data, ok := files[ValuesFileName]
	if !ok {
		return lines, nil
	}
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return lines, nil
	}
	// As in Chart.yaml, Helm lets a later duplicate key win in a chart's
	// values.yaml. (Values files given with -f are read strictly.)
	if _, err := helmMapping(file, root); err != nil {
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
