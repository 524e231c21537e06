package bluegreen

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

func TestOtherColor(t *testing.T) {
	for in, want := range map[string]string{"": "blue", "blue": "green", "green": "blue"} {
		if got := OtherColor(in); got != want {
			t.Errorf("OtherColor(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ColorRelease("shop", "green"); got != "shop-green" {
		t.Errorf("ColorRelease = %q", got)
	}
}

const colorManifest = `---
# Source: web/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop-green
  labels: {app.kubernetes.io/instance: shop-green, app.kubernetes.io/name: web, helm.sh/chart: web-1.0.0}
spec:
  type: NodePort
  clusterIP: 10.0.0.7
  selector: {app.kubernetes.io/instance: shop-green, app.kubernetes.io/name: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: shop-green-admin}
spec:
  selector: {app: shop-green-admin}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: shop-green-headless}
spec:
  clusterIP: None
  selector: {app: shop-green}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-green}
`

func TestRouterServices(t *testing.T) {
	m, names, err := RouterServices(colorManifest, "shop", "green")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"shop", "shop-admin"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	docs := strings.Split(strings.TrimPrefix(m, "---\n"), "---\n")
	if len(docs) != 2 {
		t.Fatalf("%d Services, want 2:\n%s", len(docs), m)
	}
	var svc map[string]any
	if err := yaml.Unmarshal([]byte(docs[0]), &svc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "shop", "labels": map[string]any{"app.kubernetes.io/name": "web", "bundle.sh/color": "green"}},
		"spec": map[string]any{
			"type":     "NodePort",
			"selector": map[string]any{"app.kubernetes.io/instance": "shop-green", "app.kubernetes.io/name": "web"},
			"ports":    []any{map[string]any{"name": "http", "port": float64(80), "targetPort": "http"}},
		},
	}
	if !reflect.DeepEqual(svc, want) {
		t.Errorf("stable Service:\n%v\nwant\n%v", svc, want)
	}
	// The same manifest is made the same way every time (no spurious
	// router revisions' differences).
	if m2, _, _ := RouterServices(colorManifest, "shop", "green"); m2 != m {
		t.Errorf("not deterministic:\n%s\n%s", m, m2)
	}
}

func TestRouterServicesRefuses(t *testing.T) {
	for name, c := range map[string]struct{ manifest, want string }{
		"not named after the release":      {"apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n", `Service "web" of shop-blue is not named after its release`},
		"a prefix that is not the release": {"apiVersion: v1\nkind: Service\nmetadata: {name: shop-blueberry}\nspec: {selector: {app: x}}\n", `Service "shop-blueberry"`},
		"no selector":                      {"apiVersion: v1\nkind: Service\nmetadata: {name: shop-blue}\nspec: {externalName: x.example.com, type: ExternalName}\n", "has no selector"},
		"a selector without the release":   {"apiVersion: v1\nkind: Service\nmetadata: {name: shop-blue}\nspec: {selector: {app: web}}\n", "selects its pods without the release name"},
		"no Service":                       {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-blue}\n", "has no Service to route to"},
	} {
		_, _, err := RouterServices(c.manifest, "shop", "blue")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestParseRouter(t *testing.T) {
	rel := &release.Record{Name: "shop", Annotations: map[string]string{
		annBlueGreen: "router", annLive: "green", annSpare: "blue",
	}, Manifest: "---\napiVersion: v1\nkind: Service\nmetadata: {name: shop-admin}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: shop}\n"}
	st := parseRouter(rel)
	want := &State{Name: "shop", Live: "green", Spare: "blue", Services: []string{"shop", "shop-admin"}, router: rel}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("parseRouter = %+v, want %+v", st, want)
	}
	if st.LiveRelease() != "shop-green" || st.SpareRelease() != "shop-blue" {
		t.Errorf("releases: %s %s", st.LiveRelease(), st.SpareRelease())
	}
	st.Spare = ""
	if st.SpareRelease() != "" {
		t.Errorf("SpareRelease without a spare: %q", st.SpareRelease())
	}
	if parseRouter(&release.Record{Name: "shop", Bundle: "web"}) != nil {
		t.Error("a plain release parsed as a router")
	}
}

func TestUnboundRequirements(t *testing.T) {
	p := &plan.Plan{
		Root:  &plan.Node{Requires: []*plan.Node{{Path: "cache"}, {Path: "database"}, {Path: "search"}}},
		Bound: map[string]*plan.Binding{"database": {}},
	}
	if got, want := UnboundRequirements(p), []string{"cache", "search"}; !reflect.DeepEqual(got, want) {
		t.Errorf("UnboundRequirements = %v, want %v", got, want)
	}
	err := errUnbound("shop", []string{"cache", "search"})
	if !errors.Is(err, errdefs.ErrInvalid) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "--bind cache=RELEASE --bind search=RELEASE") {
		t.Errorf("errUnbound: %v", err)
	}
}

func TestSplitIngresses(t *testing.T) {
	in := `---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-blue}
data: {a: "Ingress"}
---
apiVersion: v1
kind: Secret
metadata: {name: shop-blue-own}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop-blue}
spec: {secretName: shop-blue-cert}
---
# Source: web/templates/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop-blue, labels: {app.kubernetes.io/instance: shop-blue, app.kubernetes.io/name: web}, annotations: {cert-manager.io/cluster-issuer: le}}
spec:
  tls: [{hosts: [shop.example.com], secretName: shop-blue-tls}, {secretName: shop-blue-own}, {secretName: shop-blue-cert}, {secretName: other-tls}]
  defaultBackend: {service: {name: shop-blue, port: {number: 80}}}
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: shop-blue-web, port: {name: http}}}}
      - {path: /other, pathType: Prefix, backend: {service: {name: other, port: {number: 80}}}}
      - {path: /x, pathType: Prefix, backend: {service: {name: shop-blueberry, port: {number: 80}}}}
`
	rest, out, err := SplitIngresses(in, "shop", "blue")
	if err != nil {
		t.Fatal(err)
	}
	if docs := splitDocs(rest); len(docs) != 3 || !strings.Contains(rest, "# Source: web/templates/cm.yaml\n") || !strings.Contains(docs[0], "name: shop-blue}\ndata: {a: \"Ingress\"}") {
		t.Fatalf("the other documents, as they are:\n%s", rest)
	}
	docs := splitDocs(out)
	if len(docs) != 1 {
		t.Fatalf("the Ingresses:\n%s", out)
	}
	var ing map[string]any
	if err := yaml.Unmarshal([]byte(docs[0]), &ing); err != nil {
		t.Fatal(err)
	}
	var names []string
	spec := ing["spec"].(map[string]any)
	names = append(names, spec["defaultBackend"].(map[string]any)["service"].(map[string]any)["name"].(string))
	for _, p := range spec["rules"].([]any)[0].(map[string]any)["http"].(map[string]any)["paths"].([]any) {
		names = append(names, p.(map[string]any)["backend"].(map[string]any)["service"].(map[string]any)["name"].(string))
	}
	if want := []string{"shop", "shop-web", "other", "shop-blueberry"}; !reflect.DeepEqual(names, want) {
		t.Errorf("backends %v, want %v", names, want)
	}
	var secrets []string
	for _, t := range spec["tls"].([]any) {
		secrets = append(secrets, t.(map[string]any)["secretName"].(string))
	}
	if want := []string{"shop-tls", "shop-blue-own", "shop-blue-cert", "other-tls"}; !reflect.DeepEqual(secrets, want) {
		t.Errorf("TLS secrets %v, want %v (the colour's own Secret and Certificate keep their names)", secrets, want)
	}
	// Without cert-manager's annotations, a TLS secret is the chart's
	// business: its name is kept.
	_, plain, err := SplitIngresses("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop-blue}\nspec:\n  tls: [{secretName: shop-blue-tls}]\n", "shop", "blue")
	if err != nil || !strings.Contains(plain, "secretName: shop-blue-tls") {
		t.Errorf("a TLS secret without cert-manager: %v\n%s", err, plain)
	}
	meta := ing["metadata"].(map[string]any)
	if meta["name"] != "shop" || !reflect.DeepEqual(meta["labels"], map[string]any{"app.kubernetes.io/name": "web", colorLabel: "blue"}) {
		t.Errorf("the router's Ingress is named and labelled as the app's: %v", meta)
	}
}

// A blue/green app bound to a provider that offers claims: the claim is
// the app's, made once by its router before the first colour starts, and
// both colours use it (one database for both); switching, rolling back and
// pruning keep it; the Ingress is the router's, the live colour's;
// moving the claim to another provider is refused; uninstalling the app
// removes both colours and the router, and the live colour alone is not
// uninstalled.
func TestBlueGreenClaimsHeldByRouter(t *testing.T) {
	ctx := context.Background()
	lab, _, c := bindLab(t) // c is of namespace team
	claimLab(t, lab)
	for _, name := range []string{"shared", "other"} {
		if _, err := c.rel.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: name}); err != nil {
			t.Fatal(err)
		}
	}
	app := func(bind ...string) release.UpgradeOptions {
		return release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Bind: bind}, ReleaseName: "wiki"}
	}
	router := func() *helmrelease.Release {
		t.Helper()
		r, err := releasetest.RecordsOf(c.cfg).Last("wiki")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	colour := func(name string) string {
		t.Helper()
		r, err := releasetest.RecordsOf(c.cfg).Last(name)
		if err != nil {
			t.Fatal(err)
		}
		return r.Manifest
	}

	st, err := c.Upgrade(ctx, app("database=shared"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Live != "blue" {
		t.Fatalf("first upgrade: %+v", st)
	}
	r := router()
	claim := "name: wiki-database\n"
	objs := testutil.Manifest(t, r.Manifest)
	secret, ingress := testutil.Find(objs, "Secret", "wiki-database"), testutil.Find(objs, "Ingress", "wiki")
	if secret == nil || ingress == nil {
		t.Fatalf("the router holds no claim Secret wiki-database or no Ingress wiki:\n%s", r.Manifest)
	}
	for _, tt := range []struct {
		what string
		got  any
		want any
	}{
		{"the claim's provider", testutil.Field(secret, "metadata.annotations.provider"), "team/shared"},
		{"the stable Service", testutil.Find(objs, "Service", "wiki") != nil, true},
		{"the Ingress's colour label", ingress.GetLabels()["bundle.sh/color"], "blue"},
		{"the Ingress's backend", testutil.Field(ingress, "spec.rules.0.http.paths.0.backend.service.name"), "wiki"},
		{"the Ingress's host", testutil.Field(ingress, "spec.rules.0.host"), "app.example.com"},
	} {
		if tt.got != tt.want {
			t.Errorf("the router: %s is %v, want %v:\n%s", tt.what, tt.got, tt.want, r.Manifest)
		}
	}
	if u, _ := testutil.Field(secret, "metadata.annotations.user").(string); !strings.HasPrefix(u, "wiki_database_") {
		t.Errorf("the router's claim: user %q, want wiki_database_...", u)
	}
	user := regexp.MustCompile(`user: (\S+)`).FindString(r.Manifest)
	if r.Version != 2 || !strings.Contains(r.Info.Description, "claims: database") {
		t.Errorf("router revision %d (%s), want 2: the claim before blue, the switch after", r.Version, r.Info.Description)
	}
	blue := colour("wiki-blue")
	if strings.Contains(blue, "kind: Secret") || strings.Contains(blue, "kind: Ingress") || !strings.Contains(blue, `secret: "wiki-database"`) {
		t.Errorf("blue holds the claim or an Ingress, or is not wired to the app's claim:\n%s", blue)
	}

	// Green: the same claim, not made again; green's Ingress.
	green := app()
	green.Values.Set = []string{"host=new"}
	if _, err := c.Upgrade(ctx, green); err != nil {
		t.Fatal(err)
	}
	r = router()
	if !strings.Contains(r.Manifest, "host: new.example.com") || strings.Count(r.Manifest, "kind: Ingress") != 1 {
		t.Errorf("the router's Ingress is not green's:\n%s", r.Manifest)
	}
	if green := colour("wiki-green"); !strings.Contains(green, `secret: "wiki-database"`) || strings.Contains(green, "kind: Secret") {
		t.Errorf("green is not wired to the app's claim:\n%s", green)
	}
	if r.Version != 3 || !strings.Contains(r.Manifest, claim) || !strings.Contains(r.Manifest, user) {
		t.Errorf("router revision %d after green, want 3, with the same claim (%s):\n%s", r.Version, user, r.Manifest)
	}

	// A dry run says what would go live, and changes nothing.
	dry := app()
	dry.DryRun = true
	next, err := c.Upgrade(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	if next.Live != "blue" || next.Spare != "green" || next.Release == nil || !strings.Contains(next.Release.Manifest, `secret: "wiki-database"`) ||
		strings.Contains(next.Release.Manifest, "kind: Ingress") || !reflect.DeepEqual(next.Services, []string{"wiki"}) {
		t.Errorf("dry run: %+v", next)
	}
	if rec, _ := releasetest.RecordsOf(c.cfg).Last("wiki-blue"); router().Version != 3 || rec.Version != 1 {
		t.Errorf("the dry run changed the router (revision %d) or blue (revision %d)", router().Version, rec.Version)
	}

	// Another provider for the claimed requirement: refused, nothing changed.
	_, err = c.Upgrade(ctx, app("database=other"))
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "has a claim (its own database) on team/shared") {
		t.Errorf("moving the claim: %v", err)
	}
	if router().Version != 3 {
		t.Errorf("a refused upgrade changed the router")
	}

	// The router is not rolled back to a revision of its own.
	if _, err := c.rel.Rollback(ctx, release.RollbackOptions{ReleaseName: "wiki", Revision: 1}); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "is a blue-green app, not rolled back to a revision of its own") {
		t.Errorf("rollback of the router to a revision: %v", err)
	}

	// A colour upgraded on its own is upgraded as a colour.
	alone := app()
	alone.ReleaseName = "wiki-blue"
	up, err := c.rel.Upgrade(ctx, alone)
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := releasetest.RecordsOf(c.cfg).Last("wiki-blue"); !strings.Contains(up.Manifest, `secret: "wiki-database"`) || strings.Contains(up.Manifest, "kind: Secret") ||
		strings.Contains(up.Manifest, "kind: Ingress") || rec.Chart.Metadata.Annotations[annColorOf] != "wiki" {
		t.Errorf("a colour upgraded on its own:\n%s", up.Manifest)
	}

	// Rollback and prune keep the claim; the Ingress follows the live colour.
	if st, err = c.Rollback(ctx, "wiki"); err != nil || st.Live != "blue" {
		t.Fatalf("rollback: %+v, %v", st, err)
	}
	if r = router(); !strings.Contains(r.Manifest, claim) || !strings.Contains(r.Manifest, "host: app.example.com") || r.Chart.Metadata.Annotations[annLive] != "blue" {
		t.Errorf("router after rollback:\n%s", r.Manifest)
	}
	if _, _, err := c.Prune(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	if r = router(); !strings.Contains(r.Manifest, claim) || !strings.Contains(r.Manifest, user) {
		t.Errorf("prune dropped the claim:\n%s", r.Manifest)
	}

	// The provider is not uninstalled from under the app; the fix is to
	// uninstall the app, not to unbind a colour.
	_, err = c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "shared"})
	var fe *errdefs.Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "team/wiki (database), team/wiki-blue (database)") {
		t.Fatalf("uninstalling the provider: %v", err)
	}
	if want := []errdefs.Fix{{Run: []string{"uninstall", "wiki", "-n", "team"}}, {Options: []string{"force"}, Use: true}}; !reflect.DeepEqual(fe.Fixes, want) {
		t.Errorf("fixes %+v, want %+v", fe.Fixes, want)
	}

	// The live colour alone is not uninstalled; the app is, whole.
	_, err = c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "wiki-blue"})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), `"wiki-blue" is the live colour of blue-green app "wiki"`) {
		t.Errorf("uninstalling the live colour: %v", err)
	}
	un, err := c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if len(un.Colors) != 1 || un.Colors[0].Name != "wiki-blue" {
		t.Errorf("uninstalled colours: %+v", un.Colors)
	}
	for _, name := range []string{"wiki", "wiki-blue"} {
		if r, err := releasetest.RecordsOf(c.cfg).Last(name); err == nil {
			t.Errorf("%s is still recorded (%s)", name, r.Info.Status)
		}
	}
}

