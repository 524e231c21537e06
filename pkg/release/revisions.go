package release

import (
	"errors"
	"fmt"

	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// The one place that reads a release's stored revisions: stored reads one
// (the last, or a given one), base the one an upgrade starts from (Diff
// and Drift compare with it, and Status counts its drift), upgradeBase
// (recover.go) picks it from a release's history.

// stored reads revision of release name; 0 means its last, whatever its
// state. ErrNotFound when the release or the revision is not stored.
func (c *Client) stored(name string, revision int) (*helmrelease.Release, error) {
	if revision == 0 {
		r, err := c.cfg.Releases.Last(name)
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"list", "-A"}}}, "release %q not found in namespace %q", name, c.namespace)
		}
		return r, err
	}
	r, err := c.cfg.Releases.Get(name, revision)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		last, lerr := c.stored(name, 0)
		if lerr != nil {
			return nil, lerr
		}
		return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"history", name, "-n", c.namespace}}}, "release %q has no revision %d in namespace %q: its revisions go up to %d", name, revision, c.namespace, last.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("reading revision %d of %q: %w", revision, name, err)
	}
	return r, nil
}

// base is the revision of release name an upgrade starts from (the values
// it reuses, the requirement versions it keeps: upgradeBase of its last);
// nil when none is stored.
func (c *Client) base(name string) *helmrelease.Release {
	last, err := c.cfg.Releases.Last(name)
	if err != nil {
		return nil
	}
	return c.upgradeBase(last)
}
