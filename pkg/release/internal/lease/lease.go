// Package lease is the lease every install, upgrade, rollback and
// uninstall holds on its release while it runs, and the fence that
// refuses the writes of an operation that cannot count on its lease.
// Its one reason to change is how operations exclude each other: nothing
// here knows bundles or Helm's actions.
package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	coordclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// Every install, upgrade, rollback and uninstall holds a Lease
// (coordination.k8s.io/v1) named Prefix+RELEASE in the release's
// namespace while it runs: it says who runs the operation (host, pid) and,
// renewed every Renew, that it still does. The lease is deleted when
// the operation ends.
//
// Taking it (acquire): a lease that looks live by its timestamps (renewed
// within its duration) stops the next operation at once, naming its
// holder. One that looks expired (or renewed further in the future than
// its duration) is taken over only once this process has seen it
// unchanged (resourceVersion, holder, renewal time) for its duration on
// its own monotonic clock, as client-go's leader election judges expiry
// by the observer's clock: a holder whose clock is wrong, or that renews
// late, is not robbed; one that changes meanwhile is busy. A holder that
// is a process of this host known to be gone is taken over at once. A
// duration above maxDuration is read as maxDuration: no Lease
// wedges a release for longer. The revision the previous holder left
// pending is then marked failed (release's recovery).
//
// Holding it (the fence): the holder holds the lease until its duration,
// less a margin (margin), after it sent its last successful renewal
// (or the request that took it), judged by both the monotonic clock
// (which SIGSTOP advances, but a machine's sleep does not) and the wall
// clock (which both advance). Past that deadline the lease is unconfirmed:
// every mutating request of the client (the Fence) is refused with an
// *UnconfirmedError, so a process that wakes from a pause writes no object
// and no release record while another operation may have taken the
// release over; the operation goes on (its waits ride out an API server
// out of reach until --timeout) and the lease is renewed again and again.
// A renewal is an update that carries the lease's last resourceVersion,
// which a takeover changes: one that succeeds proves no other operation
// took the release, and the lease is held again (writes pass); one that
// finds the lease changed by another holder, or deleted, loses it for
// good: the operation's context is cancelled with a *LostError, which
// every later write is refused with.
//
// Users need get, create, update and delete on leases in the namespace;
// where the API server forbids them, operations run without a lease, as
// before (a line on the debug log says so).
const Prefix = "bundle.sh-release-"

// How long a lease lives unrenewed, and how often it is renewed (tests
// shorten them).
var (
	Duration = 15 * time.Second
	Renew    = 5 * time.Second
	// Poll is how often an expired lease is read again while this
	// process waits to see it unchanged for its duration.
	Poll = time.Second
)

// maxDuration caps the duration a Lease states: a longer one (a
// typo, a tampered object) is read as this long.
const maxDuration = 5 * time.Minute

// margin is how long before its lease's duration a holder stops
// counting on it: time for a request checked by the fence to reach the API
// server, and for clocks that run at slightly different rates.
func margin() time.Duration { return Duration / 5 }

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

// ownRequest marks the context of the lease's own requests, which the
// fence lets through.
type ownRequest struct{}

func ownContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownRequest{}, true)
}

// Lease is a held lease, renewed until released.
type Lease struct {
	client   coordclient.LeaseInterface
	name, ns string // the release's
	log      func(string, ...any)
	stop     context.CancelFunc
	done     chan struct{}
	// renewing is held by each renewal: obj is the lease as last
	// written (Release reads it once keep's goroutine has ended);
	// unanswered says the last renewal failed unanswered (after
	// Renew/5 or more), ending at unansweredAt on the monotonic
	// clock.
	renewing     sync.Mutex
	obj          *coordinationv1.Lease
	unanswered   bool
	unansweredAt time.Duration
	// refused: the fence refused a write of this client while the lease
	// was unconfirmed or lost.
	refused atomic.Bool

	mu sync.Mutex
	// Until when it is held: its duration less the margin after the last
	// successful renewal was sent, on each clock.
	monoDeadline time.Duration
	wallDeadline time.Time
	lost         *LostError
	onLost       []func(error)
}