// A first blue-green upgrade whose colour cannot be switched to (its
// Service is not named after its release) leaves the router holding the
// app's claims and no live colour: the state says so, and uninstalling
// the app removes what there is.
func TestBlueGreenFirstColourNeverSwitched(t *testing.T) {
	ctx := context.Background()
	lab, _, c := bindLab(t)
	claimLab(t, lab)
	lab.Put(t, "fixed", "1.0.0", map[string]string{
		"bundle.yaml":        "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: cdb, repository: lab, version: ^1.0.0, outputs: [secret]}\n",
		"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
	})
	if _, err := c.rel.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/fixed", Bind: []string{"database=shared"}}, ReleaseName: "wiki"})
	if err == nil || !strings.Contains(err.Error(), `Service "web" of wiki-blue is not named after its release`) {
		t.Fatalf("first upgrade: %v", err)
	}
	st, err := c.Read(ctx, "wiki")
	if err != nil || st.Live != "" || st.LiveRelease() != "" || st.Spare != "" {
		t.Fatalf("state: %+v, %v", st, err)
	}
	if r, _ := releasetest.RecordsOf(c.cfg).Last("wiki"); !strings.Contains(r.Manifest, "name: wiki-database\n") {
		t.Errorf("the router does not hold the claim:\n%s", r.Manifest)
	}
	if _, err := c.Rollback(ctx, "wiki"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("rollback without a spare: %v", err)
	}
	un, err := c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "wiki"})
	if err != nil || len(un.Colors) != 1 || un.Colors[0].Name != "wiki-blue" {
		t.Fatalf("uninstall: %+v, %v", un, err)
	}
}

