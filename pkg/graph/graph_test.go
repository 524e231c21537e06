package graph

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/deps"
	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s\nwant:\n%s", name, got, want)
	}
}

// stable/magento's tree, as bundle deps resolves it: nested instances, a
// condition, a label with a quote.
func tree() *deps.Tree {
	return &deps.Tree{Bundle: "magento", Version: "2.0.0", Requires: []*deps.Tree{
		{Bundle: "mariadb", Version: "1.0.2", Instance: "database", Repository: "stable", Constraint: "^1.0.0", RequiredBy: "magento"},
		{Bundle: "redis-ha", Version: "1.1.0", Instance: "cache", Repository: "stable", Constraint: ">=1.0 <2", RequiredBy: "magento", Requires: []*deps.Tree{
			{Bundle: "redis", Version: "7.2.0", Instance: "cache.server", Repository: "stable", Constraint: "~7.2", RequiredBy: "redis-ha"},
		}},
		{Bundle: "varnish", Version: "1.0.0", Instance: "frontCache", Repository: "stable", Constraint: "*", RequiredBy: "magento", Condition: `varnish.enabled == "yes"`},
	}}
}

// An upgrade's plan: the root moves, a requirement's version moves, one is
// new, one dropped, one unchanged, one nested under a changed one.
func upgradePlan() *diff.Plan {
	p := &diff.Plan{Objects: []diff.Object{{Action: diff.Change, Kind: "ConfigMap", Name: "a"}, {Action: diff.Create, Kind: "Service", Name: "b"}, {Action: diff.Unchanged, Kind: "Secret", Name: "c"}}}
	p.Bundle = diff.Root(&plan.Resolved{Bundle: "mediawiki", Version: "1.0.0"}, &plan.Resolved{Bundle: "mediawiki", Version: "1.1.0"})
	p.Requirements = diff.Requirements(
		[]plan.Resolved{
			{Instance: "database", Bundle: "mariadb", Version: "1.0.1", Repository: "stable"},
			{Instance: "database.metrics", Bundle: "exporter", Version: "0.3.0", Repository: "stable"},
			{Instance: "search", Bundle: "opensearch", Version: "2.0.0", Repository: "stable"},
			{Instance: "mail", Bundle: "smtp", Version: "1.0.0", Repository: "stable", Bound: "infra/mail", Constraint: "^1"},
		},
		[]plan.Resolved{
			{Instance: "database", Bundle: "mariadb", Version: "1.0.2", Repository: "stable"},
			{Instance: "database.metrics", Bundle: "exporter", Version: "0.3.0", Repository: "stable"},
			{Instance: "cache", Bundle: "memcached", Version: "1.0.0", Repository: "stable"},
			{Instance: "mail", Bundle: "smtp", Version: "1.0.0", Repository: "stable", Bound: "infra/mail", Constraint: "^1"},
		})
	return p
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		name  string
		g     *Graph
		write func(*bytes.Buffer, *Graph) error
	}{
		{"deps.dot", FromTree(tree()), func(b *bytes.Buffer, g *Graph) error { return WriteDOT(b, g) }},
		{"deps.mmd", FromTree(tree()), func(b *bytes.Buffer, g *Graph) error { return WriteMermaid(b, g) }},
		{"plan.dot", FromPlan(upgradePlan()), func(b *bytes.Buffer, g *Graph) error { return WriteDOT(b, g) }},
		{"plan.mmd", FromPlan(upgradePlan()), func(b *bytes.Buffer, g *Graph) error { return WriteMermaid(b, g) }},
	} {
		var b bytes.Buffer
		if err := tt.write(&b, tt.g); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.name, b.Bytes())
	}
}

// The nodes a plan marks: what changes and only that.
func TestFromPlanMarksWhatChanges(t *testing.T) {
	g := FromPlan(upgradePlan())
	got := map[string]State{}
	for _, n := range g.Nodes {
		got[n.Label] = n.State
	}
	want := map[string]State{
		"mediawiki 1.0.0 -> 1.1.0\nobjects: 1 to create, 1 to change, 0 to delete": Change,
		"database: mariadb 1.0.1 -> 1.0.2":                                         Change,
		"database.metrics: exporter 0.3.0":                                         Unchanged,
		"cache: memcached 1.0.0 (new)":                                             Create,
		"mail: smtp 1.0.0\nbound to release infra/mail":                            Unchanged,
		"search: opensearch 2.0.0 (dropped)":                                       Delete,
	}
	if len(got) != len(want) {
		t.Errorf("nodes %v, want %v", got, want)
	}
	for l, st := range want {
		if got[l] != st {
			t.Errorf("node %q: %q, want %q (nodes %v)", l, got[l], st, got)
		}
	}
	// database.metrics hangs under database, the others under the root.
	for _, e := range g.Edges {
		if e.To == "n2" && e.From != "n1" || e.To != "n2" && e.From != "n0" {
			t.Errorf("edge %v", e)
		}
	}
}

// Two apps bound to one database (one with a claim), a blue/green app
// bound to it and to a provider of another namespace not listed.
func boundApps() []plan.BoundApp {
	return []plan.BoundApp{
		{Name: "shop/team-db", Bundle: "mariadb", Version: "1.0.2"},
		{Name: "shop/wiki", Bundle: "mediawiki", Version: "1.1.0", Live: "green", Spare: "blue", Bindings: []plan.Bound{
			{Instance: "database", Provider: "shop/team-db", Claim: true},
			{Instance: "mail", Provider: "infra/mail"},
		}},
		{Name: "shop/blog", Bundle: "wordpress", Version: "1.0.0", Bindings: []plan.Bound{{Instance: "database", Provider: "shop/team-db"}}},
	}
}

func TestBindingsGolden(t *testing.T) {
	g := FromBindings(boundApps())
	var dot, mmd bytes.Buffer
	if err := WriteDOT(&dot, g); err != nil {
		t.Fatal(err)
	}
	if err := WriteMermaid(&mmd, g); err != nil {
		t.Fatal(err)
	}
	golden(t, "bindings.dot", dot.Bytes())
	golden(t, "bindings.mmd", mmd.Bytes())
}

func TestConsumers(t *testing.T) {
	got := plan.Consumers(boundApps())
	want := "shop/blog (database), shop/wiki (database)"
	if s := strings.Join(got["shop/team-db"], ", "); s != want {
		t.Errorf("consumers of shop/team-db: %q, want %q", s, want)
	}
	if len(got["shop/wiki"]) != 0 {
		t.Errorf("shop/wiki has consumers %v", got["shop/wiki"])
	}
}