// Acquire takes the release's lease for op, or returns a *BusyError naming
// its live holder. It returns the previous holder when it took over an
// expired (or dead) one, and a nil lease (no error) when the API server
// forbids leases. It waits to see an expired lease unchanged for its
// duration before it takes it over, saying so through note.
func Acquire(ctx context.Context, cs kubernetes.Interface, ns, name string, op Operation, log, note func(string, ...any)) (*Lease, *Holder, error) {
	leases := cs.CoordinationV1().Leases(ns)
	lctx := ownContext(ctx)
	id := identity()
	leaseName := Prefix + name
	var (
		watched      string        // the expired lease being watched (seen)
		watchedSince time.Duration // on the monotonic clock
	)
	for conflicts := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, nil, context.Cause(ctx)
		}
		cur, err := leases.Get(lctx, leaseName, metav1.GetOptions{})
		var prev *Holder
		switch {
		case apierrors.IsNotFound(err):
			watched = ""
		case err == nil:
			h := holderOf(cur)
			if h.Identity != "" && !h.gone() {
				now := Clock.Wall()
				if h.live(now) {
					return nil, nil, &BusyError{Release: name, Namespace: ns, Holder: h}
				}
				// Expired by its timestamps: taken over once this
				// process has seen it unchanged for its duration.
				switch {
				case watched == "":
					watched, watchedSince = seen(cur), Clock.Mono()
					note("release %q: its lease %s (held by %s since %s, last renewed %s) has expired; waiting up to %s to see it unchanged before taking it over",
						name, leaseName, h, h.Since.UTC().Format(time.RFC3339), h.Renewed.UTC().Format(time.RFC3339), h.duration)
				case watched != seen(cur):
					// Renewed (or taken) while watched: its holder
					// runs, whatever its timestamps say.
					h.Expires = now.Add(h.duration)
					return nil, nil, &BusyError{Release: name, Namespace: ns, Holder: h}
				}
				if left := h.duration - (Clock.Mono() - watchedSince); left > 0 {
					if err := Clock.Sleep(ctx, min(left, Poll)); err != nil {
						return nil, nil, err
					}
					continue
				}
			}
			if h.Identity != "" {
				prev = &h
			}
		default:
			return nil, nil, leaseError(ns, name, leaseName, err, log)
		}
		want := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name:   leaseName,
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
				LeaseDurationSeconds: ptr(int32(Duration / time.Second)),
			},
		}
		sentMono, sentWall := Clock.Mono(), Clock.Wall()
		at := metav1.NewMicroTime(sentWall)
		want.Spec.AcquireTime, want.Spec.RenewTime = &at, &at
		if err != nil { // not found
			cur, err = leases.Create(lctx, want, metav1.CreateOptions{})
		} else {
			want.ResourceVersion = cur.ResourceVersion
			want.Spec.LeaseTransitions = ptr(transitions(cur) + 1)
			cur, err = leases.Update(lctx, want, metav1.UpdateOptions{})
			if apierrors.IsNotFound(err) {
				err = apierrors.NewConflict(coordinationv1.Resource("leases"), leaseName, err) // released meanwhile: read it again
			}
		}
		switch {
		case err == nil:
			l := &Lease{client: leases, name: name, ns: ns, log: log, obj: cur}
			l.renewed(sentMono, sentWall)
			l.keep(ctx)
			return l, prev, nil
		case (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && conflicts < 3:
			conflicts++
			watched = ""
			continue // another operation got there first: see who
		}
		return nil, nil, leaseError(ns, name, leaseName, err, log)
	}
}

