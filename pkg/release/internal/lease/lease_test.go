package lease

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	k8sfake "k8s.io/client-go/kubernetes/fake"
)

// storeLease stores a lease on release db in namespace team held by
// another process (build pid 7, upgrading it), renewed at renewed, of the
// given duration in seconds.
func storeLease(t *testing.T, cs kubernetes.Interface, renewed time.Time, seconds int32) {
	t.Helper()
	id, at := "build-7-cafe", metav1.NewMicroTime(renewed)
	_, err := cs.CoordinationV1().Leases("team").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: Prefix + "db", ResourceVersion: "1", Annotations: map[string]string{
			annotationOperation: string(OpUpgrade), annotationHost: "build", annotationPID: "7"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: ptr(seconds), AcquireTime: &at, RenewTime: &at},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// The lease is renewed while the operation runs and deleted at its end.
func TestTheLeaseIsRenewedAndReleased(t *testing.T) {
	defer func(r time.Duration) { Renew = r }(Renew)
	Renew = 20 * time.Millisecond
	cs := k8sfake.NewClientset()
	ctx := context.Background()
	l, prev, err := Acquire(ctx, cs, "team", "db", OpUpgrade, t.Logf, t.Logf)
	if err != nil || prev != nil {
		t.Fatal(err, prev)
	}
	acquired, err := cs.CoordinationV1().Leases("team").Get(ctx, Prefix+"db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := *acquired.Spec.RenewTime
	time.Sleep(100 * time.Millisecond)
	got, err := cs.CoordinationV1().Leases("team").Get(ctx, Prefix+"db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Spec.RenewTime.After(first.Time) {
		t.Errorf("lease not renewed: %v, acquired %v", got.Spec.RenewTime, first)
	}
	if h := holderOf(got); h.Host != self().host || h.Operation != OpUpgrade {
		t.Errorf("holder %+v", h)
	}
	l.Release(ctx)
	if _, err := cs.CoordinationV1().Leases("team").Get(ctx, Prefix+"db", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the lease is left after the operation: %v", err)
	}
}
