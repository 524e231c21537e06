package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	coordclient "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Every install, upgrade, rollback and uninstall holds a Lease
// (coordination.k8s.io/v1) named LeasePrefix+RELEASE in the release's
// namespace while it runs: it says who runs the operation (host, pid) and,
// renewed every leaseRenew, that it still does. A live lease (renewed
// within leaseDuration) held by another operation stops the next one at
// once; an expired one, or one whose process is known to be gone, is taken
// over, and the revision its operation left pending is marked failed (see
// recover.go). The lease is deleted when the operation ends.
//
// Users need get, create, update and delete on leases in the namespace;
// where the API server forbids them, operations run without a lease, as
// before (a line on the debug log says so).
const LeasePrefix = "bundle.sh-release-"

// How long a lease lives unrenewed, and how often it is renewed (tests
// shorten them).
var (
	leaseDuration = 15 * time.Second
	leaseRenew    = 5 * time.Second
)

// Annotations of the lease: who holds it.
const (
	annotationOperation = "bundle.sh/operation"
	annotationHost      = "bundle.sh/host"
	annotationPID       = "bundle.sh/pid"
	annotationPIDNS     = "bundle.sh/pid-namespace"
)

// Operation names what holds a release, as the past participle that reads
// "release wiki is being upgraded".
type Operation string

// The operations that hold a release.
const (
	OpInstall   Operation = "installed"
	OpUpgrade   Operation = "upgraded"
	OpRollback  Operation = "rolled back"
	OpUninstall Operation = "uninstalled"
)

// Holder is who holds a release's lease.
type Holder struct {
	Identity  string    // the lease's holder identity: host-pid-random
	Operation Operation // empty when the lease does not say
	Host      string
	PID       int
	Since     time.Time // acquired
	Renewed   time.Time // last renewed: the operation's last sign of life
	Expires   time.Time // Renewed plus the lease's duration

	samePIDNS bool // the holder ran in this process's pid namespace
}

// String is "HOST pid N", or the identity when the lease does not say.
func (h Holder) String() string {
	if h.Host != "" && h.PID > 0 {
		return fmt.Sprintf("%s pid %d", h.Host, h.PID)
	}
	return h.Identity
}

// BusyError is an operation refused because another one holds the release.
// It matches errdefs.ErrBusy.
type BusyError struct {
	Release, Namespace string
	Holder             Holder
}

func (e *BusyError) Error() string {
	op := e.Holder.Operation
	if op == "" {
		op = "changed"
	}
	return fmt.Sprintf("release %q in namespace %q is being %s by %s since %s: wait for it, or if it has died, retry after %s when its lease expires",
		e.Release, e.Namespace, op, e.Holder, e.Holder.Since.Format(time.RFC3339), e.Holder.Expires.Format(time.RFC3339))
}

// Is reports errdefs.ErrBusy.
func (e *BusyError) Is(target error) bool { return target == errdefs.ErrBusy }

// self is this process as a lease holder.
var self = sync.OnceValue(func() (s struct{ host, pidns string }) {
	s.host, _ = os.Hostname()
	s.pidns, _ = os.Readlink("/proc/self/ns/pid")
	return s
})

// lease is a held lease, renewed until released.
type lease struct {
	client coordclient.LeaseInterface
	log    func(string, ...any)
	stop   context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	obj *coordinationv1.Lease
}

