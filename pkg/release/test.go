package release

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// ErrTestFailed: a test hook of the release failed or did not finish in time.
var ErrTestFailed = errdefs.ErrFailed

// TestOptions configure Test.
type TestOptions struct {
	// Timeout bounds each test hook; zero means DefaultTimeout.
	Timeout time.Duration
	// Only, when not empty, runs just the test hooks of these names
	// (helm test --filter name=NAME).
	Only []string
	// Skip names test hooks not to run (--filter '!name=NAME').
	Skip []string
	// Logs fetches the logs of the test pods after the tests ran.
	Logs bool
}

// TestResult is how a release's tests ran.
type TestResult struct {
	*Release
	// Tests are the test hooks selected, in the order they run (by
	// weight), each with its last run; one that never started (an
	// earlier one failed) has an empty phase.
	Tests []Hook
	// Skipped names the test hooks the options left out.
	Skipped []string
	// Logs holds each test pod's container logs (with TestOptions.Logs).
	Logs []PodLog
}

// PodLog is one container's log, or why it could not be read.
type PodLog struct {
	Pod       string
	Container string
	Log       string
	Err       string
}

// Test runs the test hooks of the latest revision of a release (hooks
// annotated helm.sh/hook: test), one after the other as helm test does,
// and records their outcome in the release. A failing test returns the
// result with an error matching ErrTestFailed.
func (c *Client) Test(ctx context.Context, name string, opts TestOptions) (*TestResult, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	last, err := c.hist.stored(name, 0)
	if err != nil {
		return nil, err
	}
	var tests []string
	for _, h := range last.Hooks {
		if hook(h).IsTest() {
			tests = append(tests, h.Name)
		}
	}
	for _, n := range append(append([]string(nil), opts.Only...), opts.Skip...) {
		if !contains(tests, n) {
			have := "it has none"
			if len(tests) > 0 {
				have = "its tests: " + strings.Join(tests, ", ")
			}
			return nil, fmt.Errorf("release %q has no test named %q (%s)", name, n, have)
		}
	}

	t := action.NewReleaseTesting(c.cfg)
	t.Namespace = c.namespace
	t.Timeout = WaitOptions{Timeout: opts.Timeout}.timeout()
	if len(opts.Only) > 0 {
		t.Filters[action.IncludeNameFilter] = opts.Only
	}
	if len(opts.Skip) > 0 {
		t.Filters[action.ExcludeNameFilter] = opts.Skip
	}
	t.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
	ran, shutdown, runErr := t.Run(name)
	// Helm deletes the test hooks (their delete policies) only once the
	// logs are read: when this returns.
	defer func() {
		if err := shutdown(); err != nil {
			c.log("deleting the test hooks of %q: %v", name, err)
		}
	}()
	rel, err := v1(ran)
	if err != nil {
		return nil, fmt.Errorf("testing %q: %w", name, err)
	}
	if rel == nil {
		return nil, fmt.Errorf("testing %q: %w", name, runErr)
	}
	res := &TestResult{Release: summarize(rel)}
	for _, h := range rel.Hooks {
		hk := hook(h)
		if !hk.IsTest() {
			continue
		}
		if contains(opts.Skip, hk.Name) || (len(opts.Only) > 0 && !contains(opts.Only, hk.Name)) {
			res.Skipped = append(res.Skipped, hk.Name)
			continue
		}
		res.Tests = append(res.Tests, hk)
	}
	sort.SliceStable(res.Tests, func(i, j int) bool { return res.Tests[i].Weight < res.Tests[j].Weight })
	if opts.Logs {
		res.Logs = c.testLogs(ctx, res.Tests)
	}
	if runErr != nil {
		failed := "a test"
		for _, h := range res.Tests {
			if h.LastRun.Phase == "Failed" {
				failed = fmt.Sprintf("test %s", h.Name)
			}
		}
		return res, errdefs.Wrap(ErrTestFailed, runErr, "release %q: %s failed: %s", name, failed, strings.Join(strings.Fields(runErr.Error()), " "))
	}
	return res, nil
}

// testLogs reads the logs of the pods of test hooks that ran: the Pod
// itself, or the pods of a Job.
func (c *Client) testLogs(ctx context.Context, tests []Hook) []PodLog {
	cs, err := c.env.Clientset()
	if err != nil {
		return []PodLog{{Err: fmt.Sprintf("no Kubernetes client for the logs: %v", err)}}
	}
	var out []PodLog
	for _, h := range tests {
		if h.LastRun.StartedAt.IsZero() {
			continue
		}
		var pods []corev1.Pod
		switch h.Kind {
		case "Pod":
			p, err := cs.CoreV1().Pods(c.namespace).Get(ctx, h.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				out = append(out, PodLog{Pod: h.Name, Err: "the pod is gone (deleted by its helm.sh/hook-delete-policy)"})
				continue
			}
			if err != nil {
				out = append(out, PodLog{Pod: h.Name, Err: err.Error()})
				continue
			}
			pods = []corev1.Pod{*p}
		case "Job":
			l, err := cs.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + h.Name})
			if err != nil {
				out = append(out, PodLog{Pod: h.Name, Err: err.Error()})
				continue
			}
			if len(l.Items) == 0 {
				out = append(out, PodLog{Pod: h.Name, Err: "the Job has no pods (deleted by its helm.sh/hook-delete-policy?)"})
			}
			pods = l.Items
		default:
			continue
		}
		for _, p := range pods {
			for _, ct := range p.Spec.Containers {
				pl := PodLog{Pod: p.Name, Container: ct.Name}
				stream, err := cs.CoreV1().Pods(c.namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: ct.Name}).Stream(ctx)
				if err != nil {
					pl.Err = err.Error()
				} else {
					b, err := io.ReadAll(stream)
					stream.Close()
					pl.Log = string(b)
					if err != nil {
						pl.Err = err.Error()
					}
				}
				out = append(out, pl)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
