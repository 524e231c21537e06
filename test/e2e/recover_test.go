package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/testutil"
)

// No dead ends: an operation killed (SIGKILL) while it waits leaves its
// revision pending; the plain next command marks it failed and goes on, and
// the live objects are those it was asked for. Operations started together
// on one release: exactly one proceeds, the others fail at once naming it.

// webChart writes a chart of a ConfigMap (data.color) and a Deployment
// whose pods go where values.nodeSelector says: {node: nowhere} matches
// no node, so they never become ready and --wait waits until killed.
func webChart(t *testing.T) string {
	t.Helper()
	return deploymentChart(t, "color: blue\n", "templates/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}}
data: {color: {{ .Values.color | quote }}}
`)
}

// bundleBinary is the bundle command built once, for tests that run it as a
// process of its own (to kill it).
func bundleBinary(t *testing.T) string { return testutil.BundleBinary(t) }

// process is the bundle command running as a process of its own.
type process struct {
	cmd      *exec.Cmd
	stdout   bytes.Buffer
	stderr   bytes.Buffer
	done     chan struct{}
	err      error
	finished time.Time
}

func (e *env) startBinary(t *testing.T, args ...string) *process {
	t.Helper()
	return startBinaryWith(t, e.kubeconfig, args...)
}

// startBinaryWith starts the bundle command on the cluster of kubeconfig.
func startBinaryWith(t *testing.T, kubeconfig string, args ...string) *process {
	t.Helper()
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(bundleBinary(t), append(args, "--kubeconfig", kubeconfig)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.finished = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// untilStatus waits until the release's last revision has the status.
func (e *env) untilStatus(t *testing.T, ns, name string, st rcommon.Status, p *process) {
	t.Helper()
	eventually(t, time.Minute, fmt.Sprintf("%s %s", name, st), func() (bool, string) {
		select {
		case <-p.done:
			t.Fatalf("the command ended before it was killed: %v: %s", p.err, p.stderr.String())
		default:
		}
		last, err := e.helmStorage(ns).Last(name)
		if err != nil {
			return false, err.Error()
		}
		return last.Info.Status == st, last.Info.Status.String()
	})
}

// revisions is "REVISION STATUS" of the release's revisions, oldest first,
// and the description of each.
func (e *env) revisions(t *testing.T, ns, name string) (states, descriptions []string) {
	t.Helper()
	hist, err := e.helmStorage(ns).History(name)
	if err != nil {
		t.Fatal(err)
	}
	states, descriptions = make([]string, len(hist)), make([]string, len(hist))
	for _, r := range hist {
		states[r.Version-1] = fmt.Sprintf("%d %s", r.Version, r.Info.Status)
		descriptions[r.Version-1] = r.Info.Description
	}
	return states, descriptions
}

// live checks the release's objects: the ConfigMap's color, and a
// Deployment with no nodeSelector whose pod is available.
func (e *env) liveWeb(t *testing.T, ns, name, color string) {
	t.Helper()
	ctx := context.Background()
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["color"] != color {
		t.Errorf("live color %q, want %q", cm.Data["color"], color)
	}
	eventually(t, time.Minute, "the deployment available", func() (bool, string) {
		d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if len(d.Spec.Template.Spec.NodeSelector) > 0 {
			return false, fmt.Sprintf("nodeSelector %v", d.Spec.Template.Spec.NodeSelector)
		}
		return d.Status.AvailableReplicas == 1 && d.Status.UpdatedReplicas == 1, fmt.Sprintf("%+v", d.Status)
	})
}

func checkStopped(t *testing.T, states, descriptions []string, want []string, stopped int) {
	t.Helper()
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("history %v, want %v", states, want)
	}
	if d := descriptions[stopped-1]; !strings.HasPrefix(d, "marked failed by bundle: its operation (holder ") {
		t.Errorf("revision %d: description %q", stopped, d)
	}
}

const never = "nodeSelector.node=nowhere"

func TestKilledUpgradeIsRecoveredByTheNext(t *testing.T) {
	t.Parallel()
	e, ns := setupIn(t, "killed-upgrade")
	chart := webChart(t)
	e.mustBundle(t, "install", chart, "-n", ns, "--create-namespace", "--wait", "--timeout", "30s")

	p := e.startBinary(t, "upgrade", "web", chart, "-n", ns, "--set", "color=red", "--set", never, "--wait", "--timeout", "5m")
	e.untilStatus(t, ns, "web", rcommon.StatusPendingUpgrade, p)
	time.Sleep(time.Second)
	p.kill(t)

	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "color=green", "--wait", "--timeout", "30s")
	states, descs := e.revisions(t, ns, "web")
	checkStopped(t, states, descs, []string{"1 superseded", "2 superseded", "3 deployed"}, 2)
	e.liveWeb(t, ns, "web", "green")
}

func TestKilledInstallIsRecoveredByTheNext(t *testing.T) {
	t.Parallel()
	e, ns := setupIn(t, "killed-install")
	chart := webChart(t)
	p := e.startBinary(t, "install", chart, "-n", ns, "--create-namespace", "--set", "color=red", "--set", never, "--wait", "--timeout", "5m")
	e.untilStatus(t, ns, "web", rcommon.StatusPendingInstall, p)
	time.Sleep(time.Second)
	p.kill(t)

	e.mustBundle(t, "install", chart, "-n", ns, "--set", "color=green", "--wait", "--timeout", "30s")
	states, descs := e.revisions(t, ns, "web")
	checkStopped(t, states, descs, []string{"1 failed", "2 deployed"}, 1)
	e.liveWeb(t, ns, "web", "green")
}

// A plain rollback after a killed one goes back to what ran before it: the
// newest earlier deployed revision.
func TestKilledRollbackIsRecoveredByTheNext(t *testing.T) {
	t.Parallel()
	e, ns := setupIn(t, "killed-rollback")
	chart := webChart(t)
	e.mustBundle(t, "install", chart, "-n", ns, "--create-namespace", "--set", never)
	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "color=green", "--wait", "--timeout", "30s")

	p := e.startBinary(t, "rollback", "web", "1", "-n", ns, "--wait", "--timeout", "5m")
	e.untilStatus(t, ns, "web", rcommon.StatusPendingRollback, p)
	time.Sleep(time.Second)
	p.kill(t)

	e.mustBundle(t, "rollback", "web", "-n", ns, "--wait", "--timeout", "30s")
	states, descs := e.revisions(t, ns, "web")
	checkStopped(t, states, descs, []string{"1 superseded", "2 superseded", "3 failed", "4 deployed"}, 3)
	if descs[3] != "Rollback to 2" {
		t.Errorf("revision 4: %q, want a rollback to 2", descs[3])
	}
	e.liveWeb(t, ns, "web", "green")
}

// Of 20 upgrades started at once, exactly one proceeds (it waits for pods
// that never come); the others fail at once, each naming it.
func TestConcurrentUpgradesExactlyOneProceeds(t *testing.T) {
	t.Parallel()
	e, ns := setupIn(t, "concurrent")
	chart := webChart(t)
	e.mustBundle(t, "install", chart, "-n", ns, "--create-namespace", "--wait", "--timeout", "30s")
	bundleBinary(t) // built before the clock starts

	const n = 20
	procs := make([]*process, n)
	for i := range procs {
		procs[i] = e.startBinary(t, "upgrade", "web", chart, "-n", ns, "--set", fmt.Sprintf("color=c%d", i), "--set", never, "--wait", "--timeout", "5m")
	}
	started := time.Now()
	// All but one end, refused; the one left runs on.
	ended := func() (done, running []*process) {
		for _, p := range procs {
			select {
			case <-p.done:
				done = append(done, p)
			default:
				running = append(running, p)
			}
		}
		return done, running
	}
	eventually(t, time.Minute, "all but one upgrade refused", func() (bool, string) {
		done, _ := ended()
		return len(done) >= n-1, fmt.Sprintf("%d ended", len(done))
	})
	time.Sleep(2 * time.Second) // the one left is not about to end
	done, running := ended()
	busy := regexp.MustCompile(`^Error: release "web" in namespace "` + ns + `" is being upgraded by \S+ pid (\d+) since \S+: wait for it`)
	holders := map[string]bool{}
	for _, p := range done {
		m := busy.FindStringSubmatch(p.stderr.String())
		if p.err == nil || m == nil {
			t.Errorf("a concurrent upgrade: %v: %s", p.err, p.stderr.String())
			continue
		}
		holders[m[1]] = true
		if took := p.finished.Sub(started); took > 30*time.Second {
			t.Errorf("a refused upgrade took %s", took)
		}
	}
	if len(running) != 1 {
		t.Fatalf("%d of %d concurrent upgrades proceeded, want exactly 1", len(running), n)
	}
	winner := fmt.Sprint(running[0].cmd.Process.Pid)
	if len(holders) != 1 || !holders[winner] {
		t.Errorf("the refused upgrades named holders %v; the one that proceeded is pid %s", holders, winner)
	}
	running[0].kill(t)
	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "color=green", "--wait", "--timeout", "30s")
	e.liveWeb(t, ns, "web", "green")
}
