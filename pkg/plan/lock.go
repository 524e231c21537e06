package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// ErrLockStale is matched by errors saying a lock no longer matches its
// bundle file or what the sources serve.
var ErrLockStale = errdefs.ErrStale

// Lock returns the lock file for the plan: every bundle resolved, with its
// version, repository and content digest, and the digest of the root's
// requirements.
func (p *Plan) Lock() (*bundle.Lock, error) {
	l := &bundle.Lock{Requires: bundle.RequiresDigest(p.Root.Bundle.File), Bundles: []bundle.LockedBundle{}}
	seen := map[string]bool{}
	var walk func(n *Node) error
	walk = func(n *Node) error {
		for _, c := range n.Requires {
			if !seen[c.Bundle.Name] {
				seen[c.Bundle.Name] = true
				d, err := Digest(c.Requirement.Repository, c.Bundle)
				if err != nil {
					return err
				}
				l.Bundles = append(l.Bundles, bundle.LockedBundle{Name: c.Bundle.Name, Version: c.Bundle.Version.String(), Repository: c.Requirement.Repository, Digest: d})
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(p.Root); err != nil {
		return nil, err
	}
	sort.Slice(l.Bundles, func(i, j int) bool { return l.Bundles[i].Name < l.Bundles[j].Name })
	return l, nil
}

// Digest is the content digest a lock records for bundle b from
// repository: an OCI registry's bundle's is its manifest digest; any
// other's (HTTP, the built-in catalog, a directory, or an OCI bundle
// served from a --mirror for another repository) its package's
// (bundle.Bundle.Digest). A release records its root bundle's the same
// way (DigestAnnotation).
func Digest(repository string, b *bundle.Bundle) (string, error) {
	if strings.HasPrefix(repository, "oci://") && b.SourceDigest != "" {
		return b.SourceDigest, nil
	}
	d, err := b.Digest()
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", b, err)
	}
	return d, nil
}

// relock is the fix of a stale lock: writing it again.
func relock(root *bundle.Bundle) []errdefs.Fix {
	return []errdefs.Fix{{Run: []string{"lock", root.Source}}}
}

func checkLockFresh(root *bundle.Bundle) error {
	if root.Lock == nil {
		return errdefs.Fixable(ErrLockStale, []errdefs.Fix{{Run: []string{"lock", root.Source}}, {Options: []string{"locked"}, Drop: true}},
			"%s has no %s", root.Source, bundle.LockFileName)
	}
	if root.Lock.Requires != bundle.RequiresDigest(root.File) {
		return errdefs.Fixable(ErrLockStale, relock(root), "%s/%s is out of date: the requirements in %s changed since it was written", root.Source, bundle.LockFileName, bundle.FileName)
	}
	return nil
}

// checkLocked verifies the resolution is exactly the lock and that every
// locked digest matches what the source serves now.
func (p *Plan) checkLocked(ctx context.Context, l Loader) error {
	root := p.Root.Bundle
	want := root.Lock
	got, err := p.Lock()
	if err != nil {
		return err
	}
	where := root.Source + "/" + bundle.LockFileName
	for _, g := range got.Bundles {
		w, ok := want.Find(g.Name)
		switch {
		case !ok:
			return errdefs.Fixable(ErrLockStale, relock(root), "%s does not lock %s, which the requirements need", where, g.Name)
		case w.Version != g.Version || w.Repository != g.Repository:
			return errdefs.Fixable(ErrLockStale, relock(root), "%s locks %s %s from %s, but the requirements resolve to %s %s from %s", where, w.Name, w.Version, w.Repository, g.Name, g.Version, g.Repository)
		case w.Digest != g.Digest:
			return errdefs.Fixable(ErrLockStale, []errdefs.Fix{{Run: []string{"update", root.Source, g.Name}}},
				"%s %s from %s has digest %s, but %s locks %s: its content changed without a new version", g.Name, g.Version, g.Repository, g.Digest, where, w.Digest)
		}
	}
	for _, w := range want.Bundles {
		if _, ok := got.Find(w.Name); !ok {
			return errdefs.Fixable(ErrLockStale, relock(root), "%s locks %s, which the requirements no longer need", where, w.Name)
		}
	}
	return nil
}
