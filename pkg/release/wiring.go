package release

import (
	"slices"
	"strings"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// splitWiring parts a revision's stored values (Helm's config) into what
// the user gave and what bundle computed: the outputs of requirements it
// wrote under requires: (at the top and in each instance's values) and a
// bound requirement's claim. Both keep the values' shape; merged, they
// are the stored values again. Neither is nil.
func splitWiring(config map[string]any, resolved []plan.Resolved) (user, wiring map[string]any) {
	user = render.CopyValues(config)
	if user == nil {
		user = map[string]any{}
	}
	wiring = map[string]any{}
	move := func(path []string, key string) {
		from := user
		for _, k := range path {
			if from, _ = from[k].(map[string]any); from == nil {
				return
			}
		}
		v, ok := from[key]
		if !ok {
			return
		}
		delete(from, key)
		to := wiring
		for _, k := range path {
			t, _ := to[k].(map[string]any)
			if t == nil {
				t = map[string]any{}
				to[k] = t
			}
			to = t
		}
		to[key] = v
	}
	move(nil, bundle.RequiresKey)
	// Deepest instances first, so that a parent left empty goes too.
	paths := make([][]string, 0, len(resolved))
	for _, r := range resolved {
		path := strings.Split(r.Instance, ".")
		move(path, bundle.RequiresKey)
		if r.Bound != "" && r.Claim {
			move(path, render.ClaimKey)
		}
		paths = append(paths, path)
	}
	slices.SortStableFunc(paths, func(a, b []string) int { return len(b) - len(a) })
	for _, path := range paths {
		parent := user
		for _, k := range path[:len(path)-1] {
			if parent, _ = parent[k].(map[string]any); parent == nil {
				break
			}
		}
		// Plan.Values makes a map for every instance: one left empty
		// was the wiring's.
		if m, ok := parent[path[len(path)-1]].(map[string]any); ok && len(m) == 0 {
			delete(parent, path[len(path)-1])
		}
	}
	return user, wiring
}
