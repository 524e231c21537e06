package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release/internal/lease"
	"github.com/bundlesh/bundle/pkg/repo"
)

// recoveryFixture is namespace team with release db stored as the given
// revisions' statuses (1, 2, ...), and a client over it that installs
// lab/db.
func recoveryFixture(t *testing.T, statuses ...rcommon.Status) (*releasetest.Fixture, *Client) {
	t.Helper()
	lab := newShelf()
	lab.Add(t, "db", "1.0.0")
	f := releasetest.New("team")
	for i, st := range statuses {
		r := releasetest.Release("db", "team", i+1, st, "db", "1.0.0", "")
		r.Info.Description = "Upgrade complete"
		if st.IsPending() {
			r.Info.Description = "Preparing " + strings.TrimPrefix(st.String(), "pending-")
		}
		f.Store(t, r)
	}
	return f, NewWithEnv(envOf(f), repo.NewSet(map[string]repo.Repository{"lab": lab}))
}

// holdLease stores a lease on release db as another process holding it,
// renewed at renewed.
func holdLease(t *testing.T, f *releasetest.Fixture, op Operation, renewed time.Time) {
	t.Helper()
	id, at := "build-7-cafe", metav1.NewMicroTime(renewed)
	_, err := f.Clientset.CoordinationV1().Leases("team").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeasePrefix + "db", Annotations: map[string]string{
			"bundle.sh/operation": string(op), "bundle.sh/host": "build", "bundle.sh/pid": "7"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: new(int32(15)), AcquireTime: &at, RenewTime: &at},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// statuses is "REVISION STATUS" of every stored revision of db, oldest
// first.
func statuses(t *testing.T, f *releasetest.Fixture) []string {
	t.Helper()
	rels, err := recordsOf(f.Config()).History("db")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rels))
	for _, r := range rels {
		out[r.Version-1] = fmt.Sprintf("%d %s", r.Version, r.Info.Status)
	}
	return out
}

func noLeaseLeft(t *testing.T, f *releasetest.Fixture) {
	t.Helper()
	_, err := f.Clientset.CoordinationV1().Leases("team").Get(context.Background(), LeasePrefix+"db", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the lease is left after the operation: %v", err)
	}
}

// operations runs each lifecycle operation on release db.
var operations = map[string]func(context.Context, *Client) error{
	"install": func(ctx context.Context, c *Client) error {
		_, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/db"}})
		return err
	},
	"upgrade": func(ctx context.Context, c *Client) error {
		_, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/db"}, ReleaseName: "db"})
		return err
	},
	"rollback": func(ctx context.Context, c *Client) error {
		_, err := c.Rollback(ctx, RollbackOptions{ReleaseName: "db"})
		return err
	},
	"uninstall": func(ctx context.Context, c *Client) error {
		_, err := c.Uninstall(ctx, UninstallOptions{ReleaseName: "db", KeepHistory: true})
		return err
	},
}

