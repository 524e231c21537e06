package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release/internal/debug"
	"github.com/bundlesh/bundle/pkg/release/internal/lease"
)

// storeLease stores a lease on release db held by another process (build
// pid 7), renewed at renewed, of the given duration in seconds.
func storeLease(t *testing.T, f *releasetest.Fixture, renewed time.Time, seconds int32) {
	t.Helper()
	id, at := "build-7-cafe", metav1.NewMicroTime(renewed)
	_, err := f.Clientset.CoordinationV1().Leases("team").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeasePrefix + "db", ResourceVersion: "1", Annotations: map[string]string{
			"bundle.sh/operation": string(OpUpgrade), "bundle.sh/host": "build", "bundle.sh/pid": "7"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &seconds, AcquireTime: &at, RenewTime: &at},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// debugLines collects what the client writes to its debug log (the
// lines an operation also tells the user of, without Notify).
func debugLines(f *releasetest.Fixture) func() string {
	var mu sync.Mutex
	var b strings.Builder
	f.Config().SetLogger(debug.Handler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	})))
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}

// An expired lease (by its timestamps) is taken over only once this
// process has seen it unchanged for its duration on its own clock, saying
// so; one that changes meanwhile (its holder renews it, with a clock
// behind) stops the operation, naming the holder. A renewal time in the
// future beyond the lease's duration is no sign of life either: such a
// lease is watched as an expired one, not obeyed until then.
func TestAnExpiredLeaseIsTakenOverOnlyOnceSeenUnchanged(t *testing.T) {
	for _, tt := range []struct {
		name    string
		renewed time.Time
		renews  bool // the holder renews it while watched
	}{
		{"expired", time.Now().Add(-time.Minute), false},
		{"renewed in 2090", time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"renewed while watched", time.Now().Add(-time.Minute), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, c := recoveryFixture(t, rcommon.StatusDeployed, rcommon.StatusPendingUpgrade)
			logged := debugLines(f)
			storeLease(t, f, tt.renewed, 1)
			if tt.renews {
				gets := 0
				f.Clientset.PrependReactor("get", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
					if gets++; gets < 2 {
						return false, nil, nil
					}
					l, err := f.Clientset.Tracker().Get(coordinationv1.SchemeGroupVersion.WithResource("leases"), "team", LeasePrefix+"db")
					if err != nil {
						return true, nil, err
					}
					l = l.DeepCopyObject()
					renewed := metav1.NewMicroTime(tt.renewed.Add(time.Duration(gets) * time.Second))
					l.(*coordinationv1.Lease).Spec.RenewTime = &renewed
					l.(*coordinationv1.Lease).ResourceVersion = fmt.Sprint(gets)
					return true, l, nil
				})
			}
			start := time.Now()
			err := operations["upgrade"](context.Background(), c)
			took := time.Since(start)
			if !strings.Contains(logged(), `release "db": its lease bundle.sh-release-db (held by build pid 7 since `) ||
				!strings.Contains(logged(), "has expired; waiting up to 1s to see it unchanged before taking it over") {
				t.Errorf("no line saying it waits for the lease:\n%s", logged())
			}
			if tt.renews {
				if err == nil || !strings.HasPrefix(err.Error(), `release "db" in namespace "team" is being upgraded by build pid 7 since `) {
					t.Fatalf("upgrade while the holder renews its lease: %v, want it refused naming the holder", err)
				}
				if got := statuses(t, f); fmt.Sprint(got) != "[1 deployed 2 pending-upgrade]" {
					t.Errorf("history %v: the refused upgrade changed it", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if took < time.Second {
				t.Errorf("the expired lease was taken over after %s, before this process saw it unchanged for its duration (1s)", took)
			}
			if got := statuses(t, f); fmt.Sprint(got) != "[1 superseded 2 superseded 3 deployed]" {
				t.Errorf("history %v", got)
			}
		})
	}
}

// A lease's duration is read as at most 5 minutes: an absurd one does not
// wedge the release until 2090. A busy error names the Lease and how to
// remove it.
func TestALeaseDurationIsCapped(t *testing.T) {
	f, c := recoveryFixture(t, rcommon.StatusDeployed)
	renewed := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	storeLease(t, f, renewed, 2_000_000_000) // 63 years
	err := operations["upgrade"](context.Background(), c)
	want := fmt.Sprintf(`release "db" in namespace "team" is being upgraded by build pid 7 since %s: wait for it, or if it has died, retry after %s when its lease expires `+
		`(Lease bundle.sh-release-db; if no operation runs, remove it: kubectl delete lease bundle.sh-release-db -n team)`,
		renewed.Format(time.RFC3339), renewed.Add(5*time.Minute).Format(time.RFC3339))
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// fencedKube is the fixture's kube client with its updates sent through
// the client's fence, as a real kube client's are; each update first
// calls before.
type fencedKube struct {
	*kubefake.FailingKubeClient
	fence  *lease.Fence
	before func()
}

func (k fencedKube) Update(orig, target kube.ResourceList, opts ...kube.ClientUpdateOption) (*kube.Result, error) {
	k.before()
	if err := k.fence.Check(context.Background()); err != nil {
		return &kube.Result{}, err
	}
	return k.FailingKubeClient.Update(orig, target, opts...)
}

// An operation whose renewals fail (the API server out of reach) past its
// lease's deadline goes on: one that only waits succeeds; one that must
// write meanwhile fails saying its lease is not renewed and writes are
// refused; one whose renewals succeed again writes, and succeeds. One
// whose renewal finds that another operation took the lease over stops
// at once (its wait ends), saying so; so does one paused past its lease
// while another operation took it over, whose first write on waking is
// refused before its renewal tells. A write such an operation leaves
// running is refused after it ended too.
func TestAnOperationWhoseLeaseIsNotRenewedWritesOnlyOnceRenewed(t *testing.T) {
	defer func(d, r time.Duration) { lease.Duration, lease.Renew = d, r }(lease.Duration, lease.Renew)
	lease.Duration, lease.Renew = 500*time.Millisecond, 50*time.Millisecond
	conflict := apierrors.NewConflict(coordinationv1.Resource("leases"), LeasePrefix+"db", errors.New("the object has been modified"))
	for _, tt := range []struct {
		name string
		// failFor is how long renewals fail with err (0: always).
		failFor time.Duration
		err     error
		// writeAt is when the upgrade applies its objects; it then
		// waits wait.
		writeAt, wait time.Duration
		// pausedAt: the process is paused past its lease just before
		// it writes, while another operation takes the lease over.
		pausedAt bool
		want     string // the error's end; "" when it succeeds
	}{
		{name: "not renewed, waits", err: errUnavailable, wait: 1500 * time.Millisecond},
		{name: "not renewed, writes", err: errUnavailable, writeAt: time.Second,
			want: `: lease of release "db" in namespace "team" not renewed within its 500ms (this process was paused, the machine slept, or the cluster was out of reach): writes refused until it is renewed, as another operation may hold the release`},
		{name: "renewed again, writes", failFor: time.Second, err: errUnavailable, writeAt: 1500 * time.Millisecond},
		{name: "taken over", err: conflict, wait: 5 * time.Second,
			want: `: lost the lease of release "db" in namespace "team": another operation took it over; nothing more was written`},
		{name: "paused, taken over meanwhile, writes", failFor: -1, pausedAt: true, writeAt: 200 * time.Millisecond,
			want: `: lost the lease of release "db" in namespace "team": another operation took it over; nothing more was written`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, c := recoveryFixture(t, rcommon.StatusDeployed)
			f.Kube.WaitDuration = tt.wait
			clk := testutil.UseClocks(t, &lease.Clock)
			start := time.Now()
			var mu sync.Mutex
			var failed, renewed int // renewals
			var takenOver atomic.Bool
			if tt.err == conflict {
				takenOver.Store(true)
			}
			f.Clientset.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case takenOver.Load():
					failed++
					return true, nil, conflict
				case tt.failFor == 0 || time.Since(start) < tt.failFor:
					failed++
					return true, nil, tt.err
				}
				renewed++
				return false, nil, nil
			})
			if tt.err == conflict || tt.pausedAt {
				f.Clientset.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
					if !takenOver.Load() || time.Since(start) < 100*time.Millisecond {
						return false, nil, nil // acquired
					}
					other := "build-7-cafe" // another operation holds it now
					return true, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeasePrefix + "db", Namespace: "team"}, Spec: coordinationv1.LeaseSpec{HolderIdentity: &other}}, nil
				})
			}
			f.Config().KubeClient = fencedKube{FailingKubeClient: f.Kube, fence: c.fence.Fence, before: func() {
				time.Sleep(tt.writeAt - time.Since(start))
				if tt.pausedAt {
					takenOver.Store(true)
					clk.Pause(lease.Duration)
				}
			}}
			_, err := c.Upgrade(context.Background(), UpgradeOptions{Source: plan.Source{Reference: "lab/db"}, ReleaseName: "db", WaitOptions: WaitOptions{Wait: true}})
			took := time.Since(start)
			mu.Lock()
			t.Logf("%d renewals failed, %d succeeded; the upgrade took %s", failed, renewed, took)
			mu.Unlock()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := statuses(t, f); fmt.Sprint(got) != "[1 superseded 2 deployed]" {
					t.Errorf("history %v", got)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), `upgrading "db" to db 1.0.0`) || !strings.HasSuffix(err.Error(), tt.want) || !errors.Is(err, errdefs.ErrBusy) {
				t.Fatalf("got  %v\nwant upgrading \"db\" to db 1.0.0...%s", err, tt.want)
			}
			if tt.err == conflict && took > 3*time.Second {
				t.Errorf("the upgrade ended %s after it lost its lease: its wait went on", took)
			}
			// A write the operation left running (Helm records a failed
			// upgrade in a goroutine of its own) is refused still.
			if err := c.fence.Check(context.Background()); !errors.Is(err, errdefs.ErrBusy) {
				t.Errorf("a write after the operation ended: %v, want it refused", err)
			}
		})
	}
}

// errUnavailable is a renewal's error while the API server cannot reach
// etcd.
var errUnavailable = apierrors.NewInternalError(errors.New("etcd is gone"))

// writerFunc is a function as an io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
