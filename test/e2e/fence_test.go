package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/release"
)

// The lease is a fence. An upgrade stopped (SIGSTOP: a laptop asleep, a
// process paused) past its lease, mid-apply or mid-wait, while another
// upgrade takes the release over and completes, writes nothing when it
// wakes (its lease is unconfirmed: every write is refused until a renewal,
// which finds it taken over): it fails saying another operation took its
// lease over, exactly one revision is
// deployed (the newer), the revision it left pending keeps the note of the
// takeover (no stale record written over it), and the live objects are the
// newer upgrade's; with --atomic, its failure path rolls nothing back.
// The upgrade that takes over waits first to see the expired lease
// unchanged for its duration, and says so.
func TestAPausedUpgradeWritesNothingOnceItsLeaseIsLost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// stopAt adds the proxy rule at whose first request the
		// upgrade is stopped.
		stopAt func(*apiProxy) *proxyRule
		flags  []string
	}{
		// Its first apply (the ConfigMap) is held until it is stopped,
		// then reaches the API server, as a request sent before a pause
		// does; the Deployment is left to apply when it wakes.
		{"mid-apply", func(p *apiProxy) *proxyRule {
			return p.delay(func(req *http.Request) bool {
				return req.Method == http.MethodPatch && objectRequest("configmaps")(req)
			})
		}, nil},
		// Its wait has started watching (its pods never become ready);
		// with --atomic, its failure path would roll back too.
		{"mid-wait", func(p *apiProxy) *proxyRule { return p.rule(nil, watchRequest, false) }, []string{"--atomic"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, ns := setupIn(t, "paused-"+tt.name)
			chart := webChart(t)
			e.mustBundle(t, "install", chart, "-n", ns, "--create-namespace", "--wait", "--timeout", "1m")
			proxy := newAPIProxy(t, e)
			rule := tt.stopAt(proxy)
			p := startBinaryWith(t, proxy.kubeconfig, append([]string{"upgrade", "web", chart, "-n", ns, "--set", "color=red", "--set", never, "--wait", "--timeout", "5m"}, tt.flags...)...)
			rule.waitFired(t, tt.name, p)
			if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			defer p.cmd.Process.Signal(syscall.SIGCONT)
			rule.free()

			// The stopped upgrade's lease expires by its timestamps; the
			// next upgrade watches it for its duration, then takes over.
			e.untilLeaseExpired(t, ns, "web")
			code, _, errs := e.bundle(t, "upgrade", "web", chart, "-n", ns, "--set", "color=green", "--wait", "--timeout", "1m")
			if code != 0 {
				t.Fatalf("the upgrade after the lease expired: exit %d: %s", code, errs)
			}
			if !strings.Contains(errs, `release "web": its lease bundle.sh-release-web (held by `) ||
				!strings.Contains(errs, "has expired; waiting up to 15s to see it unchanged before taking it over") {
				t.Errorf("the upgrade that took over did not say it waited for the lease: %s", errs)
			}
			before, _ := e.revisions(t, ns, "web")

			// Woken, the stopped upgrade writes nothing and says why.
			if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.done:
			case <-time.After(time.Minute):
				t.Fatalf("the woken upgrade still runs a minute later: %s", p.stderr.String())
			}
			lost := regexp.MustCompile(`(?m)^Error: upgrading "web" to web 1\.0\.0: lost the lease of release "web" in namespace "` + ns +
				`": another operation took it over; nothing more was written\n\z`)
			if p.err == nil || !lost.MatchString(p.stderr.String()) {
				t.Errorf("the woken upgrade: %v: %q, want it failed saying it lost the lease", p.err, p.stderr.String())
			}
			states, descs := e.revisions(t, ns, "web")
			if fmt.Sprint(states) != fmt.Sprint(before) {
				t.Errorf("history %v after the woken upgrade, %v before it", states, before)
			}
			checkStopped(t, states, descs, []string{"1 superseded", "2 superseded", "3 deployed"}, 2)
			e.liveWeb(t, ns, "web", "green")
		})
	}
}

// untilLeaseExpired waits until the release's lease has expired by its
// timestamps (renewed more than its duration ago).
func (e *env) untilLeaseExpired(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, time.Minute, "the lease expired", func() (bool, string) {
		l, err := e.cs.CoordinationV1().Leases(ns).Get(context.Background(), release.LeasePrefix+name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		expires := l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
		return time.Now().After(expires.Add(time.Second)), "expires " + expires.String()
	})
}