// A new version that no longer requires the claimed database: the router
// keeps the claim while the spare uses it and drops it on prune, even when
// the spare was uninstalled by hand first; a version that renames the
// claimed instance on the same provider is refused; a colour upgraded on
// its own cannot claim what the router does not hold.
func TestBlueGreenClaimKeptForTheSpare(t *testing.T) {
	ctx := context.Background()
	lab, _, c := bindLab(t)
	claimLab(t, lab)
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ .Release.Name }}'}\nspec:\n  selector: {app: '{{ .Release.Name }}'}\n  ports: [{port: 80}]\n"
	lab.Put(t, "capp", "2.0.0", map[string]string{"templates/svc.yaml": svc})
	lab.Put(t, "capp", "3.0.0", map[string]string{
		"bundle.yaml":        "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: cdb, repository: lab, version: ^1.0.0, outputs: [secret]}\n",
		"templates/svc.yaml": svc,
	})
	for _, name := range []string{"shared", "other"} {
		if _, err := c.rel.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: name}); err != nil {
			t.Fatal(err)
		}
	}
	up := func(version string, bind ...string) (*State, error) {
		return c.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Version: mustConstraint(t, version), Bind: bind}, ReleaseName: "wiki"})
	}
	holds := func(when string, want bool) {
		t.Helper()
		r, err := releasetest.RecordsOf(c.cfg).Last("wiki")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(r.Manifest, "name: wiki-database\n"); got != want {
			t.Errorf("%s: the router holds the claim: %v, want %v\n%s", when, got, want, r.Manifest)
		}
	}
	if st, err := up("1.0.0", "database=shared"); err != nil || !reflect.DeepEqual(st.NewClaims, []string{"database on team/shared"}) {
		t.Fatalf("first upgrade: %+v, %v", st, err)
	}
	if st, err := up("2.0.0"); err != nil || len(st.NewClaims) != 0 {
		t.Fatalf("second upgrade: %+v, %v", st, err)
	}
	holds("green live without the requirement, blue the spare", true)

	// A colour on its own cannot claim what the router does not hold.
	_, err := c.rel.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Version: mustConstraint(t, "1.0.0"), Bind: []string{"database=other"}}, ReleaseName: "wiki-blue"})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `whose router holds no claim for database on team/other`) {
		t.Errorf("a colour claiming on its own: %v", err)
	}

	// Renaming the claimed instance: refused against the live colour.
	if _, err := c.Rollback(ctx, "wiki"); err != nil { // blue (1.0.0, claimed) live again
		t.Fatal(err)
	}
	if _, err := up("3.0.0", "db=shared"); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "requirement database, which has a claim (its own database) on team/shared, is gone and requirement db would claim anew there") {
		t.Errorf("renaming the claimed instance: %v", err)
	}
	if _, err := up("2.0.0"); err != nil { // green (2.0.0) live, blue the spare
		t.Fatal(err)
	}
	holds("green live again", true)

	// The spare uninstalled by hand: prune finishes the job.
	if _, err := c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "wiki-blue"}); err != nil {
		t.Fatal(err)
	}
	st, un, err := c.Prune(ctx, "wiki")
	if err != nil || st.Spare != "" || un == nil || un.Name != "wiki-blue" {
		t.Fatalf("prune after the spare was uninstalled: %+v, %+v, %v", st, un, err)
	}
	holds("pruned: no colour uses the claim", false)
}

