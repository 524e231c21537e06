package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/render"
)

// blueGreenChart is a bundle with no requirements: a Deployment of two replicas
// and a Service, both named after the release; values.version is a pod
// annotation, so that each upgrade changes the pods.
func blueGreenChart(t *testing.T) string {
	t.Helper()
	return testutil.Chart{Name: "web", Values: "version: \"1\"\nnodeSelector: {}\n", Templates: map[string]string{
		"deploy.yaml": testutil.DeploymentYAML("{{ .Release.Name }}", testutil.Replicas("2"),
			testutil.PodAnnotations("version: {{ .Values.version | quote }}"),
			testutil.PodSpec(`nodeSelector: {{ toJson .Values.nodeSelector }}
containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]`)),
		"ingress.yaml": testutil.Object("networking.k8s.io/v1", "Ingress", "{{ .Release.Name }}", `spec:
  rules:
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: {{ .Release.Name }}, port: {name: http}}}}
`),
		"service.yaml": testutil.Object("v1", "Service", "{{ .Release.Name }}", `spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{name: http, port: 80, targetPort: 80}]
`),
	}}.Write(t, filepath.Join(t.TempDir(), "web"))
}

// readyEndpoints lists the pods the ready endpoints of Service svc's
// EndpointSlices point at.
func readyEndpoints(ctx context.Context, e *env, ns, svc string) ([]string, error) {
	l, err := e.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	var pods []string
	for i := range l.Items {
		pods = append(pods, slicePods(&l.Items[i])...)
	}
	sort.Strings(pods)
	return pods, nil
}

// watchEndpoints watches Service svc's EndpointSlices until stop is
// called, which returns how many of the states seen (one per event, all
// slices together) had no ready endpoint, the events, and every pod seen.
// A watch sees every change the controller makes, not samples of them.
func watchEndpoints(t *testing.T, e *env, ns, svc string) (stop func() (empty, events int, seen map[string]bool)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sel := metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc}
	l, err := e.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	slices := map[string][]string{}
	for i := range l.Items {
		slices[l.Items[i].Name] = slicePods(&l.Items[i])
	}
	sel.ResourceVersion = l.ResourceVersion
	w, err := e.cs.DiscoveryV1().EndpointSlices(ns).Watch(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	empty, events, seen := 0, 0, map[string]bool{}
	for _, pods := range slices {
		for _, p := range pods {
			seen[p] = true
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*discoveryv1.EndpointSlice)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(slices, s.Name)
			} else {
				slices[s.Name] = slicePods(s)
			}
			events++
			n := 0
			for _, pods := range slices {
				n += len(pods)
				for _, p := range pods {
					seen[p] = true
				}
			}
			if n == 0 {
				empty++
				t.Logf("%s: %s %s: no ready endpoint", time.Now().Format("15:04:05.000"), ev.Type, s.Name)
			}
		}
	}()
	return func() (int, int, map[string]bool) {
		cancel()
		w.Stop()
		wg.Wait()
		return empty, events, seen
	}
}

// slicePods lists the pods of s's ready endpoints.
func slicePods(s *discoveryv1.EndpointSlice) []string {
	var pods []string
	for _, ep := range s.Endpoints {
		if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
			continue
		}
		if ep.TargetRef != nil {
			pods = append(pods, ep.TargetRef.Name)
		}
	}
	return pods
}

func podUIDs(t *testing.T, e *env, ns string) []string {
	t.Helper()
	l, err := e.cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range l.Items {
		out = append(out, p.Name+"/"+string(p.UID))
	}
	sort.Strings(out)
	return out
}

