package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bundlesh/bundle/pkg/plan"
)

// FromBindings is the bindings graph: each app a node ("NAMESPACE/NAME",
// its bundle and version, and for a blue/green app its live colour and
// spare), each binding an edge from the consumer to its provider labelled
// with the requirement instance ("INSTANCE (claim)" for a claim). A
// provider that is not among apps (uninstalled, or in a namespace not
// listed) is a node of its own, marked as such. Nodes are in the order of
// apps, then those providers sorted.
func FromBindings(apps []plan.BoundApp) *Graph {
	g := &Graph{}
	ids := map[string]string{}
	for _, a := range apps {
		id := fmt.Sprintf("n%d", len(g.Nodes))
		ids[a.Name] = id
		l := a.Name
		if a.Bundle != "" {
			l += "\n" + strings.TrimSpace(a.Bundle+" "+a.Version)
		}
		if a.Live != "" || a.LiveUnknown != "" {
			l += "\nblue/green: " + a.Colours()
		}
		g.Nodes = append(g.Nodes, Node{ID: id, Label: l})
	}
	var missing []string
	for _, a := range apps {
		for _, b := range a.Bindings {
			if _, ok := ids[b.Provider]; !ok {
				ids[b.Provider] = ""
				missing = append(missing, b.Provider)
			}
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		id := fmt.Sprintf("n%d", len(g.Nodes))
		ids[p] = id
		g.Nodes = append(g.Nodes, Node{ID: id, Label: p + "\n(not listed)", State: Delete})
	}
	for _, a := range apps {
		for _, b := range a.Bindings {
			l := b.Instance
			if b.Claim {
				l += " (claim)"
			}
			g.Edges = append(g.Edges, Edge{From: ids[a.Name], To: ids[b.Provider], Label: l})
		}
	}
	return g
}
