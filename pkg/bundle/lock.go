package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	yaml "go.yaml.in/yaml/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// LockFileName is the lock file beside bundle.yaml.
const LockFileName = "bundle.lock"

// LockKind is the kind of a lock file.
const LockKind = "Lock"

// Lock is a parsed bundle.lock: every bundle the requirements resolved to,
// transitively, with its content digest, and a digest of the requirements
// the lock was made from.
type Lock struct {
	// Requires is RequiresDigest of the bundle.yaml the lock was made from.
	Requires string
	// Bundles, sorted by name.
	Bundles []LockedBundle
	// Images are the container images the resolved bundles run with their
	// default values, each by the digest its tag resolved to, sorted by
	// reference. nil means the lock records no images (bundle lock
	// --skip-images, or a lock written before images were recorded): then
	// --locked pins none; an empty list records that there are none.
	Images []LockedImage
}

// LockedBundle is one resolved bundle in a lock.
type LockedBundle struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Repository string `json:"repository"`
	// Digest is "sha256:HEX" of the packaged bundle (for OCI, of its
	// manifest).
	Digest string `json:"digest"`
}

// Find returns the locked entry for a bundle name.
func (l *Lock) Find(name string) (LockedBundle, bool) {
	return find(l.Bundles, func(b LockedBundle) bool { return b.Name == name })
}

// find returns the first of list that is wanted.
func find[T any](list []T, wanted func(T) bool) (T, bool) {
	for _, e := range list {
		if wanted(e) {
			return e, true
		}
	}
	var zero T
	return zero, false
}

// RequiresDigest digests what resolution depends on in a bundle file: each
// requirement's instance name, bundle, repository and constraint. Values and
// outputs do not change what resolves, so they are left out.
func RequiresDigest(f *File) string {
	type req struct {
		Name, Bundle, Repository, Version string
	}
	reqs := make([]req, 0, len(f.Requires))
	for _, r := range f.Requires {
		reqs = append(reqs, req{r.Name, r.Bundle, r.Repository, r.Version})
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Name < reqs[j].Name })
	data, _ := json.Marshal(reqs)
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Marshal writes the lock deterministically.
func (l *Lock) Marshal() []byte {
	var b strings.Builder
	b.WriteString("# Written by bundle lock; do not edit. bundle update moves versions.\n")
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nrequires: %s\nbundles:", APIVersion, LockKind, l.Requires)
	if len(l.Bundles) == 0 {
		b.WriteString(" []\n")
		l.marshalImages(&b)
		return []byte(b.String())
	}
	b.WriteString("\n")
	sorted := append([]LockedBundle(nil), l.Bundles...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, e := range sorted {
		fmt.Fprintf(&b, "  - name: %s\n    version: %s\n    repository: %s\n    digest: %s\n", e.Name, e.Version, quoteIfNeeded(e.Repository), e.Digest)
	}
	l.marshalImages(&b)
	return []byte(b.String())
}

func (l *Lock) marshalImages(b *strings.Builder) {
	if l.Images == nil {
		return
	}
	if len(l.Images) == 0 {
		b.WriteString("images: []\n")
		return
	}
	b.WriteString("images:\n")
	sorted := append([]LockedImage(nil), l.Images...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Image < sorted[j].Image })
	for _, e := range sorted {
		fmt.Fprintf(b, "  - image: %s\n    repository: %s\n    digest: %s\n", quoteIfNeeded(e.Image), quoteIfNeeded(e.Repository), e.Digest)
	}
}

