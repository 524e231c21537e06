package release

import (
	"context"
	"fmt"
	"sort"

	"helm.sh/helm/v4/pkg/action"
)

// History returns every stored revision of a release, oldest first.
func (c *Client) History(ctx context.Context, name string) ([]*Release, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if _, err := c.hist.stored(name, 0); err != nil {
		return nil, err
	}
	h := action.NewHistory(c.cfg)
	rels, err := v1sOf(h.Run(name))
	if err != nil {
		return nil, fmt.Errorf("history of %q: %w", name, err)
	}
	out := make([]*Release, 0, len(rels))
	for _, r := range rels {
		out = append(out, summarize(r))
	}
	sortByRevision(out)
	return out, nil
}

func sortByRevision(rs []*Release) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Revision < rs[j].Revision })
}
