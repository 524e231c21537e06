package release

import (
	"context"
	"fmt"
	"regexp"
	"sort"

	"helm.sh/helm/v4/pkg/action"
)

// ListOptions select and order the releases List returns, as helm list's
// flags do. The zero value lists the deployed and failed releases of the
// client's namespace by name.
type ListOptions struct {
	// AllNamespaces lists releases of every namespace.
	AllNamespaces bool

	// All lists releases in every state. Otherwise the states set below
	// are listed; when none is set, deployed and failed ones.
	All          bool
	Deployed     bool
	Failed       bool
	Pending      bool // pending-install, pending-upgrade and pending-rollback
	Superseded   bool // earlier revisions (only these: every revision of each release)
	Uninstalled  bool // uninstalled with --keep-history
	Uninstalling bool

	// Filter is a regular expression release names must match.
	Filter string
	// Selector is a label query on the release records (owner=helm,
	// name=NAME, and labels given at install).
	Selector string

	// ByDate orders by the time of the last deployment, oldest first;
	// otherwise by name (then namespace).
	ByDate bool
	// Reverse reverses the order.
	Reverse bool
	// Offset skips that many releases of the ordered list; Max, when
	// positive, returns at most that many.
	Offset int
	Max    int
}

// List returns the latest revision of every release that opts select, bundle
// releases and plain Helm ones alike.
func (c *Client) List(ctx context.Context, opts ListOptions) ([]*Release, error) {
	if opts.Filter != "" {
		if _, err := regexp.Compile(opts.Filter); err != nil {
			return nil, fmt.Errorf("filter %q is not a regular expression: %v", opts.Filter, err)
		}
	}
	if opts.Offset < 0 || opts.Max < 0 {
		return nil, fmt.Errorf("offset %d, max %d: must not be negative", opts.Offset, opts.Max)
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	cfg := c.cfg
	if opts.AllNamespaces {
		var err error
		if cfg, err = c.env.AllNamespaces(); err != nil {
			return nil, err
		}
	}
	// Helm's own List selects (latest revisions, states, filter,
	// selector); the order and paging are ours, so that they are stable
	// across namespaces.
	l := action.NewList(cfg)
	l.AllNamespaces = opts.AllNamespaces
	l.All, l.Deployed, l.Failed, l.Pending = opts.All, opts.Deployed, opts.Failed, opts.Pending
	l.Superseded, l.Uninstalled, l.Uninstalling = opts.Superseded, opts.Uninstalled, opts.Uninstalling
	if !opts.All && !opts.Deployed && !opts.Failed && !opts.Pending && !opts.Superseded && !opts.Uninstalled && !opts.Uninstalling {
		// Helm 3's default, kept: Helm 4 lists every state without a
		// state flag.
		l.Deployed, l.Failed = true, true
	}
	l.Filter = opts.Filter
	l.Selector = opts.Selector
	l.SetStateMask()
	rels, err := v1sOf(l.Run())
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	out := make([]*Release, 0, len(rels))
	for _, r := range rels {
		out = append(out, summarize(r))
	}
	sortReleases(out, opts.ByDate)
	if opts.Reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if opts.Offset >= len(out) {
		return []*Release{}, nil
	}
	out = out[opts.Offset:]
	if opts.Max > 0 && opts.Max < len(out) {
		out = out[:opts.Max]
	}
	return out, nil
}

// sortReleases orders by name, namespace and revision, or by the second
// of the last deployment first (as Helm does) when byDate.
func sortReleases(rs []*Release, byDate bool) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if byDate && a.Updated.Unix() != b.Updated.Unix() {
			return a.Updated.Unix() < b.Updated.Unix()
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Revision < b.Revision
	})
}
