package lease

// The fence: an operation that cannot count on its release's lease
// writes nothing. Every request a release Client sends through a
// kubeconfig passes the fence (a wrapper of its REST configuration's
// transport, installed by release.New): Helm's kube client applying and deleting
// objects, its release storage writing records, bundle's own clients
// (claims, the waiter, the validator's dry runs). A mutating request (POST,
// PUT, PATCH, DELETE) is refused, before it is sent, while a lease the
// Client holds is unconfirmed (not renewed in time: *UnconfirmedError) or
// lost (taken over: *LostError); reads pass, and so do the lease's own
// renewals and deletion. Helm's failure path (marking the revision failed,
// --atomic's rollback, putting the deployed revision back) is refused in
// the same way. An unconfirmed lease is renewed again and again, and the
// operation goes on (its waits ride out an API server out of reach); a
// write while it is unconfirmed first tries a renewal itself: a renewal
// that succeeds lets writes pass again. Once the lease is lost,
// the operation's context is cancelled with the *LostError as its cause,
// so its waits end too.
//
// The fence is per Client: while one operation of a Client cannot count on
// its lease, every write of that Client is refused, also once the
// operation has ended (a write it left running is refused too).

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"k8s.io/client-go/rest"
)

// Fence holds the leases a Client's running operations hold.
type Fence struct {
	mu     sync.Mutex
	leases map[*Lease]struct{}
}

// NewFence returns a fence that holds no lease: it lets every request
// through.
func NewFence() *Fence { return &Fence{leases: map[*Lease]struct{}{}} }

// Hold adds l until the returned function is called, if l is then held.
// A lease that the operation ends without (unconfirmed or lost) stays: a
// write of the operation that outlives it (Helm goes on with a failed
// upgrade's record in a goroutine of its own once the context ends) is
// refused still, and so is every later write of the Client.
func (f *Fence) Hold(l *Lease) (drop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases[l] = struct{}{}
	return func() {
		if l.check() != nil {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.leases, l)
	}
}

// Check returns the *UnconfirmedError or *LostError of a held lease that
// is unconfirmed or lost, or nil; it is asked before each write. An
// unconfirmed lease is first renewed (settle): a write waits for the
// answer, and passes if the lease is held again.
func (f *Fence) Check(ctx context.Context) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	held := make([]*Lease, 0, len(f.leases))
	for l := range f.leases {
		held = append(held, l)
	}
	f.mu.Unlock()
	for _, l := range held {
		err := l.check()
		if isUnconfirmed(err) {
			l.settle(ctx)
			err = l.check()
		}
		if err != nil {
			l.refused.Store(true)
			return err
		}
	}
	return nil
}

// Wrap installs the fence on rc's transport.
func (f *Fence) Wrap(rc *rest.Config) *rest.Config {
	rc.Wrap(func(next http.RoundTripper) http.RoundTripper { return fencedTransport{next: next, fence: f} })
	return rc
}

// fencedTransport refuses mutating requests once a lease is lost.
type fencedTransport struct {
	next  http.RoundTripper
	fence *Fence
}

func (t fencedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if req.Context().Value(ownRequest{}) == nil {
			if err := t.fence.Check(req.Context()); err != nil {
				if req.Body != nil {
					req.Body.Close()
				}
				return nil, err
			}
		}
	}
	return t.next.RoundTrip(req)
}

// heldLeases are the leases the operation of a context holds (the app's
// and its colour's, for a blue-green one).
type heldLeases struct{}

// WithLease adds l to the leases held by the operation of ctx.
func WithLease(ctx context.Context, l *Lease) context.Context {
	held, _ := ctx.Value(heldLeases{}).([]*Lease)
	return context.WithValue(ctx, heldLeases{}, append(held[:len(held):len(held)], l))
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

// OrLost is the error of an operation whose outcome was err. When the
// fence refused one of its writes while a lease was unconfirmed, a renewal
// is tried at once to learn whether another operation took the release
// over. It is the *LostError when the operation lost its lease and failed,
// or when the fence refused one of its writes (Helm only logs a release
// record it could not write); an *UnconfirmedError when the fence refused a
// write of an operation that Helm says succeeded; else err.
func OrLost(ctx context.Context, err error) error {
	held, _ := ctx.Value(heldLeases{}).([]*Lease)
	var refused *Lease
	for _, l := range held {
		if l.refused.Load() {
			refused = l
			l.settle(ctx)
		}
	}
	if lost := lostLease(ctx); lost != nil && (err != nil || refused != nil) {
		return lost
	}
	if err == nil && refused != nil {
		return &UnconfirmedError{Release: refused.name, Namespace: refused.ns}
	}
	return err
}