// A revision left pending by an operation that stopped (killed, or cut off
// from the API server), with no live lease on the release, is marked failed
// by the next operation, which then goes on: install replaces a failed
// first install; upgrade and rollback patch from the stopped revision's
// manifest (what was applied), the revision deployed before it marked
// superseded, and upgrade reuses that one's values; uninstall removes it.
// As in Helm, a revision an upgrade moves on from (failed or not) ends
// superseded; its description keeps the note.
func TestNextOperationRecoversAStoppedOne(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		stored  []rcommon.Status
		op      string
		want    []string
		stopped int // the revision marked failed
	}{
		{"install over a stopped install", []rcommon.Status{rcommon.StatusPendingInstall}, "install",
			[]string{"1 failed", "2 deployed"}, 1},
		{"upgrade over a stopped install", []rcommon.Status{rcommon.StatusPendingInstall}, "upgrade",
			[]string{"1 superseded", "2 deployed"}, 1},
		{"upgrade over a stopped upgrade", []rcommon.Status{rcommon.StatusDeployed, rcommon.StatusPendingUpgrade}, "upgrade",
			[]string{"1 superseded", "2 superseded", "3 deployed"}, 2},
		{"rollback over a stopped upgrade", []rcommon.Status{rcommon.StatusDeployed, rcommon.StatusPendingUpgrade}, "rollback",
			[]string{"1 superseded", "2 failed", "3 deployed"}, 2},
		{"rollback over a stopped rollback", []rcommon.Status{rcommon.StatusSuperseded, rcommon.StatusDeployed, rcommon.StatusPendingRollback}, "rollback",
			[]string{"1 superseded", "2 superseded", "3 failed", "4 deployed"}, 3},
		{"uninstall over a stopped upgrade", []rcommon.Status{rcommon.StatusDeployed, rcommon.StatusPendingUpgrade}, "uninstall",
			[]string{"1 superseded", "2 uninstalled"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, c := recoveryFixture(t, tt.stored...)
			if err := operations[tt.op](ctx, c); err != nil {
				t.Fatalf("%s: %v", tt.op, err)
			}
			if got := statuses(t, f); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("history %v, want %v", got, tt.want)
			}
			if tt.stopped > 0 {
				r, err := recordsOf(f.Config()).Get("db", tt.stopped)
				if err != nil {
					t.Fatal(err)
				}
				if d := r.Info.Description; !strings.HasPrefix(d, RecoveredNote+" (holder unknown) stopped after 2024-05-01T10:") {
					t.Errorf("revision %d: description %q, want the note of who stopped", tt.stopped, d)
				}
			}
			noLeaseLeft(t, f)
		})
	}
}

// Rolling back to "the previous revision" after a stopped rollback goes to
// the newest earlier deployed one, not to the failed or pending ones.
func TestRollbackSkipsFailedRevisions(t *testing.T) {
	f, c := recoveryFixture(t, rcommon.StatusDeployed, rcommon.StatusFailed, rcommon.StatusPendingUpgrade)
	rel, err := c.Rollback(context.Background(), RollbackOptions{ReleaseName: "db"})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 4 || rel.Description != "Rollback to 1" {
		t.Errorf("rolled back to revision %d (%s), want 4 as a rollback to 1", rel.Revision, rel.Description)
	}
	// Nothing deployed before: nothing to roll back to, said so (not
	// Helm's "release has no 0 version").
	f, c = recoveryFixture(t, rcommon.StatusPendingInstall)
	_, err = c.Rollback(context.Background(), RollbackOptions{ReleaseName: "db"})
	want := `release "db" in namespace "team" has no earlier deployed revision to roll back to (revision 1 is failed)`
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotFound) {
		t.Errorf("rollback of a stopped first install: %v, want %s", err, want)
	}
	if fmt.Sprint(statuses(t, f)) != "[1 failed]" {
		t.Errorf("history %v", statuses(t, f))
	}
}

// While another operation holds the release's lease (renewed within its
// duration), every operation fails at once, naming the holder and since
// when, and leaves the pending revision as it is.
func TestALiveLeaseBlocks(t *testing.T) {
	for op := range operations {
		t.Run(op, func(t *testing.T) {
			f, c := recoveryFixture(t, rcommon.StatusDeployed, rcommon.StatusPendingUpgrade)
			since := time.Now().Add(-2 * time.Second).UTC().Truncate(time.Second)
			holdLease(t, f, OpUpgrade, since)
			err := operations[op](context.Background(), c)
			var busy *BusyError
			if !errors.As(err, &busy) || !errors.Is(err, errdefs.ErrBusy) {
				t.Fatalf("%s under a live lease: %v, want a BusyError", op, err)
			}
			want := fmt.Sprintf(`release "db" in namespace "team" is being upgraded by build pid 7 since %s: wait for it`, since.Format(time.RFC3339))
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got  %s\nwant %s...", err, want)
			}
			if got := statuses(t, f); fmt.Sprint(got) != "[1 deployed 2 pending-upgrade]" {
				t.Errorf("history %v: the blocked %s changed it", got, op)
			}
		})
	}
}

