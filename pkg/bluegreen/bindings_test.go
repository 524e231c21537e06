package bluegreen

import (
	"encoding/json"
	"fmt"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

func rec(ns, name, bundle string, status rcommon.Status, ann map[string]string, res ...plan.Resolved) *release.Record {
	if ann == nil {
		ann = map[string]string{}
	}
	if len(res) > 0 {
		data, _ := json.Marshal(res)
		ann[plan.ResolvedAnnotation] = string(data)
	}
	return &release.Record{Name: name, Namespace: ns, Status: status.String(), Bundle: bundle, Version: "1.0.0", Annotations: ann}
}

func TestBoundApps(t *testing.T) {
	db := plan.Resolved{Instance: "database", Bundle: "mariadb", Bound: "shop/team-db", Claim: true}
	rels := []*release.Record{
		rec("shop", "wiki", routerChart, rcommon.StatusDeployed, map[string]string{annBlueGreen: "router", annLive: "green", annSpare: "blue"}),
		rec("shop", "wiki-green", "mediawiki", rcommon.StatusDeployed, map[string]string{annColorOf: "wiki"}, db),
		rec("shop", "wiki-blue", "mediawiki", rcommon.StatusDeployed, map[string]string{annColorOf: "wiki"}, plan.Resolved{Instance: "database", Bound: "shop/old-db"}),
		rec("shop", "team-db", "mariadb", rcommon.StatusDeployed, nil),
		rec("shop", "blog", "wordpress", rcommon.StatusDeployed, nil, plan.Resolved{Instance: "database", Bound: "shop/team-db"}, plan.Resolved{Instance: "cache", Bundle: "redis"}),
		rec("shop", "gone", "wordpress", rcommon.StatusUninstalled, nil, db),
	}
	got := fmt.Sprint(boundApps(rels, nil))
	want := "[{shop/blog wordpress 1.0.0     [{database shop/team-db false}] []} {shop/team-db mariadb 1.0.0     [] []} {shop/wiki mediawiki 1.0.0 green blue   [{database shop/team-db true}] []}]"
	if got != want {
		t.Errorf("boundApps:\n got %s\nwant %s", got, want)
	}
	// The Services select blue, although the router records green: blue is
	// live, with its bindings, and the record is said.
	got = fmt.Sprint(boundApps(rels, func(st *State) (servedBy, error) { return servedBy{"wiki": "blue"}, nil })[2])
	if want := "{shop/wiki mediawiki 1.0.0 blue green green  [{database shop/old-db false}] []}"; got != want {
		t.Errorf("boundApps, the Services selecting the other colour:\n got %s\nwant %s", got, want)
	}
}
