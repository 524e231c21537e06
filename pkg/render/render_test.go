package render_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testSet holds the built-in catalog and, as "test", the test catalog.
func testSet() *repo.Set {
	return repo.NewSet(map[string]repo.Repository{"test": repo.NewCatalog("test", os.DirFS("testdata/catalog"))})
}

// planFor plans ref (REPO/NAME) from the test set.
func planFor(t *testing.T, ref string) *plan.Plan {
	t.Helper()
	return planIn(t, testSet(), ref)
}

// planIn plans ref from set, as the commands do.
func planIn(t *testing.T, set *repo.Set, ref string) *plan.Plan {
	t.Helper()
	p, err := plan.Make(context.Background(), set, plan.Source{Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// values merges the files of testdata/values.
func values(t *testing.T, files ...string) map[string]any {
	t.Helper()
	for i, f := range files {
		files[i] = filepath.Join("testdata", "values", f)
	}
	v, err := bundle.ValuesOptions{Files: files}.Merge()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		ref    string
		opts   render.TemplateOptions
		files  []string
		set    []string
	}{
		{golden: "mediawiki.yaml", ref: "stable/mediawiki", files: []string{"fixed-secrets.yaml"}},
		{golden: "mediawiki-custom.yaml", ref: "stable/mediawiki", opts: render.TemplateOptions{ReleaseName: "wiki", Namespace: "prod"},
			files: []string{"fixed-secrets.yaml"}, set: []string{"ingress.enabled=true", "ingress.host=wiki.example.org", "wiki.name=Docs", "database.persistence.size=20Gi"}},
		{golden: "mariadb.yaml", ref: "stable/mariadb", files: []string{"mariadb-fixed.yaml"}},
		{golden: "memcached.yaml", ref: "stable/memcached"},
		{golden: "mysql.yaml", ref: "stable/mysql", files: []string{"mysql-fixed.yaml"}},
		{golden: "postgresql.yaml", ref: "stable/postgresql", files: []string{"postgresql-fixed.yaml"}},
		{golden: "redis.yaml", ref: "stable/redis", files: []string{"redis-fixed.yaml"}},
		{golden: "redis-persistent.yaml", ref: "stable/redis", files: []string{"redis-fixed.yaml"}, set: []string{"persistence.enabled=true", "maxmemoryPolicy=noeviction"}},
		{golden: "redis-ha.yaml", ref: "stable/redis-ha", files: []string{"redis-fixed.yaml"}},
		{golden: "opensearch.yaml", ref: "stable/opensearch"},
		{golden: "opensearch-cluster.yaml", ref: "stable/opensearch", set: []string{"replicas=3"}},
		{golden: "varnish.yaml", ref: "stable/varnish", set: []string{"backend.host=web", "backend.port=8080"}},
		{golden: "wordpress.yaml", ref: "stable/wordpress", files: []string{"wordpress-fixed.yaml"}},
		{golden: "wordpress-cache.yaml", ref: "stable/wordpress", files: []string{"wordpress-fixed.yaml"}, set: []string{"objectCache.enabled=true", "wordpress.url=https://blog.example.com"}},
		{golden: "magento.yaml", ref: "stable/magento", files: []string{"magento-fixed.yaml"}, opts: render.TemplateOptions{ReleaseName: "shop", Namespace: "prod"}},
		{golden: "chain.yaml", ref: "test/app"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			vals := values(t, tt.files...)
			for _, s := range tt.set {
				v, err := bundle.ValuesOptions{Set: []string{s}}.Merge()
				if err != nil {
					t.Fatal(err)
				}
				vals = bundle.MergeMaps(vals, v)
			}
			tt.opts.Values = vals
			got, err := render.Template(context.Background(), planFor(t, tt.ref), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", "golden", tt.golden), got, *update)
		})
	}
}

func TestTemplateDeterministic(t *testing.T) {
	render1, err := render.Template(context.Background(), planFor(t, "stable/mediawiki"), render.TemplateOptions{Values: values(t, "fixed-secrets.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		again, err := render.Template(context.Background(), planFor(t, "stable/mediawiki"), render.TemplateOptions{Values: values(t, "fixed-secrets.yaml")})
		if err != nil {
			t.Fatal(err)
		}
		if again != render1 {
			t.Fatal("two renders of the same inputs differ")
		}
	}
}

// rendered renders ref (REPO/NAME) of the test set with opts and returns
// its objects by "Kind/name".
func rendered(t *testing.T, ref string, opts render.TemplateOptions) map[string]map[string]any {
	t.Helper()
	out, err := render.Template(context.Background(), planFor(t, ref), opts)
	if err != nil {
		t.Fatal(err)
	}
	return objects(t, out)
}

// object returns the object key ("Kind/name") of objs; the test stops
// when there is none.
func object(t *testing.T, objs map[string]map[string]any, key string) map[string]any {
	t.Helper()
	o := objs[key]
	if o == nil {
		t.Fatalf("no %s in %v", key, keys(objs))
	}
	return o
}

// objects splits a rendered stream into objects keyed by "Kind/name".
func objects(t *testing.T, manifest string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range strings.Split(manifest, "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if m == nil {
			continue
		}
		md := m["metadata"].(map[string]any)
		out[m["kind"].(string)+"/"+md["name"].(string)] = m
	}
	return out
}

var dig = testutil.Dig

// TestMediawikiWiring checks the app is wired to objects that exist in the
// same release, through the database's outputs.
func TestMediawikiWiring(t *testing.T) {
	objs := rendered(t, "stable/mediawiki", render.TemplateOptions{ReleaseName: "docs", Namespace: "team"})
	dep := object(t, objs, "Deployment/docs-mediawiki")
	env := containerEnv(dig(dep, "spec", "template", "spec", "containers", 0))
	host := dig(env["MEDIAWIKI_DB_HOST"], "value")
	if host != "docs-database.team.svc" {
		t.Errorf("MEDIAWIKI_DB_HOST = %v, want docs-database.team.svc", host)
	}
	if objs["Service/docs-database"] == nil {
		t.Errorf("the host names Service/docs-database, which the release does not contain")
	}
	if got := dig(env["MEDIAWIKI_DB_PORT"], "value"); got != "3306" {
		t.Errorf("MEDIAWIKI_DB_PORT = %v", got)
	}
	if got := dig(env["MEDIAWIKI_DB_NAME"], "value"); got != "mediawiki" {
		t.Errorf("MEDIAWIKI_DB_NAME = %v, want the requirement's value mediawiki", got)
	}
	ref := dig(env["MEDIAWIKI_DB_PASSWORD"], "valueFrom", "secretKeyRef").(map[string]any)
	secret := objs["Secret/"+ref["name"].(string)]
	if secret == nil {
		t.Fatalf("password Secret %v is not in the release", ref["name"])
	}
	if dig(secret, "data", ref["key"].(string)) == nil {
		t.Errorf("Secret %v has no key %v", ref["name"], ref["key"])
	}
	sts := objs["StatefulSet/docs-database"]
	if got := dig(sts, "spec", "template", "spec", "containers", 0, "env", 3, "valueFrom", "secretKeyRef", "name"); got != ref["name"] {
		t.Errorf("MariaDB reads its password from %v, the app from %v", got, ref["name"])
	}
}

func TestChainedOutputs(t *testing.T) {
	objs := rendered(t, "test/app", render.TemplateOptions{ReleaseName: "r"})
	if got := dig(objs["ConfigMap/r"], "data", "backend"); got != "http://r-store:6000" {
		t.Errorf("app sees backend url %v, want http://r-store:6000 (leaf's outputs through mid's)", got)
	}
}

func TestConditionDisablesRequirement(t *testing.T) {
	p := planFor(t, "test/toggle")
	on, err := render.Template(context.Background(), p, render.TemplateOptions{ReleaseName: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if objs := objects(t, on); objs["ConfigMap/r-store"] == nil || dig(objs["ConfigMap/r"], "data", "store") != "r-store" {
		t.Errorf("enabled requirement not rendered or not wired: %v", keys(objs))
	}
	off, err := render.Template(context.Background(), p, render.TemplateOptions{ReleaseName: "r", Values: map[string]any{"useStore": false}})
	if err != nil {
		t.Fatal(err)
	}
	if objs := objects(t, off); objs["ConfigMap/r-store"] != nil || dig(objs["ConfigMap/r"], "data", "store") != "none" {
		t.Errorf("disabled requirement still rendered or wired: %v", keys(objs))
	}
}

func TestMissingOutput(t *testing.T) {
	ctx := context.Background()
	s := testSet()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: consumer\nversion: 1.0.0\n"), 0o644)
	write := func(outputs string) *bundle.Bundle {
		os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db:\n    bundle: leaf\n    repository: test\n    version: ^1\n    outputs: ["+outputs+"]\n"), 0o644)
		b, err := bundle.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// An output the provider does not offer: refused when planning.
	_, err := plan.Resolve(ctx, s, write("host, password"), plan.Options{})
	want := `consumer 1.0.0 requires output "password" of db (leaf 1.2.0), which offers empty, host, port`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got  %v\n want %s", err, want)
	}
	// An offered output that renders empty: refused when computing values.
	p, err := plan.Resolve(ctx, s, write("empty"), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.Values(p, nil, render.ReleaseOptions{Name: "r", Namespace: "default"})
	want = `consumer 1.0.0 requires output "empty" of db (leaf 1.2.0), which rendered empty: check the values of db`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got  %v\n want %s", err, want)
	}
}

func TestCycle(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: leaf\nversion: 1.0.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  again: {bundle: mid, repository: test, version: '*'}\n"), 0o644)
	b, err := bundle.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Resolve(context.Background(), testSet(), b, plan.Options{})
	if err == nil || !strings.Contains(err.Error(), "dependency cycle: leaf -> mid -> leaf") {
		t.Errorf("error = %v, want the cycle's path", err)
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A requirement met by an existing service: nothing of it is installed and
// the app is wired to what the user gave.
func TestExternalRequirement(t *testing.T) {
	ext := map[string]any{"database": map[string]any{"external": map[string]any{
		"host": "db.example.com", "port": 3306, "database": "wiki", "username": "wiki",
		"passwordSecret": "wiki-db", "passwordKey": "password",
	}}}
	objs := rendered(t, "stable/mediawiki", render.TemplateOptions{ReleaseName: "w", Values: ext})
	for k := range objs {
		if strings.Contains(k, "database") {
			t.Errorf("external database still renders %s", k)
		}
	}
	dep := objs["Deployment/w-mediawiki"]
	env := containerEnv(dig(dep, "spec", "template", "spec", "containers", 0))
	if got := dig(env["MEDIAWIKI_DB_HOST"], "value"); got != "db.example.com" {
		t.Errorf("host = %v", got)
	}
	if got := dig(env["MEDIAWIKI_DB_PASSWORD"], "valueFrom", "secretKeyRef", "name"); got != "wiki-db" {
		t.Errorf("password secret = %v", got)
	}
	// An output the app needs and the user did not give.
	delete(ext["database"].(map[string]any)["external"].(map[string]any), "passwordKey")
	_, err := render.Template(context.Background(), planFor(t, "stable/mediawiki"), render.TemplateOptions{Values: ext})
	want := `mediawiki 1.2.2 requires output "passwordKey" of database (an existing mariadb service), which is not given: set database.external.passwordKey`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// outputsOf are the outputs of p installed, with its default values, as
// release rel.
func outputsOf(t *testing.T, p *plan.Plan, rel render.ReleaseOptions) map[string]string {
	t.Helper()
	vals, err := render.Values(p, nil, rel)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := render.Outputs(p, vals, rel)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func TestRootOutputs(t *testing.T) {
	outs := outputsOf(t, planFor(t, "stable/mariadb"), render.ReleaseOptions{Name: "db", Namespace: "data"})
	want := map[string]string{"host": "db-mariadb.data.svc", "port": "3306", "database": "app", "username": "app", "passwordSecret": "db-mariadb", "passwordKey": "mariadb-password"}
	for k, v := range want {
		if outs[k] != v {
			t.Errorf("output %s = %q, want %q", k, outs[k], v)
		}
	}
	if len(outs) != len(want) {
		t.Errorf("outputs: %v", outs)
	}
}

// A release name YAML 1.1 reads as a bool or a number (y, no, on, 1e3)
// stays a string in every label of every catalog bundle: Kubernetes
// refuses a label whose value is not a string.
func TestCatalogLabelsOfAnyReleaseName(t *testing.T) {
	refs := []string{"stable/mariadb", "stable/memcached", "stable/mysql", "stable/postgresql", "stable/redis", "stable/redis-ha",
		"stable/opensearch", "stable/varnish", "stable/mediawiki", "stable/wordpress", "stable/magento"}
	for _, name := range []string{"y", "no", "on", "1e3"} {
		for _, ref := range refs {
			got, err := render.Template(context.Background(), planFor(t, ref), render.TemplateOptions{ReleaseName: name, Namespace: "off"})
			if err != nil {
				t.Fatalf("%s as %q: %v", ref, name, err)
			}
			ms, err := (&render.Rendered{Manifest: got}).Manifests()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				var walk func(path string, v any)
				walk = func(path string, v any) {
					switch v := v.(type) {
					case map[string]any:
						for k, e := range v {
							if k == "labels" || k == "matchLabels" || k == "selector" {
								if l, ok := e.(map[string]any); ok {
									for lk, lv := range l {
										if _, ok := lv.(string); !ok && lk != "matchLabels" && lk != "matchExpressions" {
											t.Errorf("%s as %q: %s %s: %s.%s is %T %v, not a string", ref, name, m.Kind, m.Name, path+"."+k, lk, lv, lv)
										}
									}
								}
							}
							walk(path+"."+k, e)
						}
					case []any:
						for _, e := range v {
							walk(path+"[]", e)
						}
					}
				}
				walk("", m.Object)
			}
		}
	}
}

// A composed chart records the repository its root came from, and none for
// a root from a directory, whatever its Chart.yaml's annotations say.
func TestChartRecordsRepository(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: app\nversion: 1.0.0\nannotations:\n  " + plan.RepositoryAnnotation + ": stable\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
		"values.yaml":       "a: 1\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for ref, want := range map[string]string{dir: "", "stable/memcached": "stable"} {
		c, err := render.Chart(planFor(t, ref), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Metadata.Annotations[plan.RepositoryAnnotation]; got != want {
			t.Errorf("%s: records repository %q, want %q", ref, got, want)
		}
	}
}