// An expired lease (its holder stopped renewing it) is taken over, and
// the revision it left pending is marked failed naming the holder.
func TestAnExpiredLeaseIsTakenOver(t *testing.T) {
	testutil.UseClocks(t, &lease.Clock) // it is watched for its 15s first
	f, c := recoveryFixture(t, rcommon.StatusDeployed, rcommon.StatusPendingUpgrade)
	renewed := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	holdLease(t, f, OpUpgrade, renewed)
	if err := operations["upgrade"](context.Background(), c); err != nil {
		t.Fatal(err)
	}
	r, err := recordsOf(f.Config()).Get("db", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("marked failed by bundle: its operation (holder build pid 7) stopped at %s; was pending-upgrade: Preparing upgrade", renewed.Format(time.RFC3339))
	if r.Info.Description != want {
		t.Errorf("revision 2: %q\nwant %q", r.Info.Description, want)
	}
	if got := statuses(t, f); fmt.Sprint(got) != "[1 superseded 2 superseded 3 deployed]" {
		t.Errorf("history %v", got)
	}
	noLeaseLeft(t, f)
}

// A live lease whose holder is a process of this host that is gone need
// not be waited out.
func TestALeaseOfADeadLocalProcessIsTakenOver(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	f, c := recoveryFixture(t, rcommon.StatusDeployed, rcommon.StatusPendingUpgrade)
	host, _ := os.Hostname()
	pidns, _ := os.Readlink("/proc/self/ns/pid")
	id, at := "dead", metav1.NowMicro()
	_, err := f.Clientset.CoordinationV1().Leases("team").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeasePrefix + "db", Annotations: map[string]string{
			"bundle.sh/host": host, "bundle.sh/pid": strconv.Itoa(cmd.Process.Pid), "bundle.sh/pid-namespace": pidns}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: new(int32(15)), AcquireTime: &at, RenewTime: &at},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pidns == "" {
		t.Skip("no pid namespace to tell processes of this host by")
	}
	if err := operations["upgrade"](context.Background(), c); err != nil {
		t.Fatalf("upgrade after the holder died: %v", err)
	}
}

// Of operations started together on one release, exactly one proceeds; the
// others fail at once naming it.
func TestConcurrentOperationsExactlyOneProceeds(t *testing.T) {
	f, c := recoveryFixture(t, rcommon.StatusDeployed)
	f.Kube.WaitDuration = 500 * time.Millisecond
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = c.Upgrade(context.Background(), UpgradeOptions{Source: plan.Source{Reference: "lab/db"}, ReleaseName: "db", WaitOptions: WaitOptions{Wait: true}})
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var busy *BusyError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &busy):
		default:
			t.Errorf("not a BusyError: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent upgrades proceeded, want exactly 1", ok, n)
	}
	if got := statuses(t, f); fmt.Sprint(got) != "[1 superseded 2 deployed]" {
		t.Errorf("history %v", got)
	}
}

// Where the API server forbids leases, operations run as before without
// one.
func TestForbiddenLeasesFallBack(t *testing.T) {
	f, c := recoveryFixture(t, rcommon.StatusDeployed)
	f.Clientset.PrependReactor("*", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, LeasePrefix+"db", errors.New("RBAC"))
	})
	if err := operations["upgrade"](context.Background(), c); err != nil {
		t.Fatalf("upgrade without leases: %v", err)
	}
	if got := statuses(t, f); fmt.Sprint(got) != "[1 superseded 2 deployed]" {
		t.Errorf("history %v", got)
	}
}

// An upgrade given no values after a stopped one reuses the values of the
// revision deployed before it, not the stopped one's.
func TestUpgradeAfterAStoppedOneReusesTheDeployedValues(t *testing.T) {
	f, c := recoveryFixture(t)
	ok := releasetest.Release("db", "team", 1, rcommon.StatusDeployed, "db", "1.0.0", "")
	ok.Config = map[string]any{"color": "blue"}
	stopped := releasetest.Release("db", "team", 2, rcommon.StatusPendingUpgrade, "db", "1.0.0", "")
	stopped.Config = map[string]any{"color": "red"}
	f.Store(t, ok, stopped)
	if err := operations["upgrade"](context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := f.Last(t, "db"); got.Version != 3 || got.Config["color"] != "blue" {
		t.Errorf("revision %d values %v, want 3 with color blue", got.Version, got.Config)
	}
}
