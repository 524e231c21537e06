package release

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/releasetest"
)

// testsFixture stores release "wiki" with two test hooks (weights 1 and
// 2, stored in the opposite order) and a post-install hook.
func testsFixture(t *testing.T) *releasetest.Fixture {
	f := releasetest.New("team")
	r := releasetest.Release("wiki", "team", 1, rcommon.StatusDeployed, "mediawiki", "1.1.0", "1.41")
	r.Hooks = []*helmrelease.Hook{
		{Name: "wiki-test-login", Kind: "Pod", Weight: 2, Events: []helmrelease.HookEvent{helmrelease.HookTest}, Manifest: "kind: Pod"},
		{Name: "wiki-test-http", Kind: "Pod", Weight: 1, Events: []helmrelease.HookEvent{helmrelease.HookTest}, Manifest: "kind: Pod"},
		{Name: "wiki-setup", Kind: "Job", Events: []helmrelease.HookEvent{helmrelease.HookPostInstall}, Manifest: "kind: Job"},
	}
	f.Store(t, r)
	return f
}

func names(hs []Hook) (out []string) {
	for _, h := range hs {
		out = append(out, h.Name+" "+h.LastRun.Phase)
	}
	return out
}

func TestTest(t *testing.T) {
	tests := []struct {
		name    string
		opts    TestOptions
		tests   []string
		skipped []string
	}{
		{"every test, by weight", TestOptions{}, []string{"wiki-test-http Succeeded", "wiki-test-login Succeeded"}, nil},
		{"only", TestOptions{Only: []string{"wiki-test-login"}}, []string{"wiki-test-login Succeeded"}, []string{"wiki-test-http"}},
		{"skip", TestOptions{Skip: []string{"wiki-test-login"}}, []string{"wiki-test-http Succeeded"}, []string{"wiki-test-login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testsFixture(t)
			res, err := NewWithEnv(envOf(f), nil).Test(context.Background(), "wiki", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(res.Tests); !reflect.DeepEqual(got, tt.tests) {
				t.Errorf("tests %q, want %q", got, tt.tests)
			}
			if !reflect.DeepEqual(res.Skipped, tt.skipped) {
				t.Errorf("skipped %q, want %q", res.Skipped, tt.skipped)
			}
			// The outcome is recorded in the release, as helm test does.
			stored := f.Last(t, "wiki")
			for _, h := range stored.Hooks {
				ran := h.LastRun.Phase == helmrelease.HookPhaseSucceeded
				if want := contains(tt.tests, h.Name+" Succeeded"); ran != want {
					t.Errorf("stored hook %s phase %q", h.Name, h.LastRun.Phase)
				}
			}
		})
	}
}

func TestTestFails(t *testing.T) {
	f := testsFixture(t)
	f.Kube.WatchUntilReadyError = errors.New("pod wiki-test-http failed")
	res, err := NewWithEnv(envOf(f), nil).Test(context.Background(), "wiki", TestOptions{})
	if !errors.Is(err, ErrTestFailed) {
		t.Fatalf("error %v, want ErrTestFailed", err)
	}
	if want := `release "wiki": test wiki-test-http failed: pod wiki-test-http failed`; err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	// The first test failed; the second never started.
	if got, want := names(res.Tests), []string{"wiki-test-http Failed", "wiki-test-login "}; !reflect.DeepEqual(got, want) {
		t.Errorf("tests %q, want %q", got, want)
	}
}

func TestTestErrors(t *testing.T) {
	f := testsFixture(t)
	c := NewWithEnv(envOf(f), nil)
	_, err := c.Test(context.Background(), "wiki", TestOptions{Only: []string{"wiki-tset-http"}})
	if err == nil || err.Error() != `release "wiki" has no test named "wiki-tset-http" (its tests: wiki-test-login, wiki-test-http)` {
		t.Errorf("unknown test name: %v", err)
	}
	if _, err := c.Test(context.Background(), "nope", TestOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown release: %v", err)
	}
}

func TestTestLogs(t *testing.T) {
	f := testsFixture(t)
	ctx := context.Background()
	// wiki-test-http's pod is still there; wiki-test-login's was deleted
	// by its delete policy.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "wiki-test-http", Namespace: "team"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "curl"}, {Name: "sidecar"}}},
	}
	if _, err := f.Clientset.CoreV1().Pods("team").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := NewWithEnv(envOf(f), nil).Test(ctx, "wiki", TestOptions{Logs: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Logs {
		got = append(got, strings.Join([]string{l.Pod, l.Container, l.Log, l.Err}, "|"))
	}
	want := []string{
		"wiki-test-http|curl|fake logs|", // the fake clientset's log text
		"wiki-test-http|sidecar|fake logs|",
		"wiki-test-login|||the pod is gone (deleted by its helm.sh/hook-delete-policy)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logs\n got  %q\n want %q", got, want)
	}
}
