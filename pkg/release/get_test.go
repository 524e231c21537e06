package release

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/plan"
)

// wiki stores three revisions of a bundle release "wiki" with a test hook,
// chart defaults, user values and the resolved-requirements annotation.
func wiki(t *testing.T, f *releasetest.Fixture) {
	t.Helper()
	var revs []*helmrelease.Release
	for rev := 1; rev <= 3; rev++ {
		status := rcommon.StatusSuperseded
		if rev == 3 {
			status = rcommon.StatusDeployed
		}
		r := releasetest.Release("wiki", f.Namespace, rev, status, "mediawiki", "1.1.0", "1.41")
		r.Chart.Metadata.Annotations = map[string]string{plan.ResolvedAnnotation: `[{"instance":"database","bundle":"mariadb","version":"1.0.0","repository":"stable"}]`}
		r.Chart.Metadata.Dependencies = []*chart.Dependency{{Name: "mariadb", Version: "1.0.0", Alias: "database", Enabled: true}}
		r.Chart.Values = map[string]any{"wiki": map[string]any{"name": "My Wiki", "replicas": 1}}
		r.Config = map[string]any{"wiki": map[string]any{"replicas": rev}}
		r.Manifest = "---\n# Source: mediawiki/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wiki\n"
		r.Info.Notes = "Open the wiki."
		r.Info.Description = []string{"", "Install complete", "Upgrade complete", "Rollback to 1"}[rev]
		r.Hooks = []*helmrelease.Hook{{
			Name: "wiki-test", Kind: "Pod", Path: "mediawiki/templates/tests/test.yaml",
			Manifest: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: wiki-test\n",
			Events:   []helmrelease.HookEvent{helmrelease.HookTest},
		}}
		revs = append(revs, r)
	}
	f.Store(t, revs...)
}

func TestGet(t *testing.T) {
	f := releasetest.New("team")
	wiki(t, f)
	c := NewWithEnv(envOf(f), nil)
	ctx := context.Background()

	d, err := c.Get(ctx, "wiki", 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Revision != 3 || d.Status != "deployed" || d.Bundle != "mediawiki" || d.Version != "1.1.0" || d.AppVersion != "1.41" {
		t.Errorf("latest: %+v", d.Release)
	}
	if !d.FirstDeployed.Equal(releasetest.Time(1)) || !d.Updated.Equal(releasetest.Time(3)) || !d.Deleted.IsZero() {
		t.Errorf("times: first %v updated %v deleted %v", d.FirstDeployed, d.Updated, d.Deleted)
	}
	if want := []plan.Resolved{{Instance: "database", Bundle: "mariadb", Version: "1.0.0", Repository: "stable"}}; !reflect.DeepEqual(d.Resolved, want) {
		t.Errorf("resolved %+v", d.Resolved)
	}
	if want := map[string]any{"wiki": map[string]any{"replicas": 3}}; !reflect.DeepEqual(d.Values, want) {
		t.Errorf("user values %v", d.Values)
	}
	if want := map[string]any{"wiki": map[string]any{"name": "My Wiki", "replicas": 3}}; !reflect.DeepEqual(d.ComputedValues, want) {
		t.Errorf("computed values %v", d.ComputedValues)
	}
	if len(d.Hooks) != 1 || d.Hooks[0].Name != "wiki-test" || !d.Hooks[0].IsTest() || d.Hooks[0].Path != "mediawiki/templates/tests/test.yaml" {
		t.Errorf("hooks %+v", d.Hooks)
	}
	if d.Chart.Name != "mediawiki" || len(d.Chart.Dependencies) != 1 || d.Chart.Dependencies[0].Alias != "database" {
		t.Errorf("chart %+v", d.Chart)
	}
	if d.Notes != "Open the wiki." || !strings.Contains(d.Manifest, "kind: ConfigMap") || d.Description != "Rollback to 1" {
		t.Errorf("notes %q manifest %q description %q", d.Notes, d.Manifest, d.Description)
	}

	d, err = c.Get(ctx, "wiki", 2)
	if err != nil {
		t.Fatal(err)
	}
	if d.Revision != 2 || d.Status != "superseded" || d.Values["wiki"].(map[string]any)["replicas"] != 2 {
		t.Errorf("revision 2: %+v", d.Release)
	}
}

func TestGetErrors(t *testing.T) {
	f := releasetest.New("team")
	wiki(t, f)
	c := NewWithEnv(envOf(f), nil)
	tests := []struct {
		name     string
		release  string
		revision int
		notFound bool
		want     string
	}{
		{"no release", "nope", 0, true, `release "nope" not found in namespace "team"`},
		{"no release at that revision", "nope", 2, true, `release "nope" not found in namespace "team"`},
		{"no such revision", "wiki", 7, true, `release "wiki" has no revision 7 in namespace "team": its revisions go up to 3`},
		{"negative revision", "wiki", -1, false, `revision -1 of "wiki": revisions count from 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(context.Background(), tt.release, tt.revision)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(ErrNotFound) = %v", !tt.notFound)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want %q...", err, tt.want)
			}
		})
	}
}

func TestHistoryAndStatus(t *testing.T) {
	f := releasetest.New("team")
	wiki(t, f)
	c := NewWithEnv(envOf(f), nil)
	h, err := c.History(context.Background(), "wiki")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range h {
		got = append(got, r.Status+" "+r.Description)
	}
	if want := []string{"superseded Install complete", "superseded Upgrade complete", "deployed Rollback to 1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("history %q", got)
	}
	st, err := c.Status(context.Background(), "wiki", 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Revision != 1 || st.Values["wiki"].(map[string]any)["replicas"] != 1 || len(st.Hooks) != 1 {
		t.Errorf("status of revision 1: %+v", st.Release)
	}
}