// seen is what tells one state of a lease from the next: its
// resourceVersion, holder and renewal.
func seen(l *coordinationv1.Lease) string {
	s := l.ResourceVersion + "/"
	if l.Spec.HolderIdentity != nil {
		s += *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime != nil {
		s += "/" + l.Spec.RenewTime.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// leaseError is the outcome of a request for the lease that failed: no
// error where leases cannot be had (the operation runs without one).
func leaseError(ns, name, leaseName string, err error, log func(string, ...any)) error {
	switch {
	case apierrors.IsForbidden(err):
		log("no lease for release %q, running without one (other operations on it are not stopped): %v", name, err)
		return nil
	case apierrors.IsNotFound(err):
		// No namespace (so no release in it to hold), or no Lease API.
		log("no lease for release %q, running without one: %v", name, err)
		return nil
	}
	return fmt.Errorf("lease %s in namespace %q: %w", leaseName, ns, err)
}

// renewed records a successful renewal (or the acquisition) sent at the
// given readings of the clocks.
func (l *Lease) renewed(sentMono time.Duration, sentWall time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return // lost for good
	}
	held := Duration - margin()
	l.monoDeadline, l.wallDeadline = sentMono+held, sentWall.Add(held)
}

// check returns nil while the lease is held, an *UnconfirmedError once past
// its deadline on either clock (until a renewal succeeds), and the
// *LostError once it is lost.
func (l *Lease) check() error {
	l.mu.Lock()
	lost, expired := l.lost, Clock.Mono() >= l.monoDeadline || !Clock.Wall().Before(l.wallDeadline)
	l.mu.Unlock()
	switch {
	case lost != nil:
		return lost
	case expired:
		return &UnconfirmedError{Release: l.name, Namespace: l.ns}
	}
	return nil
}

// lose marks the lease lost, once, and tells those waiting on it (the
// operation's context).
func (l *Lease) lose() error {
	l.mu.Lock()
	if l.lost != nil {
		defer l.mu.Unlock()
		return l.lost
	}
	l.lost = &LostError{Release: l.name, Namespace: l.ns}
	fns, err := l.onLost, l.lost
	l.onLost = nil
	l.mu.Unlock()
	l.log("%v", err)
	for _, fn := range fns {
		fn(err)
	}
	return err
}

// WhenLost has fn called with the *LostError once the lease is lost (at
// once if it is).
func (l *Lease) WhenLost(fn func(error)) {
	l.mu.Lock()
	if l.lost == nil {
		l.onLost = append(l.onLost, fn)
		l.mu.Unlock()
		return
	}
	err := l.lost
	l.mu.Unlock()
	fn(err)
}

// keep renews the lease every Renew (a failed renewal is tried
// again after a fifth of that, past its deadline too) until Release, ctx
// ends, or the lease is lost.
func (l *Lease) keep(ctx context.Context) {
	ctx, l.stop = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTimer(Renew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := l.renew(ctx, false)
			switch {
			case err == nil:
				t.Reset(Renew)
			case errors.As(err, new(*LostError)) || ctx.Err() != nil:
				return // lost, or released
			default:
				l.log("renewing the lease %s: %v", Prefix+l.name, err)
				t.Reset(Renew / 5)
			}
		}
	}()
}

// renew renews the lease once: nil when renewed (it is held again, if it
// was unconfirmed), the *LostError when another operation took it over or
// it was deleted, else the error of the request. Eager (a write waits for
// it), it sends nothing when the lease is held again or a renewal went
// unanswered less than Renew/5 ago (the renew loop tries again that
// often; a write does not wait for an API server that answers nothing
// again and again).
func (l *Lease) renew(ctx context.Context, eager bool) error {
	l.renewing.Lock()
	defer l.renewing.Unlock()
	switch err := l.check(); {
	case errors.As(err, new(*LostError)):
		return err
	case eager && err == nil:
		return nil
	case eager && l.unanswered && Clock.Mono()-l.unansweredAt < Renew/5:
		return errors.New("a renewal went unanswered just before")
	}
	sent := Clock.Mono()
	err := l.renewOnce(ctx)
	l.unansweredAt = Clock.Mono()
	l.unanswered = err != nil && !errors.As(err, new(*LostError)) && l.unansweredAt-sent >= Renew/5
	return err
}

// renewOnce sends a renewal (renew).
func (l *Lease) renewOnce(ctx context.Context) error {
	for retried := false; ; retried = true {
		next := l.obj.DeepCopy()
		sentMono, sentWall := Clock.Mono(), Clock.Wall()
		at := metav1.NewMicroTime(sentWall)
		next.Spec.RenewTime = &at
		rctx, cancel := context.WithTimeout(ownContext(ctx), Renew)
		got, err := l.client.Update(rctx, next, metav1.UpdateOptions{})
		switch {
		case err == nil:
			cancel()
			l.obj = got
			l.renewed(sentMono, sentWall)
			return nil
		case apierrors.IsConflict(err) && !retried:
			// Changed since this process last wrote it: by another
			// holder (taken over), or by a renewal of this one whose
			// answer was lost (the connection was cut). Only this
			// operation writes its identity.
			cur, gerr := l.client.Get(rctx, next.Name, metav1.GetOptions{})
			cancel()
			switch {
			case gerr == nil && cur.Spec.HolderIdentity != nil && l.obj.Spec.HolderIdentity != nil && *cur.Spec.HolderIdentity == *l.obj.Spec.HolderIdentity:
				l.obj = cur
				continue // still this operation's: renew it again
			case gerr == nil || apierrors.IsNotFound(gerr):
				return l.lose()
			}
			return gerr
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
			cancel()
			return l.lose() // taken over, or deleted
		}
		cancel()
		return err
	}
}

// wentUnanswered reports whether the last renewal went unanswered.
func (l *Lease) wentUnanswered() bool {
	l.renewing.Lock()
	defer l.renewing.Unlock()
	return l.unanswered
}

// settle, when the lease is unconfirmed, tries a renewal at once (renew,
// eager; bounded by leaseMargin and ctx; once more after a failure that
// came fast): whether the release was taken over is then known, if the
// API server answers.
func (l *Lease) settle(ctx context.Context) {
	if !isUnconfirmed(l.check()) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, margin())
	defer cancel()
	for try := 0; ; try++ {
		err := l.renew(ctx, true)
		switch {
		case err == nil || errors.As(err, new(*LostError)):
			return
		case try == 0 && !l.wentUnanswered() && ctx.Err() == nil:
			// Refused or reset (an API server back from a restart, a
			// connection it closed): once more, on a new connection.
			time.Sleep(Renew / 25)
			continue
		}
		l.log("renewing the lease %s: %v", Prefix+l.name, err)
		return
	}
}

// Release stops renewing and deletes the lease, if this operation still
// holds it. It does not fail: a lease left behind expires.
func (l *Lease) Release(ctx context.Context) {
	if l == nil {
		return
	}
	l.stop()
	<-l.done
	l.renewing.Lock() // no renewal of a write (settle) meanwhile
	defer l.renewing.Unlock()
	ctx, cancel := context.WithTimeout(ownContext(context.WithoutCancel(ctx)), Renew)
	defer cancel()
	rv := l.obj.ResourceVersion
	err := l.client.Delete(ctx, l.obj.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		l.log("deleting the lease %s: %v (it expires in %s)", l.obj.Name, err, Duration)
	}
}

func transitions(l *coordinationv1.Lease) int32 {
	if l.Spec.LeaseTransitions == nil {
		return 0
	}
	return *l.Spec.LeaseTransitions
}

func ptr[T any](v T) *T { return &v }