// acquire takes the release's lease for op, or returns a *BusyError naming
// its live holder. It returns the previous holder when it took over an
// expired (or dead) one, and a nil lease (no error) when the API server
// forbids leases.
func acquire(ctx context.Context, cs kubernetes.Interface, ns, name string, op Operation, log func(string, ...any)) (*lease, *Holder, error) {
	leases := cs.CoordinationV1().Leases(ns)
	id := identity()
	for attempt := 0; ; attempt++ {
		now := metav1.NowMicro()
		want := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name:   LeasePrefix + name,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "bundle", "bundle.sh/release": name},
				Annotations: map[string]string{
					annotationOperation: string(op),
					annotationHost:      self().host,
					annotationPID:       strconv.Itoa(os.Getpid()),
					annotationPIDNS:     self().pidns,
				},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       &id,
				LeaseDurationSeconds: ptr(int32(leaseDuration / time.Second)),
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}
		cur, err := leases.Get(ctx, want.Name, metav1.GetOptions{})
		var prev *Holder
		switch {
		case apierrors.IsNotFound(err):
			cur, err = leases.Create(ctx, want, metav1.CreateOptions{})
		case err == nil:
			h := holderOf(cur)
			if h.Identity != "" {
				if time.Now().Before(h.Expires) && !h.gone() {
					return nil, nil, &BusyError{Release: name, Namespace: ns, Holder: h}
				}
				prev = &h
			}
			want.ResourceVersion = cur.ResourceVersion
			want.Spec.LeaseTransitions = ptr(transitions(cur) + 1)
			cur, err = leases.Update(ctx, want, metav1.UpdateOptions{})
		}
		switch {
		case err == nil:
			l := &lease{client: leases, log: log, obj: cur}
			l.keep(ctx)
			return l, prev, nil
		case apierrors.IsForbidden(err):
			log("no lease for release %q, running without one (other operations on it are not stopped): %v", name, err)
			return nil, nil, nil
		case apierrors.IsNotFound(err):
			// No namespace yet (install --create-namespace), so no
			// release in it to hold; or no Lease API.
			log("no lease for release %q, running without one: %v", name, err)
			return nil, nil, nil
		case (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && attempt < 3:
			continue // another operation got there first: see who
		}
		return nil, nil, fmt.Errorf("lease %s in namespace %q: %w", want.Name, ns, err)
	}
}

// keep renews the lease every leaseRenew until release or ctx ends.
func (l *lease) keep(ctx context.Context) {
	ctx, l.stop = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			l.mu.Lock()
			next := l.obj.DeepCopy()
			now := metav1.NowMicro()
			next.Spec.RenewTime = &now
			rctx, cancel := context.WithTimeout(ctx, leaseRenew)
			got, err := l.client.Update(rctx, next, metav1.UpdateOptions{})
			cancel()
			if err == nil {
				l.obj = got
			}
			l.mu.Unlock()
			switch {
			case apierrors.IsConflict(err):
				// Taken over after this process could not renew in
				// time: the operation runs on, but no longer holds the
				// release.
				l.log("lost the lease %s: another operation took it over", next.Name)
				return
			case err != nil:
				l.log("renewing the lease %s: %v", next.Name, err)
			}
		}
	}()
}

// release stops renewing and deletes the lease, if this operation still
// holds it. It does not fail: a lease left behind expires.
func (l *lease) release(ctx context.Context) {
	if l == nil {
		return
	}
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseRenew)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	rv := l.obj.ResourceVersion
	err := l.client.Delete(ctx, l.obj.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		l.log("deleting the lease %s: %v (it expires in %s)", l.obj.Name, err, leaseDuration)
	}
}

// holderOf reads a lease's holder.
func holderOf(l *coordinationv1.Lease) Holder {
	var h Holder
	if l.Spec.HolderIdentity != nil {
		h.Identity = *l.Spec.HolderIdentity
	}
	h.Operation = Operation(l.Annotations[annotationOperation])
	h.Host = l.Annotations[annotationHost]
	h.PID, _ = strconv.Atoi(l.Annotations[annotationPID])
	if l.Spec.AcquireTime != nil {
		h.Since = l.Spec.AcquireTime.Time
	}
	h.Renewed = h.Since
	if l.Spec.RenewTime != nil {
		h.Renewed = l.Spec.RenewTime.Time
	}
	d := leaseDuration
	if l.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	h.Expires = h.Renewed.Add(d)
	if l.Annotations[annotationPIDNS] != "" && l.Annotations[annotationPIDNS] == self().pidns {
		h.samePIDNS = true
	}
	return h
}

// gone reports whether the holder is a process of this host (and pid
// namespace) that no longer runs: its lease need not be waited out.
func (h Holder) gone() bool {
	return h.samePIDNS && h.Host != "" && h.Host == self().host && h.PID > 0 && processGone(h.PID)
}

func transitions(l *coordinationv1.Lease) int32 {
	if l.Spec.LeaseTransitions == nil {
		return 0
	}
	return *l.Spec.LeaseTransitions
}

// identity is a new holder identity: this host and process, and a random
// part unique to the operation (two operations of one process exclude
// each other too).
func identity() string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", self().host, os.Getpid(), hex.EncodeToString(b))
}

func ptr[T any](v T) *T { return &v }
