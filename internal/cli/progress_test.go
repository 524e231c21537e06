package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/pkg/release"
)

func TestProgressOffATerminalIsOneLinePerChangeOfState(t *testing.T) {
	var b bytes.Buffer
	v := &progressView{w: &b, start: time.Now(), rows: map[string]int{}}
	for _, rs := range []release.ResourceState{
		{Kind: "StatefulSet", Name: "db", State: release.StateWaiting},
		{Kind: "Job", Name: "migrate", State: release.StateWaiting},
		{Kind: "StatefulSet", Name: "db", State: release.StateInProgress, Message: "Ready: 0/1"},
		{Kind: "StatefulSet", Name: "db", State: release.StateReady, Message: "All replicas scheduled as expected. Replicas: 1"},
		{Kind: "Job", Name: "migrate", State: release.StateFailed, Message: "Job Failed. failed: 2/1"},
	} {
		v.update(rs)
	}
	want := "StatefulSet db: in progress: Ready: 0/1\n" +
		"StatefulSet db: ready\n" +
		"Job migrate: failed: Job Failed. failed: 2/1\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestProgressOnATerminalRedrawsInPlace(t *testing.T) {
	var b bytes.Buffer
	v := &progressView{w: &b, live: true, width: 60, start: time.Now(), rows: map[string]int{}}
	v.update(release.ResourceState{Kind: "StatefulSet", Name: "db", State: release.StateWaiting})
	first := b.Len()
	v.update(release.ResourceState{Kind: "StatefulSet", Name: "db", State: release.StateReady})
	second := b.String()[first:]
	if !strings.HasPrefix(second, "\x1b[2A") {
		t.Errorf("the second drawing does not go back up over the first 2 lines: %q", second)
	}
	if !strings.Contains(second, "1 resources: 1 ready") || !strings.Contains(second, "✓ StatefulSet db") {
		t.Errorf("second drawing: %q", second)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if n := len([]rune(strings.TrimPrefix(strings.TrimPrefix(l, "\x1b[2A"), "\r\x1b[2K"))); n >= 60 {
			t.Errorf("a line of %d characters wraps on a terminal of 60: %q", n, l)
		}
	}
}

// An error prints as one line; a wait's and the API server's refusals then
// say a line for each resource or object.
func TestPrintError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a wait error is one error line then a line per resource",
			fmt.Errorf("installing stable/magento as \"magento\": %w", &release.WaitError{Timeout: 5 * time.Minute, Total: 4, Resources: []release.NotReady{
				{ResourceState: release.ResourceState{Kind: "StatefulSet", Namespace: "shop", Name: "magento-cache"}, Reason: "1/3 ready",
					Pod: &release.PodProblem{Name: "magento-cache-1", Phase: "Pending", Why: "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules"}},
				{ResourceState: release.ResourceState{Kind: "PersistentVolumeClaim", Namespace: "shop", Name: "data"}, Reason: "Pending",
					Event: "ProvisioningFailed: storageclass \"fast\" not found"},
			}}),
			"Error: installing stable/magento as \"magento\": 2 of 4 resources not ready after 5m0s: StatefulSet magento-cache, PersistentVolumeClaim data\n" +
				"  StatefulSet magento-cache: 1/3 ready: pod magento-cache-1 Pending: 0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules\n" +
				"  PersistentVolumeClaim data: Pending: ProvisioningFailed: storageclass \"fast\" not found\n" +
				"Try: kubectl describe -n shop statefulset magento-cache, and kubectl get events -n shop; if it is only slow, a longer --timeout (it was 5m0s)\n"},
		{"other errors stay one line", errors.New("release \"x\"\nnot found"), "Error: release \"x\" not found\n"},
		{"objects the API server rejects are one error line then a line per object",
			fmt.Errorf("upgrading \"web\" to web@1.0.0: %w", &release.RejectedError{Release: "web", Revision: 2, Total: 2, Objects: []release.Rejected{
				{Kind: "Deployment", Namespace: "shop", Name: "web", Reason: `spec.template.spec.nodeSelector: Invalid value: "bad key!": name part must consist of alphanumeric characters`},
			}}),
			"Error: upgrading \"web\" to web@1.0.0: the API server rejects 1 of 2 objects of revision 2 of \"web\" (Deployment web); nothing was changed: correct the values or the bundle and run again\n" +
				"  Deployment web: spec.template.spec.nodeSelector: Invalid value: \"bad key!\": name part must consist of alphanumeric characters\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printError(&b, tt.err)
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}
