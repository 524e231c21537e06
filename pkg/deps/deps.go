// Package deps manages a bundle's resolved requirements: writing and
// checking bundle.lock (bundle lock), moving locked versions (bundle
// update), and showing the resolved tree (bundle deps).
package deps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"sync"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// LockOptions configure Lock.
type LockOptions struct {
	// Check writes nothing and fails when bundle.lock is missing or differs
	// from what bundle lock would write, or a locked digest no longer
	// matches what the source serves.
	Check bool
	// Update names bundles whose locked versions may move (bundle update);
	// UpdateAll moves every one.
	Update    []string
	UpdateAll bool
	// Images resolves the tag of every container image the resolved
	// bundles run (rendered with their default values) to its digest,
	// recorded in the lock's images:; with Check, an image whose tag now
	// resolves to another digest fails. nil resolves nothing (offline,
	// bundle lock --skip-images): the lock's images stay as they are
	// (none in a new lock), unchecked.
	Images ImageResolver
}

// ImageResolver answers the digest an image's tag resolves to;
// *repo.Images implements it.
type ImageResolver interface {
	Digest(ctx context.Context, ref bundle.ImageRef) (string, error)
}

// Change is one bundle whose locked version moved.
type Change struct {
	Name     string
	From, To string // empty From: newly locked; empty To: no longer needed
}

// LockResult says what Lock did.
type LockResult struct {
	Path    string
	Lock    *bundle.Lock
	Changes []Change
	Written bool
	// Data is the lock file's content (what was or would be written).
	Data []byte
	// Archive: the bundle is a chart archive, which is never rewritten.
	Archive bool
}

// Lock resolves the requirements of the bundle at local (a directory or a
// chart archive), keeping the versions already locked unless told to move
// them, and writes DIR/bundle.lock. An archive is never rewritten: its lock
// is checked (Check) or returned in LockResult.Data to print.
func Lock(ctx context.Context, repos plan.Loader, local string, opts LockOptions) (*LockResult, error) {
	ref, err := repo.ParseReference(local)
	if err != nil {
		return nil, err
	}
	if !ref.Local() {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"pull", local, "--untar"}}}, "%s: not a directory or chart archive: lock files belong to a bundle's source", local)
	}
	b, err := ref.LoadPath()
	if err != nil {
		return nil, err
	}
	dir := ref.Dir
	path := filepath.Join(dir, bundle.LockFileName)
	if ref.Archive != "" {
		path = ref.Archive + ":" + bundle.LockFileName
	}
	for _, name := range opts.Update {
		if b.Lock == nil {
			break
		}
		if _, ok := b.Lock.Find(name); !ok {
			return nil, fmt.Errorf("bundle update: %s is not in %s (locked: %s)", name, path, lockedNames(b.Lock))
		}
	}
	pl, err := plan.Resolve(ctx, repos, b, plan.Options{Locked: opts.Check, Update: opts.Update, UpdateAll: opts.UpdateAll})
	if err != nil {
		return nil, err
	}
	l, err := pl.Lock()
	if err != nil {
		return nil, err
	}
	switch {
	case opts.Images != nil:
		if l.Images, err = lockImages(ctx, pl, opts.Images); err != nil {
			return nil, err
		}
	case b.Lock != nil:
		l.Images = b.Lock.Images
	}
	res := &LockResult{Path: path, Lock: l, Changes: diff(b.Lock, l)}
	data := l.Marshal()
	res.Data, res.Archive = data, ref.Archive != ""
	if opts.Check {
		if err := movedImage(path, local, b.Lock, l); err != nil {
			return nil, err
		}
		old, ok := b.ReadFile(bundle.LockFileName)
		if !ok {
			err = fs.ErrNotExist
		}
		if ref.Archive == "" {
			old, err = userfile.Read("", path, bundle.MaxFileSize)
		}
		if err != nil || !bytes.Equal(old, data) {
			return nil, errdefs.Fixable(plan.ErrLockStale, []errdefs.Fix{{Run: []string{"lock", local}}}, "%s is out of date", path)
		}
		return res, nil
	}
	if ref.Archive != "" {
		return res, nil // an archive is not rewritten: the caller prints Data
	}
	if old, err := userfile.Read("", path, bundle.MaxFileSize); err == nil && bytes.Equal(old, data) {
		return res, nil
	}
	if err := bundle.WriteFileAtomic(path, data); err != nil {
		return nil, err
	}
	res.Written = true
	return res, nil
}

func lockedNames(l *bundle.Lock) string {
	var s string
	for i, e := range l.Bundles {
		if i > 0 {
			s += ", "
		}
		s += e.Name
	}
	if s == "" {
		return "none"
	}
	return s
}

