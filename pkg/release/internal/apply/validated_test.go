package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The applier with the validation's answers, and its objects a few at a
// time, over the fake REST client of apply_test.go.

// dryRunAnswer is what the API server answers to a dry-run apply of u: u
// as it would store it, with a resourceVersion when it exists.
func dryRunAnswer(u *unstructured.Unstructured, exists bool) *unstructured.Unstructured {
	u = u.DeepCopy()
	if exists {
		u.SetResourceVersion("7")
	} else {
		u.SetResourceVersion("")
	}
	return u
}

func TestAnObjectTheValidationAnsweredForIsAppliedWithoutReadingItFirst(t *testing.T) {
	f := newFakeAPI(
		configMap("web", "web", map[string]any{"color": "blue"}), // applied by bundle before
		helmManaged(configMap("db", "web", map[string]any{"size": "1", "legacy": "on"}), "helm", "legacy"),
		configMap("plain", "web", nil),
	)
	a := testApplier(context.Background(), f, nil)
	target := kube.ResourceList{
		f.info(configMap("web", "web", map[string]any{"color": "green"})),
		f.info(configMap("db", "web", map[string]any{"size": "2"})),
		f.info(configMap("cache", "web", map[string]any{"ttl": "60"})),
		f.info(configMap("plain", "web", nil)), // not validated (say, a custom resource of a CRD of the release)
	}
	a.Validated(target[0], dryRunAnswer(configMap("web", "web", map[string]any{"color": "green"}), true))
	// helm's Update entry is still there after the apply: its field
	// legacy is the apply's to remove once taken over.
	a.Validated(target[1], dryRunAnswer(helmManaged(configMap("db", "web", map[string]any{"size": "2", "legacy": "on"}), "helm", "legacy"), true))
	a.Validated(target[2], dryRunAnswer(configMap("cache", "web", map[string]any{"ttl": "60"}), false))
	res, err := a.Update(nil, target)
	if err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, []string{
		"PATCH web application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET db",
		"PATCH db application/json-patch+json ?fieldManager=helm",
		"PATCH db application/apply-patch+yaml ?fieldManager=helm&force=true",
		"PATCH cache application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET plain",
		"PATCH plain application/apply-patch+yaml ?fieldManager=helm&force=true",
	})
	if got := names(res.Created); got != "cache" {
		t.Errorf("created %s, want cache (the API server answered 201 Created)", got)
	}
	if got := names(res.Updated); got != "web db plain" {
		t.Errorf("updated %s, want web db plain, in the manifest's order", got)
	}
	if got := f.objects["web"].Object["data"]; fmt.Sprint(got) != "map[color:green]" {
		t.Errorf("web holds %v after the apply", got)
	}

	// An answer is used once: the next write reads the object first.
	f.sent = nil
	if _, err := a.Update(nil, target[:1]); err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, []string{"GET web", "PATCH web application/apply-patch+yaml ?fieldManager=helm&force=true"})

	// And none outlives the Update of the revision validated (an
	// --atomic rollback applies another).
	f.sent = nil
	a.Validated(target[0], dryRunAnswer(configMap("web", "web", nil), true))
	a.Validated(target[2], dryRunAnswer(configMap("cache", "web", nil), true))
	if _, err := a.Update(nil, target[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(nil, target[2:3]); err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, []string{
		"PATCH web application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET cache", "PATCH cache application/apply-patch+yaml ?fieldManager=helm&force=true",
	})
}

func TestWithForceAnAnsweredObjectIsStillReadAndReplaced(t *testing.T) {
	f := newFakeAPI(configMap("web", "web", nil))
	a := testApplier(context.Background(), f, nil)
	target := kube.ResourceList{f.info(configMap("web", "web", nil))}
	a.Validated(target[0], dryRunAnswer(configMap("web", "web", nil), true))
	a.Force = true
	_, _ = a.Update(nil, target) // the fake does not serve PUT: only what is sent first matters
	if len(f.sent) == 0 || f.sent[0] != "GET web" {
		t.Errorf("sent %v; want the object read before it is replaced", f.sent)
	}
}

func TestCreateAppliesAnObjectTheValidationFoundMissingWithoutReadingIt(t *testing.T) {
	f := newFakeAPI(configMap("old", "web", nil))
	a := testApplier(context.Background(), f, nil)
	rl := kube.ResourceList{f.info(configMap("new", "web", nil)), f.info(configMap("old", "web", nil))}
	a.Validated(rl[0], dryRunAnswer(configMap("new", "web", nil), false))
	a.Validated(rl[1], dryRunAnswer(configMap("old", "web", nil), true))
	if _, err := a.Create(rl); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("Create: %v, want AlreadyExists for old", err)
	}
	f.wantSent(t, []string{
		"PATCH new application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET old",
	})
}

