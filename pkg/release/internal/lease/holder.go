package lease

// Who holds a lease, and the errors that name the holder or say the lease
// is not held.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Holder is who holds a release's lease.
type Holder struct {
	Identity  string    // the lease's holder identity: host-pid-random
	Operation Operation // empty when the lease does not say
	Host      string
	PID       int
	Since     time.Time // acquired
	Renewed   time.Time // last renewed: the operation's last sign of life
	Expires   time.Time // Renewed plus the lease's duration (at most maxDuration)

	duration  time.Duration // the lease's, capped
	samePIDNS bool          // the holder ran in this process's pid namespace
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
	return fmt.Sprintf("release %q in namespace %q is being %s by %s since %s: wait for it, or if it has died, retry after %s when its lease expires "+
		"(Lease %s; if no operation runs, remove it: kubectl delete lease %s -n %s)",
		e.Release, e.Namespace, op, e.Holder, e.Holder.Since.Format(time.RFC3339), e.Holder.Expires.Format(time.RFC3339),
		Prefix+e.Release, Prefix+e.Release, e.Namespace)
}

// Is reports errdefs.ErrBusy.
func (e *BusyError) Is(target error) bool { return target == errdefs.ErrBusy }

// LostError is an operation stopped because it no longer holds its
// release's lease: a renewal found it taken over by another operation (or
// deleted). From then on the operation wrote nothing: no object and no
// release record. It matches errdefs.ErrBusy.
type LostError struct {
	Release, Namespace string
}

func (e *LostError) Error() string {
	return fmt.Sprintf("lost the lease of release %q in namespace %q: another operation took it over; nothing more was written", e.Release, e.Namespace)
}

// Is reports errdefs.ErrBusy.
func (e *LostError) Is(target error) bool { return target == errdefs.ErrBusy }

// UnconfirmedError is a write refused because the operation did not renew
// its release's lease in time (this process was paused, the machine
// slept, or the API server was out of reach): another operation may hold
// the release, until a renewal proves otherwise. It matches
// errdefs.ErrBusy.
type UnconfirmedError struct {
	Release, Namespace string
}

func (e *UnconfirmedError) Error() string {
	return fmt.Sprintf("lease of release %q in namespace %q not renewed within its %s (this process was paused, the machine slept, or the cluster was out of reach): "+
		"writes refused until it is renewed, as another operation may hold the release", e.Release, e.Namespace, Duration)
}

// Is reports errdefs.ErrBusy.
func (e *UnconfirmedError) Is(target error) bool { return target == errdefs.ErrBusy }

// self is this process as a lease holder.
var self = sync.OnceValue(func() (s struct{ host, pidns string }) {
	s.host, _ = os.Hostname()
	s.pidns, _ = os.Readlink("/proc/self/ns/pid")
	return s
})

// live reports whether the holder's lease looks live by its timestamps
// at now: renewed within its duration, and not further in the future than
// its duration (a clock that far ahead proves nothing).
func (h Holder) live(now time.Time) bool {
	return now.Before(h.Expires) && h.Renewed.Before(now.Add(h.duration))
}

// isUnconfirmed reports whether err is an *UnconfirmedError.
func isUnconfirmed(err error) bool {
	var u *UnconfirmedError
	return errors.As(err, &u)
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
	h.duration = Duration
	if s := l.Spec.LeaseDurationSeconds; s != nil && *s > 0 {
		h.duration = min(time.Duration(*s)*time.Second, maxDuration)
	}
	h.Expires = h.Renewed.Add(h.duration)
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

// identity is a new holder identity: this host and process, and a random
// part unique to the operation (two operations of one process exclude
// each other too).
func identity() string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", self().host, os.Getpid(), hex.EncodeToString(b))
}