func quoteIfNeeded(s string) string {
	if strings.ContainsAny(s, ":#{}[]&*!|>'\"%@` ") {
		q, _ := json.Marshal(s)
		return string(q)
	}
	return s
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ParseLock parses and validates a bundle.lock; errors name the file, the
// line and the field.
//
// Every error is a *FileError whose fix is to lock again (Fix.Run
// "lock DIR").
func ParseLock(name string, data []byte) (*Lock, error) {
	l, err := parseLock(name, data)
	var fe *FileError
	if errors.As(err, &fe) {
		fix := []string{"lock"}
		if dir := filepath.Dir(name); dir != "." {
			fix = append(fix, dir)
		}
		fe.Fixes = append(fe.Fixes, errdefs.Fix{Run: fix})
	}
	return l, err
}

func parseLock(name string, data []byte) (*Lock, error) {
	l := &Lock{}
	doc := document{name: name, kind: LockKind, fields: []string{"requires", "bundles", "images"}, required: true, optional: []string{"images"}}
	err := doc.parse(data, func(k, v *yaml.Node) (err error) {
		switch k.Value {
		case "requires":
			if l.Requires, err = scalar(name, v, "requires"); err != nil {
				return err
			}
			if !digestRE.MatchString(l.Requires) {
				return &FileError{File: name, Line: v.Line, Field: "requires", Msg: fmt.Sprintf("invalid digest %q", l.Requires)}
			}
		case "bundles":
			l.Bundles, err = parseLockList(name, v, "bundles", "name", parseLocked, func(e LockedBundle) string { return "bundle " + e.Name })
			return err
		case "images":
			l.Images, err = parseLockList(name, v, "images", "image", parseLockedImage, func(e LockedImage) string { return "image " + e.Image })
			if l.Images == nil && err == nil {
				l.Images = []LockedImage{} // present and empty: the lock records that there are none
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(l.Bundles, func(i, j int) bool { return l.Bundles[i].Name < l.Bundles[j].Name })
	sort.Slice(l.Images, func(i, j int) bool { return l.Images[i].Image < l.Images[j].Image })
	return l, nil
}

func parseLockedImage(file string, n *yaml.Node, field string) (LockedImage, error) {
	var e LockedImage
	var ref ImageRef
	var refLine, repoLine int
	err := lockEntry(file, n, field, []lockField{
		{"image", func(v *yaml.Node, f, s string) (err error) {
			if ref, err = ParseImage(s); err != nil {
				return &FileError{File: file, Line: v.Line, Field: f, Msg: err.Error()}
			}
			e.Image, refLine = s, v.Line
			return nil
		}},
		{"repository", func(v *yaml.Node, f, s string) error {
			if r, err := ParseImage(s); err != nil || r.Repository != s || r.Tag != "latest" {
				return &FileError{File: file, Line: v.Line, Field: f, Msg: fmt.Sprintf("invalid repository %q", s), Hint: "want HOST/PATH, without tag or digest"}
			}
			e.Repository, repoLine = s, v.Line
			return nil
		}},
		{"digest", lockedDigest(file, &e.Digest)},
	})
	if err != nil {
		return e, err
	}
	if ref.Repository != e.Repository {
		return e, &FileError{File: file, Line: repoLine, Field: field + ".repository", Msg: fmt.Sprintf("%s is not the repository of %s (%s)", e.Repository, e.Image, ref.Repository)}
	}
	if ref.Digest != "" && ref.Digest != e.Digest {
		return e, &FileError{File: file, Line: refLine, Field: field + ".digest", Msg: fmt.Sprintf("%s is not the digest written in %s", e.Digest, e.Image)}
	}
	return e, nil
}

// lockField is one string field of a lock entry: its key, and what
// checks and sets its value (the value's node, field path and text).
type lockField struct {
	key string
	set func(v *yaml.Node, f, s string) error
}

// lockEntry parses mapping n (at field), a lock entry whose keys are
// fields', each once and each required.
func lockEntry(file string, n *yaml.Node, field string, fields []lockField) error {
	m, err := mapping(file, n, field)
	if err != nil {
		return err
	}
	keys := make([]string, len(fields))
	for i, lf := range fields {
		keys[i] = lf.key
	}
	seen := 0
	err = scalarFields(file, m, field, func(k, v *yaml.Node, f, s string) error {
		for _, lf := range fields {
			if lf.key == k.Value {
				seen++
				return lf.set(v, f, s)
			}
		}
		return unknownField(file, k, field+".", strings.Join(keys, ", "))
	})
	if err != nil {
		return err
	}
	if seen < len(fields) {
		return &FileError{File: file, Line: n.Line, Field: field, Msg: "needs " + strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]}
	}
	return nil
}

// lockedDigest is the lock field that sets *d to a digest, refused unless
// sha256: and 64 hex digits.
func lockedDigest(file string, d *string) func(v *yaml.Node, f, s string) error {
	return func(v *yaml.Node, f, s string) error {
		if !digestRE.MatchString(s) {
			return &FileError{File: file, Line: v.Line, Field: f, Msg: fmt.Sprintf("invalid digest %q", s), Hint: "want sha256: and 64 hex digits"}
		}
		*d = s
		return nil
	}
}

// parseLockList parses the list field of a lock whose items parse with
// item; what names an item, and a second item of the same name is refused
// at its key's line.
func parseLockList[T any](file string, v *yaml.Node, field, key string, item func(string, *yaml.Node, string) (T, error), what func(T) string) ([]T, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, &FileError{File: file, Line: v.Line, Field: field, Msg: "must be a list"}
	}
	var out []T
	seen := map[string]int{}
	for j, n := range v.Content {
		f := fmt.Sprintf("%s[%d]", field, j)
		e, err := item(file, n, f)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[what(e)]; dup {
			return nil, &FileError{File: file, Line: n.Line, Field: f + "." + key, Msg: fmt.Sprintf("%s is locked twice (first at line %d)", what(e), prev)}
		}
		seen[what(e)] = n.Line
		out = append(out, e)
	}
	return out, nil
}

func parseLocked(file string, n *yaml.Node, field string) (LockedBundle, error) {
	var e LockedBundle
	err := lockEntry(file, n, field, []lockField{
		{"name", func(v *yaml.Node, f, s string) error {
			if !bundleRE.MatchString(s) {
				return &FileError{File: file, Line: v.Line, Field: f, Msg: fmt.Sprintf("invalid bundle name %q", s)}
			}
			e.Name = s
			return nil
		}},
		{"version", func(v *yaml.Node, f, s string) error {
			if _, err := semver.StrictNewVersion(s); err != nil {
				return &FileError{File: file, Line: v.Line, Field: f, Msg: fmt.Sprintf("invalid version %q", s)}
			}
			e.Version = s
			return nil
		}},
		{"repository", func(v *yaml.Node, f, s string) error {
			if err := checkRepository(s); err != nil {
				return &FileError{File: file, Line: v.Line, Field: f, Msg: err.Error()}
			}
			e.Repository = s
			return nil
		}},
		{"digest", lockedDigest(file, &e.Digest)},
	})
	return e, err
}