// Once a hook (an object the validation did not answer for) is created,
// the answers are no longer the cluster's: anything may have created the
// release's objects while the hook ran. The install's Create reads each
// object first again, and refuses one that appeared meanwhile.
func TestAHookMakesCreateReadWhatTheValidationAnswered(t *testing.T) {
	f := newFakeAPI()
	a := testApplier(context.Background(), f, nil)
	rl := kube.ResourceList{f.info(configMap("new", "web", nil))}
	a.Validated(rl[0], dryRunAnswer(configMap("new", "web", nil), false))
	if _, err := a.Create(kube.ResourceList{f.info(configMap("pre-install", "web", nil))}); err != nil {
		t.Fatal(err)
	}
	f.objects["new"] = configMap("new", "other", nil) // made while the hook ran
	if _, err := a.Create(rl); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("Create after a hook: %v, want AlreadyExists for an object made meanwhile", err)
	}
	f.wantSent(t, []string{
		"GET pre-install",
		"PATCH pre-install application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET new",
	})
}

// names are the objects' names, space-separated, in order.
func names(rl kube.ResourceList) string {
	var out []string
	for _, info := range rl {
		out = append(out, info.Name)
	}
	return strings.Join(out, " ")
}

func TestTheObjectsOfAKindAreAppliedAFewAtATimeKindAfterKind(t *testing.T) {
	f := newFakeAPI()
	var (
		mu                   sync.Mutex
		inFlight, most       int
		firstsInFlight       int // objects of the first kind in flight
		secondWhileFirstRuns bool
	)
	f.before = func(req *http.Request) {
		second := strings.Contains(req.URL.Path, "/b-")
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if second && firstsInFlight > 0 {
			secondWhileFirstRuns = true
		}
		if !second {
			firstsInFlight++
		}
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		if !second {
			firstsInFlight--
		}
		mu.Unlock()
	}
	a := testApplier(context.Background(), f, nil)
	var target kube.ResourceList
	for i := range 3 * applyConcurrency {
		target = append(target, f.info(configMap(fmt.Sprintf("a-%d", i), "web", nil)))
	}
	for i := range applyConcurrency {
		info := f.info(configMap(fmt.Sprintf("b-%d", i), "web", nil))
		info.Object.(*unstructured.Unstructured).SetKind("Secret")
		target = append(target, info)
	}
	res, err := a.Update(nil, target)
	if err != nil {
		t.Fatal(err)
	}
	if most > applyConcurrency || most < 2 {
		t.Errorf("%d requests in flight at most, want 2 to %d", most, applyConcurrency)
	}
	if secondWhileFirstRuns {
		t.Error("an object of the second kind was sent while one of the first was in flight")
	}
	if got, want := names(res.Created), names(target); got != want {
		t.Errorf("created %s, want the manifest's order %s", got, want)
	}
}

func TestUpdateReportsFailuresInTheManifestsOrder(t *testing.T) {
	f := newFakeAPI()
	f.invalid = map[string]bool{}
	var target kube.ResourceList
	var want []string
	for i := range 4 * applyConcurrency {
		name := fmt.Sprintf("cm-%02d", i)
		target = append(target, f.info(configMap(name, "web", nil)))
		if i%5 == 3 {
			f.invalid[name] = true
			want = append(want, name)
		}
	}
	f.before = func(req *http.Request) {
		// The first of the manifest answer last.
		if n := len(req.URL.Path); n > 0 && req.URL.Path[n-2] < '2' {
			time.Sleep(3 * time.Millisecond)
		}
	}
	a := testApplier(context.Background(), f, nil)
	res, err := a.Update(nil, target)
	if err == nil {
		t.Fatal("Update succeeded with invalid objects")
	}
	var got []string
	for _, msg := range strings.Split(err.Error(), " && ") {
		for name := range f.invalid {
			if strings.Contains(msg, `"`+name+`"`) {
				got = append(got, name)
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("failures reported for %v, want %v, in the manifest's order:\n%v", got, want, err)
	}
	if names(res.Created) != names(target) {
		t.Errorf("result %s, want every object, in the manifest's order", names(res.Created))
	}
}

func TestAnInterruptionStopsTheApplyBeforeTheNextObject(t *testing.T) {
	f := newFakeAPI()
	ctx, cancel := context.WithCancelCause(context.Background())
	interrupted := errors.New("interrupted")
	var (
		mu   sync.Mutex
		seen int
	)
	f.before = func(*http.Request) {
		mu.Lock()
		seen++
		if seen == 3 {
			cancel(interrupted)
		}
		mu.Unlock()
	}
	a := testApplier(ctx, f, nil)
	var target kube.ResourceList
	for i := range 5 * applyConcurrency {
		target = append(target, f.info(configMap(fmt.Sprintf("cm-%02d", i), "web", nil)))
	}
	res, err := a.Update(nil, target)
	if !errors.Is(err, interrupted) || !strings.Contains(err.Error(), "stopped before applying ConfigMap shop/cm-") {
		t.Fatalf("Update: %v, want it stopped by the interruption", err)
	}
	if n := len(f.objects); n >= len(target) || n > 2+applyConcurrency {
		t.Errorf("%d of %d objects written after the interruption at the third request", n, len(target))
	}
	if got := len(res.Created) + len(res.Updated); got >= len(target) {
		t.Errorf("the result has %d objects, want only those started", got)
	}
}
