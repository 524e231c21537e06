package render_test

import (
	"context"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	common "helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// claimPassword is a claim's generated password in a Secret's data.
var claimPassword = regexp.MustCompile(`(?m)^(  password: )"[A-Za-z0-9+/=]{32}"$`)

// The objects each catalog database's claim templates make, as Helm
// renders them for one consumer identity (app "blog", instance as the
// catalog's apps name it, provider release team-db of namespace data):
// in the app's release of the provider's namespace, in the release of an
// app of another namespace, and in the provider's grant release for that
// app with the copy the granted app's release makes. The provider's
// version is pinned, so that the golden files stay what they are through
// catalog version bumps (the claim's Job is named after it).
func TestClaimTemplatesGolden(t *testing.T) {
	dbOutputs := "[host, port, database, username, passwordSecret, passwordKey]"
	for _, tc := range []struct{ provider, instance, outputs string }{
		{"mariadb", "database", dbOutputs}, {"mysql", "database", dbOutputs}, {"postgresql", "database", dbOutputs},
		{"redis", "cache", "[host, port, username, keyPrefix, passwordSecret, passwordKey]"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			b := pinnedBinding(t, tc.provider, tc.instance)
			var sb strings.Builder
			for _, ns := range []string{"data", "web"} {
				sb.WriteString("### the release of app blog of namespace " + ns + "\n")
				sb.WriteString(claimManifests(t, tc.instance, tc.outputs, ns, b))
			}
			cons := plan.Consumer{Namespace: "web", Release: "blog", Instance: tc.instance}
			chrt, vals, _, err := render.GrantChart(b, cons, []render.Subject{{Kind: "Group", Name: "system:serviceaccounts:web"}})
			if err != nil {
				t.Fatal(err)
			}
			sb.WriteString("### the grant release for app blog of namespace web\n")
			sb.WriteString(renderChart(t, chrt, vals, render.GrantName("team-db", cons), "data"))
			granted := *b
			granted.Grant = &plan.Grant{Namespace: "data", Name: render.GrantName("team-db", cons)}
			sb.WriteString("### the release of app blog of namespace web, granted\n")
			sb.WriteString(claimManifests(t, tc.instance, tc.outputs, "web", &granted))
			got := sb.String()
			if !claimPassword.MatchString(got) {
				t.Fatalf("no generated password in:\n%s", got)
			}
			got = claimPassword.ReplaceAllString(got, `${1}"MASKED"`)
			testutil.Golden(t, filepath.Join("testdata", "golden", "claims", tc.provider+".yaml"), got, *update)
		})
	}
}

// pinnedBinding is providerBinding with the provider's version pinned to
// 1.2.0.
func pinnedBinding(t *testing.T, provider, instance string) *plan.Binding {
	t.Helper()
	b := providerBinding(t, provider, instance)
	p := b.Provider
	b.Provider = &bundle.Bundle{Name: p.Name, Version: semver.MustParse("1.2.0"), AppVersion: p.AppVersion, Description: p.Description, File: p.File, Chart: p.Chart, Source: p.Source}
	return b
}

// claimManifests renders app blog of namespace ns, which requires
// instance (outputs) of the provider b binds, and returns the documents
// its claim's subchart renders, as in the release's manifest.
func claimManifests(t *testing.T, instance, outputs, ns string, b *plan.Binding) string {
	t.Helper()
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 1.0.0\n",
		"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  " + instance + ": {bundle: " + b.Provider.Name + ", version: ^1.0.0, outputs: " + outputs + "}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\ndata:\n" +
			"  wiring: {{ toJson .Values.requires | quote }}\n",
	})
	ctx := context.Background()
	in, err := plan.Read(ctx, testSet(), plan.Source{Reference: dir})
	if err != nil {
		t.Fatal(err)
	}
	in.Bound = []*plan.Binding{b}
	p, err := in.Resolve(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := render.Template(ctx, p, render.TemplateOptions{ReleaseName: "blog", Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, doc := range strings.SplitAfter(out, "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.HasPrefix(doc, "# Source: app/templates/") {
			continue
		}
		sb.WriteString("---\n" + strings.TrimSuffix(doc, "---\n"))
	}
	return sb.String()
}

// renderChart renders chrt with vals as release name of namespace ns, its
// documents sorted as Helm sorts them, each with its Source.
func renderChart(t *testing.T, chrt *chart.Chart, vals map[string]any, name, ns string) string {
	t.Helper()
	rv, err := commonutil.ToRenderValues(chrt, vals, common.ReleaseOptions{Name: name, Namespace: ns, Revision: 1, IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(chrt, rv)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, n := range slices.Sorted(maps.Keys(files)) {
		docs := releaseutil.SplitManifests(files[n])
		keys := slices.Collect(maps.Keys(docs))
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			sb.WriteString("---\n# Source: " + n + "\n" + docs[k] + "\n")
		}
	}
	return sb.String()
}
