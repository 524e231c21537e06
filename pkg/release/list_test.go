package release

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/internal/releasetest"
)

// listFixture stores releases in every state across two namespaces; each
// release's last deployment is at minute (revision), so date order is by
// the revision numbers below.
func listFixture(t *testing.T) *releasetest.Fixture {
	f := releasetest.New("team")
	rel := releasetest.Release
	f.Store(t,
		rel("blog", "team", 1, rcommon.StatusSuperseded, "wordpress", "1.0.0", "6.5"),
		rel("blog", "team", 4, rcommon.StatusDeployed, "wordpress", "1.0.1", "6.5"),
		rel("cache", "team", 2, rcommon.StatusFailed, "redis", "1.0.0", "7.2"),
		rel("old", "team", 3, rcommon.StatusUninstalled, "redis", "1.0.0", "7.2"),
		rel("going", "team", 5, rcommon.StatusUninstalling, "redis", "1.0.0", "7.2"),
		rel("new", "team", 6, rcommon.StatusPendingInstall, "redis", "1.0.0", "7.2"),
		rel("up", "team", 7, rcommon.StatusPendingUpgrade, "redis", "1.0.0", "7.2"),
		rel("wiki", "team", 9, rcommon.StatusDeployed, "mediawiki", "1.1.0", "1.41"),
		rel("wiki", "other", 8, rcommon.StatusDeployed, "mediawiki", "1.1.0", "1.41"),
		rel("db", "other", 10, rcommon.StatusDeployed, "mariadb", "1.0.0", "11.4"),
	)
	return f
}

func TestList(t *testing.T) {
	f := listFixture(t)
	c := NewWithEnv(envOf(f), nil)
	tests := []struct {
		name string
		opts ListOptions
		want []string // namespace/name:revision
	}{
		{"default: deployed and failed, by name", ListOptions{}, []string{"team/blog:4", "team/cache:2", "team/wiki:9"}},
		{"all", ListOptions{All: true}, []string{"team/blog:4", "team/cache:2", "team/going:5", "team/new:6", "team/old:3", "team/up:7", "team/wiki:9"}},
		{"deployed", ListOptions{Deployed: true}, []string{"team/blog:4", "team/wiki:9"}},
		{"failed", ListOptions{Failed: true}, []string{"team/cache:2"}},
		{"pending", ListOptions{Pending: true}, []string{"team/new:6", "team/up:7"}},
		{"uninstalled", ListOptions{Uninstalled: true}, []string{"team/old:3"}},
		{"uninstalling", ListOptions{Uninstalling: true}, []string{"team/going:5"}},
		{"superseded: the earlier revisions", ListOptions{Superseded: true}, []string{"team/blog:1"}},
		{"states combine", ListOptions{Failed: true, Uninstalled: true}, []string{"team/cache:2", "team/old:3"}},
		{"filter", ListOptions{All: true, Filter: "^(b|w)"}, []string{"team/blog:4", "team/wiki:9"}},
		{"selector", ListOptions{Selector: "name=wiki"}, []string{"team/wiki:9"}},
		{"reverse", ListOptions{Reverse: true}, []string{"team/wiki:9", "team/cache:2", "team/blog:4"}},
		{"by date, oldest first", ListOptions{ByDate: true}, []string{"team/cache:2", "team/blog:4", "team/wiki:9"}},
		{"by date reversed", ListOptions{ByDate: true, Reverse: true}, []string{"team/wiki:9", "team/blog:4", "team/cache:2"}},
		{"max", ListOptions{Max: 2}, []string{"team/blog:4", "team/cache:2"}},
		{"offset", ListOptions{Offset: 1}, []string{"team/cache:2", "team/wiki:9"}},
		{"offset and max", ListOptions{Offset: 1, Max: 1}, []string{"team/cache:2"}},
		{"offset past the end", ListOptions{Offset: 3}, nil},
		{"all namespaces, by name then namespace", ListOptions{AllNamespaces: true}, []string{"team/blog:4", "team/cache:2", "other/db:10", "other/wiki:8", "team/wiki:9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rels, err := c.List(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rels {
				got = append(got, fmt.Sprintf("%s/%s:%d", r.Namespace, r.Name, r.Revision))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	// The all-namespaces listing left the namespace's view intact.
	if _, err := c.Get(context.Background(), "wiki", 0); err != nil {
		t.Errorf("after list -A: %v", err)
	}
}

func TestListBadOptions(t *testing.T) {
	c := NewWithEnv(envOf(listFixture(t)), nil)
	for _, opts := range []ListOptions{{Filter: "a("}, {Offset: -1}, {Max: -2}} {
		if _, err := c.List(context.Background(), opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}
