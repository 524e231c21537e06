// Package deps manages a bundle's resolved requirements: writing and
// checking bundle.lock (bundle lock), moving locked versions (bundle
// update), and showing the resolved tree (bundle deps).
package deps

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
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
	res := &LockResult{Path: path, Lock: l, Changes: diff(b.Lock, l)}
	data := l.Marshal()
	res.Data, res.Archive = data, ref.Archive != ""
	if opts.Check {
		old, ok := b.ReadFile(bundle.LockFileName)
		if !ok {
			err = fs.ErrNotExist
		}
		if ref.Archive == "" {
			old, err = os.ReadFile(path)
		}
		if err != nil || !bytes.Equal(old, data) {
			return nil, errdefs.Fixable(plan.ErrLockStale, []errdefs.Fix{{Run: []string{"lock", local}}}, "%s is out of date", path)
		}
		return res, nil
	}
	if ref.Archive != "" {
		return res, nil // an archive is not rewritten: the caller prints Data
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
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