// Rollback and prune render the router's claims as it carries them: they
// work, and change no claim, when the provider is gone.
func TestBlueGreenSwitchWithoutTheProvider(t *testing.T) {
	ctx := context.Background()
	_, _, c := sharedProvider(t)
	blueAndGreen(t, c)
	claim := func() string {
		t.Helper()
		r, err := releasetest.RecordsOf(c.cfg).Last("wiki")
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitDocs(r.Manifest) {
			if strings.Contains(doc, "kind: Secret") {
				return doc
			}
		}
		t.Fatalf("the router holds no claim:\n%s", r.Manifest)
		return ""
	}
	before := claim()
	if _, err := c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "shared", Force: true}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Rollback(ctx, "wiki"); err != nil || st.Live != "blue" {
		t.Fatalf("rollback without the provider: %+v, %v", st, err)
	}
	if after := claim(); after != before {
		t.Errorf("rollback changed the claim:\n%s\nwas\n%s", after, before)
	}
	if _, _, err := c.Prune(ctx, "wiki"); err != nil {
		t.Fatalf("prune without the provider: %v", err)
	}
	if after := claim(); after != before {
		t.Errorf("prune changed the claim:\n%s\nwas\n%s", after, before)
	}
}

// A colour rolled back on its own to a revision that claimed what the
// router no longer holds is refused.
func TestBlueGreenColourRollbackChecksClaims(t *testing.T) {
	ctx := context.Background()
	lab, _, c := bindLab(t)
	claimLab(t, lab)
	lab.Put(t, "capp", "2.0.0", map[string]string{"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ .Release.Name }}'}\nspec:\n  selector: {app: '{{ .Release.Name }}'}\n  ports: [{port: 80}]\n"})
	if _, err := c.rel.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	up := func(version string, bind ...string) {
		t.Helper()
		if _, err := c.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Version: mustConstraint(t, version), Bind: bind}, ReleaseName: "wiki"}); err != nil {
			t.Fatal(err)
		}
	}
	up("1.0.0", "database=shared") // blue, claimed
	up("1.0.0")                    // green revision 1, claimed
	if _, err := c.Rollback(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	up("2.0.0") // green revision 2, no claim; blue the spare
	if _, _, err := c.Prune(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	_, err := c.rel.Rollback(ctx, release.RollbackOptions{ReleaseName: "wiki-green", Revision: 1})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `changing "wiki-green" on its own refused`) || !strings.Contains(err.Error(), "holds no claim for database on team/shared") {
		t.Errorf("rolling a colour back to a claim the router dropped: %v", err)
	}
	if r, _ := releasetest.RecordsOf(c.cfg).Last("wiki-green"); r.Version != 2 {
		t.Errorf("wiki-green rolled back anyway: revision %d", r.Version)
	}
}