func diff(old, nu *bundle.Lock) []Change {
	var out []Change
	if old == nil {
		old = &bundle.Lock{}
	}
	for _, n := range nu.Bundles {
		o, ok := old.Find(n.Name)
		switch {
		case !ok:
			out = append(out, Change{Name: n.Name, To: n.Version})
		case o.Version != n.Version:
			out = append(out, Change{Name: n.Name, From: o.Version, To: n.Version})
		}
	}
	for _, o := range old.Bundles {
		if _, ok := nu.Find(o.Name); !ok {
			out = append(out, Change{Name: o.Name, From: o.Version})
		}
	}
	return out
}

// Tree is the resolved requirement tree of a bundle, for bundle deps.
type Tree struct {
	Bundle     string  `json:"bundle"`
	Version    string  `json:"version"`
	Instance   string  `json:"instance,omitempty"`
	Repository string  `json:"repository,omitempty"`
	Constraint string  `json:"constraint,omitempty"`
	RequiredBy string  `json:"requiredBy,omitempty"`
	Condition  string  `json:"condition,omitempty"`
	Requires   []*Tree `json:"requires,omitempty"`
}

// Deps resolves a bundle (a directory or a repository reference) and
// returns its requirement tree: each node's version, the constraint it
// satisfies and who imposed it.
func Deps(ctx context.Context, repos plan.References, ref string) (*Tree, error) {
	r, err := repo.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	b, err := repos.LoadReference(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	pl, err := plan.Resolve(ctx, repos, b, plan.Options{})
	if err != nil {
		return nil, err
	}
	var build func(n *plan.Node, parent string) *Tree
	build = func(n *plan.Node, parent string) *Tree {
		t := &Tree{Bundle: n.Bundle.Name, Version: n.Bundle.Version.String()}
		if n.Requirement != nil {
			t.Instance, t.Repository, t.Constraint, t.RequiredBy, t.Condition = n.Requirement.Name, n.Requirement.Repository, n.Requirement.Version, parent, n.Requirement.Condition
		}
		for _, c := range n.Requires {
			t.Requires = append(t.Requires, build(c, n.Bundle.String()))
		}
		return t
	}
	return build(pl.Root, ""), nil
}

// lockImages renders the plan with its default values, finds every image
// its objects and hooks run, and resolves each tag to its digest, sorted
// by reference.
func lockImages(ctx context.Context, pl *plan.Plan, r ImageResolver) ([]bundle.LockedImage, error) {
	pl.LockedImages = nil // the images as the bundles write them
	rendered, err := render.Render(ctx, pl, render.TemplateOptions{})
	if err != nil {
		return nil, offline(fmt.Errorf("finding the images %s runs: %w", pl.Root.Bundle, err), errdefs.ErrInvalid)
	}
	ms, err := rendered.Manifests()
	if err != nil {
		return nil, offline(fmt.Errorf("finding the images %s runs: %w", pl.Root.Bundle, err), errdefs.ErrInvalid)
	}
	var refs []bundle.ImageRef
	seen := map[string]bool{}
	for _, u := range render.Images(ms) {
		if seen[u.Image] {
			continue
		}
		seen[u.Image] = true
		ref, err := bundle.ParseImage(u.Image)
		if err != nil {
			return nil, fmt.Errorf("%s %s (%s): %s: %w", u.Kind, u.Name, u.Source, u.Container, err)
		}
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Written < refs[j].Written })
	out := make([]bundle.LockedImage, len(refs))
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // a few registry requests at a time
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := r.Digest(ctx, ref)
			out[i], errs[i] = bundle.LockedImage{Image: ref.Written, Repository: ref.Repository, Digest: d}, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// The first by reference, whatever finished first.
			return nil, offline(err, errdefs.ErrUnreachable)
		}
	}
	return out, nil
}

// offline adds locking without images (--skip-images) to the fixes of an
// error finding or resolving them; kind is its kind unless it has one.
func offline(err error, kind error) error {
	var fixes []errdefs.Fix
	var fe *errdefs.Error
	if errors.As(err, &fe) {
		fixes = append(fixes, fe.Fixes...)
	}
	for _, k := range []error{errdefs.ErrNotFound, errdefs.ErrInvalid, errdefs.ErrUnreachable} {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	return &errdefs.Error{Kind: kind, Msg: err.Error(), Fixes: append(fixes, errdefs.Fix{Options: []string{"skip-images"}, Use: true}), Err: err}
}

// movedImage reports, in one line, an image locked by old whose tag now
// resolves to another digest in nu.
func movedImage(path, local string, old, nu *bundle.Lock) error {
	if old == nil {
		return nil
	}
	for _, n := range nu.Images {
		if o, ok := old.FindImage(n.Image); ok && o.Digest != n.Digest {
			return errdefs.Fixable(plan.ErrLockStale, []errdefs.Fix{{Run: []string{"lock", local}}},
				"image %s moved: %s locks %s, its registry now serves %s", n.Image, path, o.Digest, n.Digest)
		}
	}
	return nil
}