func serviceSelects(t *testing.T, e *env, ns, svc string) string {
	t.Helper()
	s, err := e.cs.CoreV1().Services(ns).Get(context.Background(), svc, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Spec.Selector["app"]
}

// endpointsOnly waits until svc's ready endpoints are pods of colour
// release rel only.
func endpointsOnly(t *testing.T, e *env, ns, svc, rel string) {
	t.Helper()
	eventually(t, time.Minute, svc+" endpoints on "+rel, func() (bool, string) {
		pods, err := readyEndpoints(context.Background(), e, ns, svc)
		if err != nil || len(pods) == 0 {
			return false, fmt.Sprint(pods, err)
		}
		for _, p := range pods {
			if !strings.HasPrefix(p, rel+"-") {
				return false, fmt.Sprint(pods)
			}
		}
		return true, ""
	})
}

// A blue/green app: the first upgrade installs blue and the router; the
// second brings green up beside it and switches the stable Service to it,
// which never has no ready endpoint meanwhile; rollback switches back
// without creating a pod; prune removes the spare and nothing else.
func TestBlueGreen(t *testing.T) {
	e := setup(t)
	ns := e.createNamespace(t, "bluegreen")
	chart := blueGreenChart(t)
	ctx := context.Background()
	var code int
	var out, errs string

	testutil.Phase(t, "the first upgrade installs blue and the router", func(t *testing.T) {
		start := time.Now()
		out = e.mustBundle(t, "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--set", "version=1b", "--quiet")
		t.Logf("first blue-green upgrade (install blue and the router): %s", time.Since(start).Round(time.Millisecond))
		if !strings.Contains(out, `switched to blue (release app-blue, revision 1)`) || !strings.Contains(out, "Spare: none") {
			t.Errorf("first upgrade:\n%s", out)
		}
		if got := serviceSelects(t, e, ns, "app"); got != "app-blue" {
			t.Fatalf("Service app selects app=%s, want app-blue", got)
		}
		endpointsOnly(t, e, ns, "app", "app-blue")
	})
	testutil.Phase(t, "a dry run and a diff change nothing", func(t *testing.T) {
		// A dry run and a diff of the switch to green change nothing.
		routerRev := e.lastRevision(t, ns, "app").Version
		out = e.mustBundle(t, "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--set", "version=2", "--dry-run")
		if !strings.Contains(out, `would switch to green (release app-green, revision 1)`) || !strings.Contains(out, "Spare: app-blue") ||
			!strings.Contains(out, "version: \"2\"") || strings.Contains(out, "kind: Ingress") {
			t.Errorf("blue-green --dry-run:\n%s", out)
		}
		out = e.mustBundle(t, "diff", "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--set", "version=2", "--kubeconfig", e.kubeconfig)
		if !strings.Contains(out, "app-green comes up beside the live colour; once ready, the stable Services switch to it and app-blue stays as the spare.") ||
			!strings.Contains(out, "+ create Deployment.apps "+ns+"/app-green") || strings.Contains(out, "Ingress") {
			t.Errorf("diff upgrade --strategy blue-green:\n%s", out)
		}
		if _, err := e.helmStorage(ns).Last("app-green"); err == nil || e.lastRevision(t, ns, "app").Version != routerRev {
			t.Errorf("the dry run or the diff changed the app: app-green recorded (%v), router revision %d (was %d)", err == nil, e.lastRevision(t, ns, "app").Version, routerRev)
		}
		endpointsOnly(t, e, ns, "app", "app-blue")
	})
	testutil.Phase(t, "the switch to green never leaves the Service without endpoints", func(t *testing.T) {
		// Switch to green, watching the stable Service.
		stop := watchEndpoints(t, e, ns, "app")
		start := time.Now()
		// No values given: green starts from the live colour's (blue's).
		// --confirm --yes prints the plan first (as --diff does).
		out = e.mustBundle(t, "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--quiet", "--confirm", "--yes")
		t.Logf("blue-green upgrade to green: %s", time.Since(start).Round(time.Millisecond))
		endpointsOnly(t, e, ns, "app", "app-green")
		empty, events, seen := stop()
		if empty > 0 {
			t.Errorf("Service app had no ready endpoint in %d of %d EndpointSlice states during the switch", empty, events)
		}
		t.Logf("switch to green: %d EndpointSlice events, never empty: %v; pods seen: %v", events, empty == 0, seen)
		if events == 0 || len(seen) != 4 {
			t.Errorf("the watch saw %d events and pods %v, want the switch from 2 blue to 2 green pods", events, seen)
		}
		if !strings.Contains(out, `switched to green (release app-green, revision 1)`) || !strings.Contains(out, "Spare: app-blue") ||
			!strings.Contains(out, "The changes to app-green:") || !strings.Contains(out, "+ create Deployment.apps "+ns+"/app-green") {
			t.Errorf("second upgrade:\n%s", out)
		}
		if got := serviceSelects(t, e, ns, "app"); got != "app-green" {
			t.Fatalf("Service app selects app=%s, want app-green", got)
		}
		// The Ingress is the router's, the app's, sending traffic to the
		// stable Service, which the switch moves; the colours have none.
		ing, err := e.cs.NetworkingV1().Ingresses(ns).Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if b := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name; b != "app" || ing.Annotations["meta.helm.sh/release-name"] != "app" {
			t.Errorf("Ingress app: backend Service %s, release %q; want the stable app, the router's", b, ing.Annotations["meta.helm.sh/release-name"])
		}
		for _, rel := range []string{"app-blue", "app-green"} {
			if _, err := e.cs.NetworkingV1().Ingresses(ns).Get(ctx, rel, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("colour %s has an Ingress of its own: %v", rel, err)
			}
		}
		green, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "app-green", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v := green.Spec.Template.Annotations["version"]; v != "1b" {
			t.Errorf("green's version %q, want 1b, the live colour's value", v)
		}
		if _, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "app-blue", metav1.GetOptions{}); err != nil {
			t.Errorf("spare Deployment app-blue: %v", err)
		}
	})
	testutil.Phase(t, "rollback switches back to blue, creating no pod", func(t *testing.T) {
		// Rollback: back to blue, no pod created.
		before := podUIDs(t, e, ns)
		blueRev, greenRev := e.lastRevision(t, ns, "app-blue").Version, e.lastRevision(t, ns, "app-green").Version
		stop := watchEndpoints(t, e, ns, "app")
		start := time.Now()
		out = e.mustBundle(t, "rollback", "app", "-n", ns)
		t.Logf("blue-green rollback: %s", time.Since(start).Round(time.Millisecond))
		endpointsOnly(t, e, ns, "app", "app-blue")
		empty, events, _ := stop()
		if empty > 0 || events == 0 {
			t.Errorf("Service app had no ready endpoint in %d of %d EndpointSlice states during the rollback", empty, events)
		}
		// The router is applied as any release: switching is no drift.
		if st := e.mustBundle(t, "status", "app", "-n", ns); strings.Contains(st, "DRIFTED") || !strings.Contains(st, "bundle-router") ||
			!strings.Contains(st, "LIVE:       app-blue (blue-green") || !strings.Contains(st, "SPARE:      app-green (bundle rollback app") {
			t.Errorf("status of the router after switching:\n%s", st)
		}
		var js struct {
			BlueGreen struct{ Live, Spare string } `json:"blueGreen"`
		}
		if err := yaml.Unmarshal([]byte(e.mustBundle(t, "status", "app", "-n", ns, "-o", "json")), &js); err != nil {
			t.Fatal(err)
		}
		if js.BlueGreen.Live != "app-blue" || js.BlueGreen.Spare != "app-green" {
			t.Errorf("status -o json of the router: blueGreen %+v", js.BlueGreen)
		}
		if !strings.Contains(out, `switched back to blue`) || !strings.Contains(out, "Spare: app-green") {
			t.Errorf("rollback:\n%s", out)
		}
		if after := podUIDs(t, e, ns); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Errorf("rollback changed the pods:\nbefore %v\nafter  %v", before, after)
		}
		if b, g := e.lastRevision(t, ns, "app-blue").Version, e.lastRevision(t, ns, "app-green").Version; b != blueRev || g != greenRev {
			t.Errorf("rollback changed the colours' releases: blue %d→%d, green %d→%d", blueRev, b, greenRev, g)
		}
	})
	testutil.Phase(t, "a colour that never gets ready is not switched to", func(t *testing.T) {
		// A colour that does not become ready is not switched to: the live
		// colour goes on serving.
		start := time.Now()
		code, _, errs = e.bundle(t, "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--set", "nodeSelector.nowhere=here", "--timeout", "3s", "--quiet")
		t.Logf("blue-green upgrade that never gets ready: %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(errs))
		if code == 0 || !strings.Contains(errs, "app-green not switched to (the live colour is untouched)") {
			t.Errorf("upgrade to a colour that never gets ready: exit %d: %s", code, errs)
		}
		if got := serviceSelects(t, e, ns, "app"); got != "app-blue" {
			t.Errorf("Service app selects app=%s after the failed upgrade, want app-blue", got)
		}
		endpointsOnly(t, e, ns, "app", "app-blue")
	})
	testutil.Phase(t, "prune removes the spare alone", func(t *testing.T) {
		// Prune removes green, the spare, and nothing else.
		out = e.mustBundle(t, "prune", "app", "-n", ns)
		if !strings.Contains(out, "Pruned the spare app-green") {
			t.Errorf("prune:\n%s", out)
		}
		if _, err := e.helmStorage(ns).Last("app-green"); err == nil {
			t.Errorf("release app-green still recorded after prune")
		}
		eventually(t, time.Minute, "Deployment app-green deleted", func() (bool, string) {
			_, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "app-green", metav1.GetOptions{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
		for _, rel := range []string{"app", "app-blue"} {
			if r := e.lastRevision(t, ns, rel); r.Info.Status != "deployed" {
				t.Errorf("release %s: %s after prune", rel, r.Info.Status)
			}
		}
		if _, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "app-blue", metav1.GetOptions{}); err != nil {
			t.Errorf("live Deployment app-blue after prune: %v", err)
		}
		if got := serviceSelects(t, e, ns, "app"); got != "app-blue" {
			t.Errorf("Service app selects app=%s after prune, want app-blue", got)
		}
		endpointsOnly(t, e, ns, "app", "app-blue")
	})
	testutil.Phase(t, "what is not a blue-green upgrade is refused", func(t *testing.T) {
		// An upgrade in place of the router is refused.
		code, _, errs = e.bundle(t, "upgrade", "app", chart, "-n", ns)
		if code == 0 || !strings.Contains(errs, "is a blue-green app") || !strings.Contains(errs, "--strategy blue-green") {
			t.Errorf("upgrade of the router without --strategy: exit %d: %s", code, errs)
		}

		// With no spare, rollback says so; a plain release is not switched.
		code, _, errs = e.bundle(t, "rollback", "app", "-n", ns)
		if code == 0 || !strings.Contains(errs, "has no spare") {
			t.Errorf("rollback without a spare: exit %d: %s", code, errs)
		}
		// A release of a colour's name that is not the app's is not taken.
		e.mustBundle(t, "install", "other-blue", chart, "-n", ns)
		code, _, errs = e.bundle(t, "upgrade", "other", chart, "-n", ns, "--strategy", "blue-green")
		if code == 0 || !strings.Contains(errs, `release "other-blue" exists in namespace "`+ns+`" and is not a colour of blue-green app "other"`) {
			t.Errorf("blue-green upgrade onto a foreign release: exit %d: %s", code, errs)
		}
		if r := e.lastRevision(t, ns, "other-blue"); r.Version != 1 {
			t.Errorf("the foreign release was upgraded: revision %d", r.Version)
		}
		e.mustBundle(t, "install", "plain", chart, "-n", ns)
		code, _, errs = e.bundle(t, "upgrade", "plain", chart, "-n", ns, "--strategy", "blue-green")
		if code == 0 || !strings.Contains(errs, "is not a blue-green app") {
			t.Errorf("blue-green upgrade of a plain release: exit %d: %s", code, errs)
		}
	})
}

// A requirement installed in the app's release would be duplicated by
// each colour: refused in one line with the hint to bind it, nothing
// installed.
func TestBlueGreenRefusesUnboundRequirement(t *testing.T) {
	e := setup(t)
	ns := e.createNamespace(t, "bluegreen-refuse")
	code, _, errs := e.bundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--strategy", "blue-green")
	if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 ||
		!strings.Contains(errs, "requirement database would be installed in each colour") || !strings.Contains(errs, "--bind database=RELEASE") {
		t.Fatalf("blue-green upgrade with an unbound requirement: exit %d: %s", code, errs)
	}
	rels, err := e.helmStorage(ns).ListReleases()
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 0 {
		t.Errorf("%d releases recorded after the refusal", len(rels))
	}
}

// A blue/green app bound to a provider: both colours are bound to the same
// MariaDB release, which neither holds; the second colour takes the live
// one's binding without --bind.
func TestBlueGreenBoundToProvider(t *testing.T) {
	e := setup(t)
	ns := e.createNamespace(t, "bluegreen-bound")
	ctx := context.Background()
	start := time.Now()
	e.mustBundle(t, "install", "db", "stable/mariadb", "-n", ns, "--wait", "--timeout", "3m", "--quiet")
	t.Logf("provider installed: %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--strategy", "blue-green", "--bind", "database=db", "--quiet")
	t.Logf("blue: %s", time.Since(start).Round(time.Millisecond))
	// The claim's Job completed before blue was installed.
	jobs, err := e.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=wiki"})
	if err != nil || len(jobs.Items) != 1 || jobs.Items[0].Status.Succeeded != 1 ||
		jobs.Items[0].Status.CompletionTime == nil || jobs.Items[0].Status.CompletionTime.Time.After(e.lastRevision(t, ns, "wiki-blue").Info.FirstDeployed) {
		t.Errorf("the claim's Job, done before blue: %v %+v", err, jobs)
	}
	start = time.Now()
	out := e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--strategy", "blue-green", "--set", "wiki.name=Green", "--quiet")
	t.Logf("green: %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "switched to green") || !strings.Contains(out, "Stable Services: wiki-mediawiki\n") {
		t.Errorf("upgrade to green:\n%s", out)
	}
	for _, rel := range []string{"wiki-blue", "wiki-green"} {
		r := e.lastRevision(t, ns, rel)
		if !strings.Contains(r.Chart.Metadata.Annotations["bundle.sh/resolved"], `"bound":"`+ns+`/db"`) {
			t.Errorf("%s is not bound to db: %s", rel, r.Chart.Metadata.Annotations["bundle.sh/resolved"])
		}
		if strings.Contains(r.Manifest, "kind: StatefulSet") {
			t.Errorf("%s holds a StatefulSet: the database was duplicated", rel)
		}
	}
	sts, err := e.cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sts.Items) != 1 {
		t.Errorf("%d StatefulSets, want db's only", len(sts.Items))
	}
	svc, err := e.cs.CoreV1().Services(ns).Get(ctx, "wiki-mediawiki", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Spec.Selector["app.kubernetes.io/instance"]; got != "wiki-green" {
		t.Errorf("wiki-mediawiki selects instance %q, want wiki-green", got)
	}
	endpointsOnly(t, e, ns, "wiki-mediawiki", "wiki-green")
	if st := e.mustBundle(t, "status", "db", "-n", ns); !strings.Contains(st, ns+"/wiki-blue") || !strings.Contains(st, ns+"/wiki-green") {
		t.Errorf("provider's consumers:\n%s", st)
	}

	// One claim for the app, held by its router: both colours use the
	// same database, user and Secret.
	id := render.ClaimID(ns, "wiki", "database")
	for _, rel := range []string{"wiki-blue", "wiki-green"} {
		m := e.lastRevision(t, ns, rel).Manifest
		if !strings.Contains(m, id) || strings.Contains(m, "mariadb-claim") {
			t.Errorf("%s does not use the app's claim %s, or holds a claim of its own", rel, id)
		}
	}
	sec, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "wiki-database", metav1.GetOptions{})
	if err != nil || sec.Annotations["meta.helm.sh/release-name"] != "wiki" {
		t.Errorf("the claim's Secret wiki-database: %v (release %q), want the router's", err, sec.Annotations["meta.helm.sh/release-name"])
	}
	password := string(sec.Data["password"])

	// Rollback and prune leave the claim as it is; uninstalling the app
	// removes both colours and the router, and drops the claim's user.
	e.mustBundle(t, "rollback", "wiki", "-n", ns)
	e.mustBundle(t, "prune", "wiki", "-n", ns)
	sec, err = e.cs.CoreV1().Secrets(ns).Get(ctx, "wiki-database", metav1.GetOptions{})
	if err != nil || string(sec.Data["password"]) != password {
		t.Errorf("the claim's Secret after rollback and prune: %v (password kept: %v)", err, err == nil && string(sec.Data["password"]) == password)
	}
	code, _, errs := e.bundle(t, "uninstall", "wiki-blue", "-n", ns)
	if code == 0 || !strings.Contains(errs, "is the live colour of blue-green app") {
		t.Errorf("uninstall of the live colour: exit %d: %s", code, errs)
	}
	out = e.mustBundle(t, "diff", "uninstall", "wiki", "-n", ns, "--kubeconfig", e.kubeconfig)
	for _, want := range []string{"- delete Deployment.apps " + ns + "/wiki-blue-mediawiki", "- delete Secret " + ns + "/wiki-database", "- delete Service " + ns + "/wiki-mediawiki"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff uninstall of the app lacks %q:\n%s", want, out)
		}
	}
	out = e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--wait")
	if !strings.Contains(out, `Uninstalled "wiki-blue"`) || !strings.Contains(out, `Uninstalled "wiki" from`) {
		t.Errorf("uninstall of the app:\n%s", out)
	}
	for _, rel := range []string{"wiki", "wiki-blue", "wiki-green"} {
		if r, err := e.helmStorage(ns).Last(rel); err == nil {
			t.Errorf("%s still recorded after the app's uninstall (%s)", rel, r.Info.Status)
		}
	}
	if _, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "wiki-database", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the claim's Secret after the app's uninstall: %v", err)
	}
	e.mustBundle(t, "uninstall", "db", "-n", ns) // no consumer left
}