// interruptedSwitch is blue/green app wiki in namespace team, green live
// and blue the spare (router revision 3 records it, and its stable Service
// wiki selects green), whose router was then left pending-upgrade by a
// switch back to blue cut off from the API server before it reached the
// Services: revision 4 records live blue and spare green while the
// Services, in the cluster, still select green. extra are documents added
// to revision 4's manifest (a Service the switch would have added).
// serve sets what the stable Services select in the cluster, by Service
// name (as the router's applies would).
func interruptedSwitch(t *testing.T, extra string) (c *tc, up func() release.UpgradeOptions, serve func(map[string]map[string]string)) {
	t.Helper()
	ctx := context.Background()
	_, f, c := sharedProvider(t)
	up = func() release.UpgradeOptions {
		return release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=shared"}}, ReleaseName: "wiki"}
	}
	for range 2 {
		if _, err := c.Upgrade(ctx, up()); err != nil {
			t.Fatal(err)
		}
	}
	serve = func(sel map[string]map[string]string) {
		t.Helper()
		services := f.Clientset.CoreV1().Services("team")
		for name, s := range sel {
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"meta.helm.sh/release-name": "wiki"}}, Spec: corev1.ServiceSpec{Selector: s}}
			if _, err := services.Update(ctx, svc, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
				_, err = services.Create(ctx, svc, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	serve(map[string]map[string]string{"wiki": {"app": "wiki-green"}})
	r3, err := releasetest.RecordsOf(c.cfg).Last("wiki")
	if err != nil || r3.Version != 3 || r3.Chart.Metadata.Annotations[annLive] != "green" {
		t.Fatalf("router before the cut: %+v, %v", r3, err)
	}
	r4 := *r3
	info := *r3.Info
	info.Status, info.Description = rcommon.StatusPendingUpgrade, "Preparing upgrade"
	ch := *r3.Chart
	md := *ch.Metadata
	md.Annotations = maps.Clone(md.Annotations)
	md.Annotations[annLive], md.Annotations[annSpare] = "blue", "green"
	ch.Metadata = &md
	r4.Info, r4.Chart, r4.Version = &info, &ch, 4
	r4.Manifest += extra
	f.Store(t, &r4)
	return c, up, serve
}

// The live colour of a blue/green app is what its stable Services select,
// not what its router's record says: after a switch cut off half-way (the
// record pending, saying blue; the Services selecting green) status says
// green, prune removes blue, an upgrade brings up blue (the colour not
// served) and switches to it, a rollback switches to blue, and green alone
// is not uninstalled; the pending revision is marked failed and the record
// made to say what the Services select, with a line saying so.
func TestBlueGreenActsOnTheServices(t *testing.T) {
	ctx := context.Background()
	revision := func(t *testing.T, c *tc, name string) int {
		t.Helper()
		r, err := releasetest.RecordsOf(c.cfg).Last(name)
		if err != nil || r.Info.Status != rcommon.StatusDeployed {
			t.Fatalf("%s: %v %v, want it deployed", name, r, err)
		}
		return r.Version
	}
	// reconciled checks the router's history after an operation: revision
	// 4 (pending) marked failed (then superseded, as Helm's upgrade leaves
	// the revision it moves on from), revision 5 recording the truth (live
	// green, spare blue), and the operation's own revisions after it.
	reconciled := func(t *testing.T, c *tc, st *State) {
		t.Helper()
		r4, err := releasetest.RecordsOf(c.cfg).Get("wiki", 4)
		if err != nil || r4.Info.Status.IsPending() || !strings.HasPrefix(r4.Info.Description, release.RecoveredNote) {
			t.Errorf("router revision 4 after the operation: %v %v, want it marked failed", r4.Info, err)
		}
		r5, err := releasetest.RecordsOf(c.cfg).Get("wiki", 5)
		if err != nil || r5.Chart.Metadata.Annotations[annLive] != "green" || r5.Chart.Metadata.Annotations[annSpare] != "blue" {
			t.Errorf("router revision 5: %v, want the truth recorded (live green, spare blue)", err)
		}
		if !strings.Contains(st.Reconciled, "revision 4") || !strings.Contains(st.Reconciled, "wiki-green") || strings.Contains(st.Reconciled, "\n") {
			t.Errorf("the line saying what was reconciled: %q", st.Reconciled)
		}
		t.Log(st.Reconciled)
	}
	t.Run("status", func(t *testing.T) {
		c, _, _ := interruptedSwitch(t, "")
		st, err := c.Status(ctx, "wiki", 0)
		if err != nil {
			t.Fatal(err)
		}
		if bg := st.BlueGreen; bg == nil || bg.Live != "green" || bg.Spare != "blue" || bg.Record == nil || bg.Record.Live != "blue" {
			t.Errorf("status: %+v, want live green, spare blue, the record saying blue", bg)
		}
		if bg, err := c.Read(ctx, "wiki"); err != nil || bg.Live != "green" {
			t.Errorf("state: %+v, %v", bg, err)
		}
	})
	t.Run("list --bindings", func(t *testing.T) {
		c, _, _ := interruptedSwitch(t, "")
		apps, err := c.Bindings(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		var wiki *plan.BoundApp
		for i := range apps {
			if apps[i].Name == "team/wiki" {
				wiki = &apps[i]
			}
		}
		if wiki == nil || wiki.Live != "green" || wiki.Spare != "blue" || wiki.Recorded != "blue" || wiki.LiveUnknown != "" {
			t.Errorf("list --bindings: %+v, want live green, spare blue, the record saying blue", wiki)
		}
	})
	t.Run("prune removes the colour not served", func(t *testing.T) {
		c, _, _ := interruptedSwitch(t, "")
		st, un, err := c.Prune(ctx, "wiki")
		if err != nil {
			t.Fatal(err)
		}
		if un == nil || un.Name != "wiki-blue" || st.Live != "green" || st.Spare != "" {
			t.Fatalf("prune: %+v, uninstalled %+v; want wiki-blue gone, green live", st, un)
		}
		revision(t, c, "wiki-green")
		if r, err := releasetest.RecordsOf(c.cfg).Last("wiki-blue"); err == nil {
			t.Errorf("wiki-blue is still recorded (%s)", r.Info.Status)
		}
		reconciled(t, c, st)
	})
	t.Run("upgrade brings up the colour not served", func(t *testing.T) {
		c, up, _ := interruptedSwitch(t, "")
		green := revision(t, c, "wiki-green")
		st, err := c.Upgrade(ctx, up())
		if err != nil {
			t.Fatal(err)
		}
		if st.Live != "blue" || st.Spare != "green" || revision(t, c, "wiki-blue") != 2 || revision(t, c, "wiki-green") != green {
			t.Errorf("upgrade: %+v; want blue upgraded (revision 2) and switched to, green untouched (revision %d) as the spare", st, green)
		}
		reconciled(t, c, st)
	})
	t.Run("rollback switches to the colour not served", func(t *testing.T) {
		c, _, _ := interruptedSwitch(t, "")
		st, err := c.Rollback(ctx, "wiki")
		if err != nil {
			t.Fatal(err)
		}
		if st.Live != "blue" || st.Spare != "green" || !strings.Contains(st.Reconciled, "wiki-green") {
			t.Errorf("rollback: %+v; want switched to blue, green the spare, saying the Services selected green", st)
		}
		r, _ := releasetest.RecordsOf(c.cfg).Last("wiki")
		if r.Info.Status != rcommon.StatusDeployed || r.Chart.Metadata.Annotations[annLive] != "blue" {
			t.Errorf("router after rollback: %s, live %s", r.Info.Status, r.Chart.Metadata.Annotations[annLive])
		}
	})
	t.Run("the served colour alone is not uninstalled", func(t *testing.T) {
		c, _, _ := interruptedSwitch(t, "")
		if _, err := c.Uninstall(ctx, release.UninstallOptions{ReleaseName: "wiki-green"}); !errors.Is(err, errdefs.ErrConflict) {
			t.Errorf("uninstalling green, which the Services select: %v", err)
		}
		revision(t, c, "wiki-green")
	})
	t.Run("prune checks the Services right before uninstalling", func(t *testing.T) {
		c, _, serve := interruptedSwitch(t, "")
		// The Services switched to blue while prune runs (after it read
		// them, as the router's record is reconciled).
		c.cfg.KubeClient = &onUpdate{Interface: c.cfg.KubeClient, do: func() { serve(map[string]map[string]string{"wiki": {"app": "wiki-blue"}}) }}
		_, _, err := c.Prune(ctx, "wiki")
		if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "wiki-blue") {
			t.Errorf("prune of a colour served meanwhile: %v", err)
		}
		t.Log(err)
		revision(t, c, "wiki-blue")
	})
	split := "---\napiVersion: v1\nkind: Service\nmetadata: {name: wiki-admin}\nspec: {selector: {app: wiki-blue-admin}}\n"
	for _, tt := range []struct {
		name     string
		services map[string]map[string]string
		want     string
	}{
		{"split", map[string]map[string]string{"wiki-admin": {"app": "wiki-blue-admin"}}, "wiki selects wiki-green, wiki-admin selects wiki-blue"},
		{"neither", map[string]map[string]string{"wiki": {"app": "elsewhere"}}, "wiki selects neither colour"},
	} {
		t.Run("Services "+tt.name, func(t *testing.T) {
			c, up, serve := interruptedSwitch(t, split)
			serve(tt.services)
			refused := func(what string, err error) {
				t.Helper()
				var fe *errdefs.Error
				if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") ||
					!errors.As(err, &fe) || !reflect.DeepEqual(fe.Fixes, []errdefs.Fix{{Run: []string{"rollback", "wiki", "-n", "team"}}}) {
					t.Errorf("%s: %v, want it refused, saying %q, the fix a rollback", what, err, tt.want)
				}
				t.Logf("%s: %v", what, err)
			}
			_, _, err := c.Prune(ctx, "wiki")
			refused("prune", err)
			_, err = c.Upgrade(ctx, up())
			refused("upgrade", err)
			st, err := c.Status(ctx, "wiki", 0)
			if err != nil {
				t.Fatal(err)
			}
			refused("status", st.BlueGreenError)
			apps, err := c.Bindings(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range apps {
				if a.Name == "team/wiki" && (a.Live != "" || a.Recorded != "blue" || !strings.Contains(a.LiveUnknown, tt.want)) {
					t.Errorf("list --bindings: %+v, want the live colour unknown, saying %q, the record saying blue", a, tt.want)
				}
			}
			for _, rel := range []string{"wiki-blue", "wiki-green"} {
				if revision(t, c, rel) != 1 {
					t.Errorf("%s changed", rel)
				}
			}
			// The rollback points them all at green: the colour the
			// router last switched to completely (revision 3).
			bg, err := c.Rollback(ctx, "wiki")
			if err != nil || bg.Live != "green" || bg.Spare != "blue" || !strings.Contains(bg.Reconciled, tt.want) {
				t.Errorf("rollback of split Services: %+v, %v; want all pointed at green", bg, err)
			}
		})
	}
}

// onUpdate is a kube client that runs do at its first Update.
type onUpdate struct {
	kube.Interface
	do   func()
	once sync.Once
}

func (o *onUpdate) Update(original, target kube.ResourceList, opts ...kube.ClientUpdateOption) (*kube.Result, error) {
	o.once.Do(o.do)
	return o.Interface.Update(original, target, opts...)
}

// A blue-green upgrade reads and resolves its bundle once: the colour's
// revision is prepared once, then performed as a dry run before the app's
// claims are made and for real after (before, the upgrade read it up to
// three times).
func TestBlueGreenUpgradeReadsItsBundleOnce(t *testing.T) {
	ctx := context.Background()
	lab, _, c := bindLab(t)
	claimLab(t, lab)
	if _, err := c.rel.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	for i, bind := range [][]string{{"database=shared"}, nil, nil} {
		before := lab.Calls("capp")
		st, err := c.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Bind: bind}, ReleaseName: "wiki"})
		if err != nil {
			t.Fatal(err)
		}
		if n := lab.Calls("capp") - before; n != 1 {
			t.Errorf("blue-green upgrade %d (to %s) asked for the bundle's versions %d times, want 1", i+1, st.LiveRelease(), n)
		}
	}
}

