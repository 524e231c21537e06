package release

import (
	"errors"
	"fmt"
	"maps"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// The one place that reads a release's stored revisions: stored reads one
// (the last, or a given one), base the one an upgrade starts from (Diff
// and Drift compare with it, and Status counts its drift), upgradeBase
// (recover.go) picks it from a release's history.

// history reads the stored revisions of the releases of one namespace.
type history struct {
	cfg *action.Configuration
	ns  string
}

// stored reads revision of release name; 0 means its last, whatever its
// state. ErrNotFound when the release or the revision is not stored.
func (h history) stored(name string, revision int) (*helmrelease.Release, error) {
	if revision == 0 {
		r, err := recordsOf(h.cfg).Last(name)
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"list", "-A"}}}, "release %q not found in namespace %q", name, h.ns)
		}
		return r, err
	}
	r, err := recordsOf(h.cfg).Get(name, revision)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		last, lerr := h.stored(name, 0)
		if lerr != nil {
			return nil, lerr
		}
		return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"history", name, "-n", h.ns}}}, "release %q has no revision %d in namespace %q: its revisions go up to %d", name, revision, h.ns, last.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("reading revision %d of %q: %w", revision, name, err)
	}
	return r, nil
}

// base is the revision of release name an upgrade starts from (the values
// it reuses, the requirement versions it keeps: upgradeBase of its last);
// nil when none is stored.
func (h history) base(name string) *helmrelease.Release {
	last, err := recordsOf(h.cfg).Last(name)
	if err != nil {
		return nil
	}
	return h.upgradeBase(last)
}

// Record is a stored revision of a release, as the operations built above
// this package (pkg/bluegreen) read it: what its chart records, its
// manifest and its state. Changing it changes nothing stored.
type Record struct {
	Name, Namespace string
	Revision        int
	// Status is Helm's: deployed, superseded, failed, uninstalled,
	// pending-install, pending-upgrade, pending-rollback, uninstalling.
	Status      string
	Description string
	// Bundle and Version are the root bundle's (its chart's).
	Bundle, Version string
	// Annotations are its chart's: the record of its resolution and
	// bindings (plan.ParseResolved), and the marks of the whole a release
	// is part of (PartOf.Annotations).
	Annotations map[string]string
	// Files are its chart's files by name.
	Files    map[string][]byte
	Manifest string
}

// Installed reports whether the revision is of an installed release: not
// uninstalled (nor being uninstalled).
func (r *Record) Installed() bool {
	return r.Status != rcommon.StatusUninstalled.String() && r.Status != rcommon.StatusUninstalling.String()
}

// Deployed reports whether the revision is the one deployed.
func (r *Record) Deployed() bool { return r.Status == rcommon.StatusDeployed.String() }

// Pending reports whether an operation is writing the revision, or was
// until it stopped.
func (r *Record) Pending() bool { return rcommon.Status(r.Status).IsPending() }

// Resolved is the resolution the revision recorded: each requirement
// instance, its bundle version, and the release it is bound to (Bound);
// nil when it recorded none.
func (r *Record) Resolved() []plan.Resolved {
	if r == nil {
		return nil
	}
	rs, _ := plan.ParseResolved(r.Annotations)
	return rs
}

// record is stored revision rel as a Record; nil for nil.
func record(rel *helmrelease.Release) *Record {
	if rel == nil {
		return nil
	}
	out := &Record{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Manifest: rel.Manifest, Files: map[string][]byte{}}
	if rel.Info != nil {
		out.Status, out.Description = rel.Info.Status.String(), rel.Info.Description
	}
	if rel.Chart != nil {
		if md := rel.Chart.Metadata; md != nil {
			out.Bundle, out.Version = md.Name, md.Version
			out.Annotations = maps.Clone(md.Annotations)
		}
		for _, f := range rel.Chart.Files {
			out.Files[f.Name] = f.Data
		}
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	return out
}

// Stored reads revision of release name (0: its last, whatever its
// state); ErrNotFound when the release or the revision is not stored.
func (c *Client) Stored(name string, revision int) (*Record, error) {
	r, err := c.hist.stored(name, revision)
	if err != nil {
		return nil, err
	}
	return record(r), nil
}

// Base is the revision of release name an upgrade starts from: the
// deployed one, else the newest that was (one a stopped operation
// superseded), else the last; nil when none is stored.
func (c *Client) Base(name string) *Record { return record(c.hist.base(name)) }
