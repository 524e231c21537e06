package release

// The fence: an operation that lost its release's lease (lease.go) writes
// nothing more. Every request a Client sends through a kubeconfig passes
// the fence (a wrapper of its REST configuration's transport, installed
// by New): Helm's kube client applying and deleting objects, its release
// storage writing records, bundle's own clients (claims, the waiter, the
// validator's dry runs). A mutating request (POST, PUT, PATCH, DELETE) is
// refused, before it is sent, with the *LostError of a lease the Client
// holds that is lost; reads pass, and so do the lease's own renewals and
// deletion. Helm's failure path (marking the revision failed, --atomic's
// rollback, putting the deployed revision back) is refused in the same
// way. The operation's context is cancelled with the *LostError as its
// cause, so its waits end too.
//
// The fence is per Client: while one operation of a Client has lost a
// lease, every write of that Client is refused until the operation ends.

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"k8s.io/client-go/rest"
)

// fence holds the leases a Client's running operations hold.
type fence struct {
	mu     sync.Mutex
	leases map[*lease]struct{}
}

func newFence() *fence { return &fence{leases: map[*lease]struct{}{}} }

// hold adds l until the returned function is called.
func (f *fence) hold(l *lease) (drop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases[l] = struct{}{}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.leases, l)
	}
}

// check returns the *LostError of a held lease that is lost, or nil; it is
// asked before each write.
func (f *fence) check() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	held := make([]*lease, 0, len(f.leases))
	for l := range f.leases {
		held = append(held, l)
	}
	f.mu.Unlock()
	for _, l := range held {
		if err := l.check(); err != nil {
			err.(*LostError).refused.Store(true)
			return err
		}
	}
	return nil
}

// wrap installs the fence on rc's transport.
func (f *fence) wrap(rc *rest.Config) *rest.Config {
	rc.Wrap(func(next http.RoundTripper) http.RoundTripper { return fencedTransport{next: next, fence: f} })
	return rc
}

// fencedTransport refuses mutating requests once a lease is lost.
type fencedTransport struct {
	next  http.RoundTripper
	fence *fence
}

func (t fencedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if req.Context().Value(leaseRequest{}) == nil {
			if err := t.fence.check(); err != nil {
				if req.Body != nil {
					req.Body.Close()
				}
				return nil, err
			}
		}
	}
	return t.next.RoundTrip(req)
}

// lostLease returns the *LostError that stopped the operation of ctx, or
// nil while it holds its leases.
func lostLease(ctx context.Context) *LostError {
	var lost *LostError
	if errors.As(context.Cause(ctx), &lost) {
		return lost
	}
	return nil
}

// orLost is the error of an operation whose outcome was err: the
// *LostError when it lost its lease and failed, or when the fence refused
// one of its writes (Helm only logs a release record it could not write);
// else err.
func orLost(ctx context.Context, err error) error {
	if lost := lostLease(ctx); lost != nil && (err != nil || lost.refused.Load()) {
		return lost
	}
	return err
}
