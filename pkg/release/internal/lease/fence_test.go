package lease

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	k8sfake "k8s.io/client-go/kubernetes/fake"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// The fence: while the lease is held, every request passes. Once it is
// unconfirmed (the process was stopped or the machine slept past its
// duration less the margin, judged by either clock, and its renewals
// fail), every mutating request is refused before it is sent, with the
// *UnconfirmedError, and the operation goes on (its context is not
// cancelled). Once it is lost (a renewal found another operation took it
// over), writes are refused with the *LostError and the operation's
// context is cancelled with it. Reads and the lease's own requests still
// pass.
func TestTheFenceRefusesWritesOnceTheLeaseIsNotConfirmed(t *testing.T) {
	defer func(r time.Duration) { Renew = r }(Renew)
	Renew = 20 * time.Millisecond
	const unconfirmed = `lease of release "db" in namespace "team" not renewed within its 15s (this process was paused, the machine slept, or the cluster was out of reach): writes refused until it is renewed, as another operation may hold the release`
	const lost = `lost the lease of release "db" in namespace "team": another operation took it over; nothing more was written`
	for _, tt := range []struct {
		name    string
		lose    func(*testutil.Clocks, *testing.T, *Lease)
		renewal error  // of every renewal after acquire
		refused string // empty: writes pass
	}{
		{"held", func(c *testutil.Clocks, _ *testing.T, _ *Lease) { c.Pause(Duration - margin() - time.Second) }, nil, ""},
		{"stopped (SIGSTOP)", func(c *testutil.Clocks, _ *testing.T, _ *Lease) { c.Pause(Duration - margin()) }, errUnavailable, unconfirmed},
		{"asleep (suspend)", func(c *testutil.Clocks, _ *testing.T, _ *Lease) { c.Suspend(Duration) }, errUnavailable, unconfirmed},
		{"monotonic clock only (wall clock set back)", func(c *testutil.Clocks, _ *testing.T, _ *Lease) {
			c.SkewMono(Duration)
		}, errUnavailable, unconfirmed},
		{"taken over", nil, apierrors.NewConflict(schemaLeases, Prefix+"db", errors.New("modified")), lost},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := testutil.UseClocks(t, &Clock)
			cs := k8sfake.NewClientset()
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			l, _, err := Acquire(ctx, cs, "team", "db", OpUpgrade, t.Logf, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release(ctx)
			if tt.renewal != nil {
				cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.renewal // the lease was created: every update is a renewal
				})
			}
			if tt.refused == lost {
				// Another operation holds it now.
				cs.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
					other := "build-7-cafe"
					return true, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: Prefix + "db", Namespace: "team"}, Spec: coordinationv1.LeaseSpec{HolderIdentity: &other}}, nil
				})
			}
			l.WhenLost(cancel)
			fc := NewFence()
			defer fc.Hold(l)()

			// A server that answers every request, and the client of an
			// operation in front of it.
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Method+" "+r.URL.Path)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`))
			}))
			defer srv.Close()
			client, err := kubernetes.NewForConfig(fc.Wrap(&rest.Config{Host: srv.URL}))
			if err != nil {
				t.Fatal(err)
			}
			if tt.lose != nil {
				tt.lose(clk, t, l)
			} else {
				deadline := time.Now().Add(5 * time.Second)
				for !errors.As(l.check(), new(*LostError)) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}

			record := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.db.v2"}}
			_, putErr := client.CoreV1().Secrets("team").Update(context.WithoutCancel(ctx), record, metav1.UpdateOptions{})
			_, postErr := client.CoreV1().ConfigMaps("team").Create(context.WithoutCancel(ctx), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{})
			delErr := client.CoreV1().Pods("team").Delete(context.WithoutCancel(ctx), "web-0", metav1.DeleteOptions{})
			_, getErr := client.CoreV1().Secrets("team").Get(context.WithoutCancel(ctx), "x", metav1.GetOptions{})
			_, leaseErr := client.CoreV1().Secrets("team").Update(ownContext(context.WithoutCancel(ctx)), record, metav1.UpdateOptions{})
			if getErr != nil || leaseErr != nil {
				t.Errorf("a read: %v; the lease's own request: %v; want both sent", getErr, leaseErr)
			}
			mu.Lock()
			sent := strings.Join(got, ", ")
			mu.Unlock()
			if tt.refused == "" {
				if putErr != nil || postErr != nil || delErr != nil || context.Cause(ctx) != nil {
					t.Errorf("writes under a held lease: %v, %v, %v; context %v", putErr, postErr, delErr, context.Cause(ctx))
				}
				return
			}
			for _, err := range []error{putErr, postErr, delErr} {
				if !errors.Is(err, errdefs.ErrBusy) || !strings.HasSuffix(err.Error(), ": "+tt.refused) {
					t.Errorf("a write: %v, want it refused with %q", err, tt.refused)
				}
			}
			if sent != "GET /api/v1/namespaces/team/secrets/x, PUT /api/v1/namespaces/team/secrets/sh.helm.release.v1.db.v2" {
				t.Errorf("the server saw %s; want only the read and the lease's own request", sent)
			}
			var lostErr *LostError
			if tt.refused == lost && !errors.As(context.Cause(ctx), &lostErr) {
				t.Errorf("the operation's context: %v, want it cancelled with the LostError", context.Cause(ctx))
			}
			if tt.refused == unconfirmed && context.Cause(ctx) != nil {
				t.Errorf("the operation's context: %v, want it going on while the lease is unconfirmed", context.Cause(ctx))
			}
		})
	}
}

// errUnavailable is a renewal's error while the API server cannot reach
// etcd.
var errUnavailable = apierrors.NewInternalError(errors.New("etcd is gone"))

var schemaLeases = coordinationv1.Resource("leases")

// A lease with an absurd duration, renewed long ago, is watched for at most
// 5 minutes on this process's clock, saying so, then taken over: its
// holder is returned.
func TestAnAbsurdLeaseIsWatchedForAtMostTheCap(t *testing.T) {
	clk := testutil.UseClocks(t, &Clock)
	cs := k8sfake.NewClientset()
	storeLease(t, cs, time.Now().Add(-6*time.Minute), 2_000_000_000)
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	l, prev, err := Acquire(context.Background(), cs, "team", "db", OpUpgrade, t.Logf, note)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if slept := clk.Slept(); slept < 5*time.Minute-time.Second || slept > 5*time.Minute+time.Second {
		t.Errorf("watched the lease for %s, want 5m", slept)
	}
	if len(notes) != 1 || !strings.HasSuffix(notes[0], "has expired; waiting up to 5m0s to see it unchanged before taking it over") {
		t.Errorf("notes %q", notes)
	}
	if prev == nil || prev.String() != "build pid 7" || prev.Operation != OpUpgrade {
		t.Errorf("previous holder %+v, want build pid 7 upgrading", prev)
	}
}