// A blue-green upgrade shown first (upgrade --strategy blue-green --diff:
// PlanUpgrade, DiffPlan, Perform) reads its bundle once; one planned over
// colours that changed before it is performed is refused, changing
// nothing.
func TestBlueGreenPlannedUpgrade(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t)
	claimLab(t, lab)
	if _, err := c.rel.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	opts := func(bind ...string) release.UpgradeOptions {
		return release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Bind: bind}, ReleaseName: "wiki"}
	}
	before := lab.Calls("capp")
	p, err := c.PlanUpgrade(ctx, opts("database=shared"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Next.Live != "blue" {
		t.Fatalf("planned %+v", p.Next)
	}
	if _, err := c.Perform(ctx, p); err != nil {
		t.Fatal(err)
	}
	if n := lab.Calls("capp") - before; n != 1 {
		t.Errorf("planned and performed, the upgrade asked for the bundle's versions %d times, want 1", n)
	}

	// Planned over blue live; green is switched to meanwhile.
	stale, err := c.PlanUpgrade(ctx, opts())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upgrade(ctx, opts()); err != nil {
		t.Fatal(err)
	}
	router := releasetest.RecordsOf(f.ConfigFor("team"))
	last, _ := router.Last("wiki")
	if _, err := c.Perform(ctx, stale); !errors.Is(err, errdefs.ErrStale) {
		t.Fatalf("performing an upgrade planned over blue live, green live now: %v", err)
	}
	if now, _ := router.Last("wiki"); now.Version != last.Version {
		t.Errorf("the stale plan changed the router (revision %d, was %d)", now.Version, last.Version)
	}
}

// What a release is to blue/green is read once, from its record and its
// app's router: a router, a colour of an app that has one, an orphan (a
// colour's mark without the app's router, or on a release not named as a
// colour), or a plain release.
func TestClassify(t *testing.T) {
	_, _, c := sharedProvider(t)
	blueAndGreen(t, c)
	mark := map[string]string{annColorOf: "wiki"}
	for _, tt := range []struct {
		rec       *release.Record
		want      kind
		wantWhole string
	}{
		{&release.Record{Name: "shared"}, plain, ""},
		{&release.Record{Name: "wiki", Annotations: map[string]string{annBlueGreen: "router"}}, router, "wiki"},
		{&release.Record{Name: "wiki-green", Annotations: mark}, colour, "wiki"},
		{&release.Record{Name: "wiki-red", Annotations: mark}, orphan, "wiki"},
		{&release.Record{Name: "blog-blue", Annotations: map[string]string{annColorOf: "blog"}}, orphan, "blog"},
	} {
		if got, whole := c.classify(tt.rec); got != tt.want || whole != tt.wantWhole {
			t.Errorf("classify(%s %v) = %v %q, want %v %q", tt.rec.Name, tt.rec.Annotations, got, whole, tt.want, tt.wantWhole)
		}
	}
}
