package release

import (
	"errors"
	"fmt"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// RecoveredNote starts the description of a revision whose operation
// stopped (killed, or cut off from the API server) and that the next
// operation marked failed.
const RecoveredNote = "marked failed by bundle: its operation"

// note tells the user of something an operation waits for (besides
// readiness); without Notify, the debug log has it.
func (c *Client) note(format string, args ...any) {
	if c.notify == nil {
		c.log(format, args...)
		return
	}
	c.notify(fmt.Sprintf(format, args...))
}

// markStopped marks the release's last revision failed when it is pending:
// called with the release's lease held, no operation runs it any longer.
// prev is the holder of the lease taken over, if any.
func (c *Client) markStopped(name string, prev *Holder) error {
	last, err := recordsOf(c.cfg).Last(name)
	if err != nil || last.Info == nil || !last.Info.Status.IsPending() {
		return nil // nothing stored, or nothing stopped
	}
	var note string
	if prev != nil {
		note = fmt.Sprintf("%s (holder %s) stopped at %s", RecoveredNote, prev, prev.Renewed.UTC().Format(time.RFC3339))
	} else {
		note = fmt.Sprintf("%s (holder unknown) stopped after %s", RecoveredNote, last.Info.LastDeployed.UTC().Format(time.RFC3339))
	}
	was := last.Info.Status
	if last.Info.Description != "" {
		note += "; was " + was.String() + ": " + last.Info.Description
	}
	last.SetStatus(rcommon.StatusFailed, note)
	if err := c.cfg.Releases.Update(last); err != nil {
		return fmt.Errorf("marking revision %d of %q (%s, its operation stopped) failed: %w", last.Version, name, was, err)
	}
	c.log("release %q: %s", name, note)
	// Its operation applied its objects, or some of them (a kill mostly
	// comes while it waits): the revision deployed before no longer says
	// what runs, so it is deployed no longer. The next operation converges
	// from whatever the stopped one left (see package apply): it applies
	// server-side and deletes the objects of every stored revision that
	// its target leaves out.
	deployed, err := recordsOf(c.cfg).DeployedAll(name)
	if err != nil {
		return nil
	}
	for _, d := range deployed {
		d.SetStatus(rcommon.StatusSuperseded, fmt.Sprintf("superseded by revision %d, whose operation stopped", last.Version))
		if err := c.cfg.Releases.Update(d); err != nil {
			return fmt.Errorf("marking revision %d of %q superseded: %w", d.Version, name, err)
		}
	}
	return nil
}

// replaceable reports whether install may take over the name of release
// whose last revision is last, as helm install --replace does: it was
// uninstalled with its history kept, or it failed and no revision of it is
// deployed (a failed first install).
func (h history) replaceable(last *helmrelease.Release) bool {
	switch last.Info.Status {
	case rcommon.StatusUninstalled:
		return true
	case rcommon.StatusFailed:
		_, err := recordsOf(h.cfg).Deployed(last.Name)
		return errors.Is(err, driver.ErrNoDeployedReleases)
	}
	return false
}

// upgradeBase is the revision an upgrade starts from (the values it
// reuses, the requirement versions it keeps): the deployed one, as Helm's
// upgrade has it, else the newest that was (one a stopped operation
// superseded), else the last.
func (h history) upgradeBase(last *helmrelease.Release) *helmrelease.Release {
	if last.Info.Status == rcommon.StatusDeployed {
		return last
	}
	hist, err := recordsOf(h.cfg).History(last.Name)
	if err != nil {
		return last
	}
	base := last
	for _, r := range hist {
		st := r.Info.Status
		if (st == rcommon.StatusDeployed || st == rcommon.StatusSuperseded) && (base == last || r.Version > base.Version) {
			base = r
		}
	}
	return base
}

// rollbackTarget is the revision a rollback to revision (0: the previous)
// goes to. The previous one is the newest earlier revision that was
// deployed (deployed or superseded), skipping failed and pending ones:
// rolling back after a failed or stopped upgrade restores what ran before.
func (h history) rollbackTarget(last *helmrelease.Release, revision int) (int, error) {
	if revision != 0 {
		return revision, nil
	}
	hist, err := recordsOf(h.cfg).History(last.Name)
	if err != nil {
		return 0, fmt.Errorf("history of %q: %w", last.Name, err)
	}
	target := 0
	for _, r := range hist {
		if r.Version < last.Version && r.Version > target &&
			(r.Info.Status == rcommon.StatusDeployed || r.Info.Status == rcommon.StatusSuperseded) {
			target = r.Version
		}
	}
	if target == 0 {
		return 0, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"history", last.Name, "-n", h.ns}}},
			"release %q in namespace %q has no earlier deployed revision to roll back to (revision %d is %s)", last.Name, h.ns, last.Version, last.Info.Status)
	}
	return target, nil
}