// Installs into a namespace that does not exist yet take the release's
// lease too (--create-namespace makes the namespace first): of installs
// started together, exactly one deploys; the others fail at once, naming
// it.
func TestConcurrentInstallsIntoANewNamespaceExactlyOneDeploys(t *testing.T) {
	t.Parallel()
	e, ns := setupIn(t, "concurrent-install")
	// Available 5s after its pod is ready: the winner holds the lease
	// while the others start.
	chart := testutil.Chart{Name: "web", Templates: map[string]string{
		"deploy.yaml": testutil.DeploymentYAML("{{ .Release.Name }}", testutil.Replicas("1"),
			testutil.PodSpec("containers: [{name: web, image: nginx}]")) + "  minReadySeconds: 5\n",
	}}.Write(t, t.TempDir()+"/web")
	bundleBinary(t)

	const n = 4
	procs := make([]*process, n)
	for i := range procs {
		procs[i] = e.startBinary(t, "install", "web", chart, "-n", ns, "--create-namespace", "--wait", "--timeout", "1m")
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("an install still runs after 2 minutes: %s", p.stderr.String())
		}
	}
	busy := regexp.MustCompile(`^Error: release "web" in namespace "` + ns + `" is being installed by \S+ pid (\d+) since \S+: wait for it, .*\(Lease bundle\.sh-release-web; if no operation runs, remove it: kubectl delete lease bundle\.sh-release-web -n ` + ns + `\)\n$`)
	var deployed []*process
	holders := map[string]bool{}
	for _, p := range procs {
		if p.err == nil {
			deployed = append(deployed, p)
			continue
		}
		m := busy.FindStringSubmatch(p.stderr.String())
		if m == nil {
			t.Errorf("a concurrent install: %v: %s", p.err, p.stderr.String())
			continue
		}
		holders[m[1]] = true
	}
	if len(deployed) != 1 {
		t.Fatalf("%d of %d concurrent installs deployed, want exactly 1", len(deployed), n)
	}
	if out := deployed[0].stdout.String(); !strings.Contains(out, `Release "web" installed`) {
		t.Errorf("the install that proceeded: %s", out)
	}
	if winner := fmt.Sprint(deployed[0].cmd.Process.Pid); len(holders) != 1 || !holders[winner] {
		t.Errorf("the refused installs named holders %v; the one that deployed is pid %s", holders, winner)
	}
	if st, _ := e.revisions(t, ns, "web"); fmt.Sprint(st) != "[1 "+rcommon.StatusDeployed.String()+"]" {
		t.Errorf("history %v", st)
	}
}

// The first blue-green upgrade of an app into a namespace it creates takes
// the app's lease too: of two started together, exactly one makes the app.
func TestConcurrentBlueGreenInstallsIntoANewNamespaceExactlyOneProceeds(t *testing.T) {
	t.Parallel()
	e, ns := setupIn(t, "concurrent-bluegreen")
	chart := testutil.Chart{Name: "web", Templates: map[string]string{
		"deploy.yaml": testutil.DeploymentYAML("{{ .Release.Name }}", testutil.Replicas("1"),
			testutil.PodSpec("containers: [{name: web, image: nginx}]")) + "  minReadySeconds: 5\n",
		"svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ .Release.Name }}-web'}\nspec:\n  selector: {app: '{{ .Release.Name }}'}\n  ports: [{port: 80}]\n",
	}}.Write(t, t.TempDir()+"/web")
	bundleBinary(t)

	procs := []*process{
		e.startBinary(t, "upgrade", "app", chart, "-n", ns, "--create-namespace", "--strategy", "blue-green", "--wait", "--timeout", "1m"),
		e.startBinary(t, "upgrade", "app", chart, "-n", ns, "--create-namespace", "--strategy", "blue-green", "--wait", "--timeout", "1m"),
	}
	done := 0
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("an upgrade still runs after 2 minutes: %s", p.stderr.String())
		}
		if p.err == nil {
			done++
		} else if !strings.Contains(p.stderr.String(), `release "app" in namespace "`+ns+`" is being upgraded by`) {
			t.Errorf("a concurrent blue-green upgrade: %v: %s", p.err, p.stderr.String())
		}
	}
	if done != 1 {
		t.Fatalf("%d of 2 concurrent blue-green upgrades proceeded, want exactly 1", done)
	}
	if st, _ := e.revisions(t, ns, "app"); len(st) != 1 {
		t.Errorf("router history %v, want one revision", st)
	}
}
