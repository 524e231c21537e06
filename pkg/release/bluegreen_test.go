package release

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
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
	rel := &helmrelease.Release{Name: "shop", Chart: &chart.Chart{Metadata: &chart.Metadata{Annotations: map[string]string{
		annBlueGreen: "router", annLive: "green", annSpare: "blue",
	}}}, Manifest: "---\napiVersion: v1\nkind: Service\nmetadata: {name: shop-admin}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: shop}\n"}
	st := parseRouter(rel)
	want := &BlueGreen{Name: "shop", Live: "green", Spare: "blue", Services: []string{"shop", "shop-admin"}}
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
	if parseRouter(&helmrelease.Release{Name: "shop", Chart: &chart.Chart{Metadata: &chart.Metadata{Name: "web"}}}) != nil {
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

func TestStableIngresses(t *testing.T) {
	in := `---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-blue}
data: {a: "Ingress"}
---
# Source: web/templates/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop-blue}
spec:
  defaultBackend: {service: {name: shop-blue, port: {number: 80}}}
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: shop-blue-web, port: {name: http}}}}
      - {path: /other, pathType: Prefix, backend: {service: {name: other, port: {number: 80}}}}
      - {path: /x, pathType: Prefix, backend: {service: {name: shop-blueberry, port: {number: 80}}}}
`
	out, err := StableIngresses(in, "shop", "blue")
	if err != nil {
		t.Fatal(err)
	}
	docs := splitDocs(out)
	if len(docs) != 2 || !strings.Contains(docs[0], "name: shop-blue}\ndata: {a: \"Ingress\"}") {
		t.Fatalf("documents:\n%s", out)
	}
	var ing map[string]any
	if err := yaml.Unmarshal([]byte(docs[1]), &ing); err != nil {
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
	if ing["metadata"].(map[string]any)["name"] != "shop-blue" {
		t.Errorf("the Ingress keeps its colour's name: %v", ing["metadata"])
	}
}