// A blue/green switch cut off from the API server half-way (the proxy cut
// at the router's write of the stable Service, after its pending record is
// stored; or at its record's write after the Service is updated), then the
// plain next prune, upgrade or rollback with the API server back: the
// colour the stable Service selects is never removed nor upgraded in
// place, and its endpoints are never empty. Status says which colour the
// Service selects, and that the record says otherwise; the next command
// says what it reconciled.
func TestBlueGreenSwitchCutOff(t *testing.T) {
	t.Parallel()
	e := setup(t)
	chart := blueGreenChart(t)
	bundleBinary(t) // built before the clocks start
	cuts := []struct {
		name string
		// served is the colour the stable Service selects after the cut.
		served string
		rule   func(p *apiProxy, ns string) *proxyRule
	}{
		{"before the Service update", "blue", func(p *apiProxy, ns string) *proxyRule {
			return p.rule(nil, objectWrite(ns, "services", "app"), true)
		}},
		{"at the record after the Service update", "green", func(p *apiProxy, ns string) *proxyRule {
			return p.rule(objectWrite(ns, "services", "app"), recordUpdate(ns, "app"), true)
		}},
	}
	nexts := []string{"prune", "upgrade", "rollback"}
	for _, cut := range cuts {
		for _, next := range nexts {
			t.Run(cut.name+"/"+next, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				ns := e.createNamespace(t, "bg-cut")
				served, other := "app-"+cut.served, "app-blue"
				if cut.served == "blue" {
					other = "app-green"
				}
				e.mustBundle(t, "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--set", "version=1", "--quiet")
				endpointsOnly(t, e, ns, "app", "app-blue")

				// The switch to green, cut off.
				p := newAPIProxy(t, e)
				r := cut.rule(p, ns)
				proc := startBinaryWith(t, p.kubeconfig, "upgrade", "app", chart, "-n", ns, "--strategy", "blue-green", "--set", "version=2", "--timeout", "2m", "--quiet")
				r.waitFired(t, "the switch's write to cut at", proc)
				p.cut()
				endsSoon(t, proc)
				if proc.err == nil {
					t.Fatalf("the switch succeeded without the API server: %s", proc.stderr.String())
				}
				r.free()
				p.restart()
				if got := serviceSelects(t, e, ns, "app"); got != served {
					t.Fatalf("after the cut, Service app selects %s, want %s", got, served)
				}
				if st := e.lastRevision(t, ns, "app").Info.Status; st != rcommon.StatusPendingUpgrade {
					t.Fatalf("after the cut, the router's last revision is %s, want pending-upgrade", st)
				}
				endpointsOnly(t, e, ns, "app", served)
				status := e.mustBundle(t, "status", "app", "-n", ns)
				if !strings.Contains(status, "LIVE:       "+served+" (blue-green: these Services select it") ||
					(cut.served == "blue") != strings.Contains(status, "the router's record says app-green") {
					t.Errorf("status after the cut:\n%s", status)
				}
				// list --bindings too says the colour the Service selects.
				wantList := "app (live " + cut.served
				if cut.served == "blue" {
					wantList += " (record says green)"
				}
				wantList += ", spare " + strings.TrimPrefix(other, "app-") + ")"
				if list := e.mustBundle(t, "list", "--bindings", "-n", ns); !strings.Contains(list, wantList) {
					t.Errorf("list --bindings after the cut lacks %q:\n%s", wantList, list)
				}
				servedRev := e.lastRevision(t, ns, served).Version

				// The next command, watching the stable Service.
				args := map[string][]string{
					"prune":    {"prune", "app"},
					"upgrade":  {"upgrade", "app", chart, "--strategy", "blue-green", "--set", "version=3", "--quiet"},
					"rollback": {"rollback", "app"},
				}[next]
				stop := watchEndpoints(t, e, ns, "app")
				code, out, errs := e.bundle(t, append(args, "-n", ns, "--kubeconfig", p.kubeconfig)...)
				empty, events, _ := stop()
				if code != 0 {
					t.Fatalf("%s after the cut: exit %d: %s", next, code, errs)
				}
				t.Logf("%s: %s%s", next, out, errs)
				if empty > 0 {
					t.Errorf("Service app had no ready endpoint in %d of %d EndpointSlice states during %s", empty, events, next)
				}
				if !strings.Contains(errs, `warning: blue-green app "app": its router's revision 2, left pending by an operation that stopped`) {
					t.Errorf("%s does not say what it reconciled: %s", next, errs)
				}
				// The colour that served is neither removed nor changed.
				if r := e.lastRevision(t, ns, served); r.Info.Status != rcommon.StatusDeployed || r.Version != servedRev {
					t.Errorf("%s after %s: %s revision %d, want deployed revision %d as it was", served, next, r.Info.Status, r.Version, servedRev)
				}
				if _, err := e.cs.AppsV1().Deployments(ns).Get(ctx, served, metav1.GetOptions{}); err != nil {
					t.Errorf("Deployment %s after %s: %v", served, next, err)
				}
				live, spare := other, served // upgrade and rollback switch to the other colour
				if next == "prune" {
					live, spare = served, ""
					if _, err := e.helmStorage(ns).Last(other); err == nil {
						t.Errorf("%s still recorded after prune", other)
					}
				}
				if got := serviceSelects(t, e, ns, "app"); got != live {
					t.Errorf("after %s, Service app selects %s, want %s", next, got, live)
				}
				endpointsOnly(t, e, ns, "app", live)
				router := e.lastRevision(t, ns, "app")
				if a := router.Chart.Metadata.Annotations; router.Info.Status != rcommon.StatusDeployed || "app-"+a["bundle.sh/live"] != live || a["bundle.sh/spare"] != strings.TrimPrefix(spare, "app-") {
					t.Errorf("the router after %s: %s, live %q spare %q; want deployed, live %s spare %q", next, router.Info.Status, a["bundle.sh/live"], a["bundle.sh/spare"], live, spare)
				}
				if next == "upgrade" {
					d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, live, metav1.GetOptions{})
					if err != nil || d.Spec.Template.Annotations["version"] != "3" {
						t.Errorf("the upgraded colour %s: %v, want version 3", live, err)
					}
				}
				if st := e.mustBundle(t, "status", "app", "-n", ns); !strings.Contains(st, "LIVE:       "+live+" (blue-green: these Services select it)") {
					t.Errorf("status after %s:\n%s", next, st)
				}
			})
		}
	}
}
