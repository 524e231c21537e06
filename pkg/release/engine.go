package release

// The kube engine's glue: the Client methods and names that wire the
// internal packages (the applier, the waiter, the validator, the volumes
// of an uninstall, the lease and its fence, --debug's transport) into the
// lifecycle operations. The engine's packages know Helm's kube client and
// the Kubernetes API, and nothing of bundles; this file is where the two
// meet.

import (
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release/internal/apply"
	"github.com/bundlesh/bundle/pkg/release/internal/debug"
	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
	"github.com/bundlesh/bundle/pkg/release/internal/lease"
	"github.com/bundlesh/bundle/pkg/release/internal/validate"
	"github.com/bundlesh/bundle/pkg/release/internal/volumes"
	"github.com/bundlesh/bundle/pkg/release/internal/wait"
)

// FieldManager is the field manager bundle applies objects as (server-side
// apply): "helm", as the helm CLIs write, so that a release handed between
// helm 3, helm 4 and bundle converges (see apply.FieldManager);
// kubectl get --show-managed-fields lists it with operation Apply.
const FieldManager = apply.FieldManager

// Helm's own kube client writes some objects of an operation itself (an
// uninstall's hooks, Helm 4 creating them server-side); it names its
// writes after kube.ManagedFieldsManager, else after the binary ("bundle",
// a test binary): they are made FieldManager's too, as the helm CLIs set
// it, unless a program embedding bundle set its own.
func init() {
	if kube.ManagedFieldsManager == "" {
		kube.ManagedFieldsManager = FieldManager
	}
}

// applying returns the kube client of an operation on release name: the
// applier (package apply) over Helm's client, replacing objects with
// force, or kc itself when it is not Helm's client (the fake clients of
// tests).
func (c *Client) applying(ctx context.Context, kc kube.Interface, name string, o applyOptions) kube.Interface {
	hc, ok := kc.(*kube.Client)
	if !ok {
		return kc
	}
	a := apply.New(ctx, hc, apply.Revisions{
		Release: name, Namespace: c.namespace, Log: c.log,
		History: func() ([]*helmrelease.Release, error) { return recordsOf(c.cfg).History(name) },
		Build:   func(m string) (kube.ResourceList, error) { return hc.Build(strings.NewReader(m), false) },
	})
	a.Force, a.Lax = o.force, o.lax
	return a
}

// applierOf is the applier (package apply) under kube client kc, as
// opConfig makes it, or nil.
func applierOf(kc kube.Interface) *apply.Applier {
	switch k := kc.(type) {
	case *apply.Applier:
		return k
	case waitingKube:
		return applierOf(k.Kube.Interface)
	}
	return nil
}

// applier is what a diff asks of the applier of release: the objects of
// its other stored revisions the applier deletes (leftovers), and whether
// an object is the release's (owns). ctx is the operation's.
type applier struct {
	ctx                context.Context
	release, namespace string
	log                func(string, ...any)
	history            func() ([]*helmrelease.Release, error)
	build              func(manifest string) (kube.ResourceList, error)
}

func (a *applier) revisions() apply.Revisions {
	return apply.Revisions{Release: a.release, Namespace: a.namespace, Log: a.log, History: a.history, Build: a.build}
}

// leftovers are the objects of the release's stored revisions that
// neither target nor original has (apply.Revisions.Leftovers).
func (a *applier) leftovers(original, target kube.ResourceList) kube.ResourceList {
	return a.revisions().Leftovers(original, target)
}

// owns reports whether obj is marked as the release's.
func (a *applier) owns(obj metav1.Object) bool { return a.revisions().Owns(obj) }

// What a dry run mirrors of the applier (see package apply).
var (
	applyBody             = apply.ApplyBody
	helmPatch             = apply.HelmPatch
	cannotApplyServerSide = apply.CannotApplyServerSide
	takenBack             = apply.TakenBack
	clientSideManagers    = apply.ClientSideManagers
	asUnstructured        = kubeobj.AsUnstructured
	resourceFor           = kubeobj.ResourceFor
	dryRunAll             = validate.DryRunAll
	definedKinds          = validate.DefinedKinds
	notServed             = validate.NotServed
	namespaceMissing      = validate.NamespaceMissing
	// labelled adds Helm's ownership marks of rel to the objects of rl.
	labelled = kubeobj.Mark
)

type (
	// RejectedError says the API server rejected objects of a new
	// revision in a dry run: nothing was changed. It matches
	// errdefs.ErrInvalid.
	RejectedError = validate.RejectedError
	// Rejected is one object the API server rejected, with its reason.
	Rejected = validate.Rejected
)

// validator validates an operation's revisions by server-side dry runs
// (validate.Validator): every object is sent as bundle will send it,
// before anything is changed. dyn is also what a diff reads the cluster
// with; creates is the namespace a dry-run install would create.
type validator struct {
	ctx          context.Context
	dyn          dynamic.Interface
	kube         kube.Interface
	hooks, force bool
	log          func(string, ...any)
	creates      string
	// lax: --disable-openapi-validation (validate.Validator.Lax).
	lax bool
	// answered receives the dry runs' answers: the applier of the
	// operation's, which then applies without reading first (nil: none).
	answered func(*resource.Info, *unstructured.Unstructured)
}

func (v *validator) engine() *validate.Validator {
	return &validate.Validator{Dyn: v.dyn, Kube: v.kube, Hooks: v.hooks, Force: v.force, Log: v.log, Creates: v.creates, Lax: v.lax, Answered: v.answered}
}

// openAPIValidation says whether Helm is to validate an operation's
// manifests against the cluster's OpenAPI schema on the client, given
// --disable-openapi-validation: not when bundle's dry runs validate
// them (they do what it does, strictly, with the API server's own
// schemas; parsing the schema costs an install some 150 ms), unless
// told not to validate at all.
func (v *validator) openAPIValidation(disabled bool) (disable bool) {
	return v != nil || disabled
}

// applyOptions are how an operation's applier writes: replacing objects
// (--force-replace), and letting the writes that are not applies pass
// fields no schema declares (--disable-openapi-validation: apply.Applier's
// Lax).
type applyOptions struct{ force, lax bool }

// gate returns cfg whose release storage validates a pending revision
// before storing it (validate.Gate). A nil validator returns cfg.
func (v *validator) gate(cfg *action.Configuration) *action.Configuration {
	if v == nil {
		return cfg
	}
	return validate.Gate(cfg, v.release)
}

// release validates the objects of rel, a revision about to be applied,
// and the hooks the operation runs. A nil validator validates nothing.
func (v *validator) release(rel *helmrelease.Release) error {
	if v == nil {
		return nil
	}
	return v.engine().Release(v.ctx, rel)
}

// namespaceExists reports whether namespace ns exists.
func (v *validator) namespaceExists(ns string) (bool, error) {
	return v.engine().NamespaceExists(v.ctx, ns)
}

// validator returns the validator of an operation with kube client kc, or
// nil when the client has no dynamic client to validate with (Helm's fake
// kube client in tests).
func (c *Client) validator(ctx context.Context, kc kube.Interface, hooks, force bool) (*validator, error) {
	v := &validator{ctx: ctx, kube: kc, hooks: hooks, force: force, log: c.log}
	if a := applierOf(kc); a != nil {
		v.answered = a.Validated
	}
	switch {
	case c.flags != nil:
		rc, err := c.flags.ToRESTConfig()
		if err != nil {
			return nil, errdefs.Fixable(ErrUnreachable, checkKubeconfig, "cannot use the kubeconfig: %v", oneLine(err))
		}
		// No client-side limit: the objects' requests go out a few at a
		// time (kubeobj.Concurrency), which bounds them, and Helm's kube
		// client (a REST client per object) is not limited either.
		// client-go's default limit (5 a second after a burst of 10)
		// would make a release of 20 objects take 2 seconds to compare;
		// 50 a second made the dry runs of a release of 600 objects wait
		// 10 seconds. The API server's own priority and fairness still
		// applies.
		if rc.QPS == 0 && rc.RateLimiter == nil {
			rc = rest.CopyConfig(rc)
			rc.QPS = -1
		}
		if v.dyn, err = dynamic.NewForConfig(rc); err != nil {
			return nil, err
		}
	case c.env != nil && c.env.Dynamic != nil:
		var err error
		if v.dyn, _, err = c.env.Dynamic(); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	return v, nil
}

// VolumeClaim is a PersistentVolumeClaim of a release: its data. Either a
// StatefulSet of the release made it from one of its
// volumeClaimTemplates (StatefulSet names it), or it is an object of the
// release's manifest. Uninstall keeps it unless told to delete the data.
type VolumeClaim = volumes.VolumeClaim

// DataSecretLabel, set to "true" on a Secret of a release, says that the
// Secret holds what the release's data was initialised with and depends
// on afterwards (a database's generated passwords): Uninstall keeps it
// with the claims, and with DeleteData deletes it with them (after them).
const DataSecretLabel = volumes.DataSecretLabel

// DataSecret is a Secret of a release labelled DataSecretLabel.
type DataSecret = volumes.DataSecret

// The volumes of an uninstall (see package volumes): the release's claims
// and data Secrets found, kept or deleted.
var (
	claims            = volumes.Claims
	dataSecrets       = volumes.DataSecrets
	retain            = volumes.Retain
	deleteClaims      = volumes.DeleteClaims
	deleteDataSecrets = volumes.DeleteDataSecrets
)

// keepingClaims is the Helm kube client of an uninstall
// (volumes.Keeping): it deletes, and waits for, everything but the claims
// in keep and the Secrets in keepSecrets, and creates the pre-delete hooks
// with deleteData; waitErr, when set, receives the error of the wait.
type keepingClaims struct {
	kube.Interface
	keep, keepSecrets map[string]bool // NAMESPACE/NAME
	deleteData        bool
	waitErr           *error
}

func (k keepingClaims) engine() volumes.Keeping {
	return volumes.Keeping{Interface: k.Interface, Keep: k.keep, KeepSecrets: k.keepSecrets, DeleteData: k.deleteData, WaitErr: k.waitErr}
}

// Create creates the hooks of rl with deleteData.
func (k keepingClaims) Create(rl kube.ResourceList, opts ...kube.ClientCreateOption) (*kube.Result, error) {
	return k.engine().Create(rl, opts...)
}

// Delete deletes all but the kept claims and Secrets.
func (k keepingClaims) Delete(rl kube.ResourceList, policy metav1.DeletionPropagation) (*kube.Result, []error) {
	return k.engine().Delete(rl, policy)
}

// GetWaiter is the client's waiter, waiting for the deletion of all but
// the kept claims and Secrets.
func (k keepingClaims) GetWaiter(ws kube.WaitStrategy) (kube.Waiter, error) {
	return k.engine().GetWaiter(ws)
}

// GetWaiterWithOptions is GetWaiter with Helm's wait options.
func (k keepingClaims) GetWaiterWithOptions(ws kube.WaitStrategy, opts ...kube.WaitOption) (kube.Waiter, error) {
	return k.engine().GetWaiterWithOptions(ws, opts...)
}

// State is how far a resource is from ready, as kstatus computes it for
// every kind (Deployments, StatefulSets, Jobs, claims, custom resources
// with a Ready condition, ...).
type State = wait.State

// The states of a resource waited for (see wait.State).
const (
	StateWaiting     = wait.StateWaiting
	StateInProgress  = wait.StateInProgress
	StateReady       = wait.StateReady
	StateFailed      = wait.StateFailed
	StateTerminating = wait.StateTerminating
	StateNotFound    = wait.StateNotFound
)

type (
	// ResourceState is the readiness of one resource of a release, as
	// the cluster last reported it.
	ResourceState = wait.ResourceState
	// Progress receives the state of each resource a wait watches: once
	// when the wait starts, then at every change, from one goroutine at
	// a time, in order.
	Progress = wait.Progress
	// WaitError is a wait that ended with resources not ready (or, for
	// an uninstall, not gone), saying why for each. It matches
	// errdefs.ErrFailed, and ErrUnreachable when the API server did not
	// answer.
	WaitError = wait.WaitError
	// NotReady is a resource that is not ready, with why.
	NotReady = wait.NotReady
	// PodProblem is a pod that is not ready, and why.
	PodProblem = wait.PodProblem
)

// waiter waits for an operation's resources (package wait).
type waiter = wait.Waiter

// waitingKube is Helm's kube client with bundle's waiter w (wait.Kube).
type waitingKube struct {
	wait.Kube
	w *waiter
}

// apiHealth follows whether the API server answers a Client's requests
// (wait.Health).
type apiHealth struct{ *wait.Health }

func newAPIHealth() *apiHealth { return &apiHealth{wait.NewHealth()} }

// wrapConfig makes rc's requests go through h.
func (h *apiHealth) wrapConfig(rc *rest.Config) *rest.Config { return h.WrapConfig(rc) }

// opConfig returns Helm's configuration for an install, upgrade or
// rollback of release name: its kube client applies converging (see
// package apply) and waits with bundle's waiter (waitConfig).
func (c *Client) opConfig(ctx context.Context, name string, o applyOptions, opts WaitOptions) (*action.Configuration, error) {
	cfg := copyConfig(c.cfg)
	cfg.KubeClient = c.applying(ctx, operationKube(cfg), name, o)
	return c.waitConfig(ctx, cfg, opts)
}

// waitConfig returns base for an operation that waits for readiness, with
// bundle's waiter in place of Helm's wait. Without Wait, or with an Env
// that has no dynamic client (Helm's fake kube client in tests), it is
// base as it is.
func (c *Client) waitConfig(ctx context.Context, base *action.Configuration, opts WaitOptions) (*action.Configuration, error) {
	if !opts.Wait {
		return base, nil
	}
	w := wait.Config{Progress: opts.Progress, Host: "the cluster"}
	switch {
	case c.flags != nil:
		rc, err := c.flags.ToRESTConfig()
		if err != nil {
			return nil, errdefs.Fixable(ErrUnreachable, checkKubeconfig, "cannot use the kubeconfig: %v", oneLine(err))
		}
		rc = rest.CopyConfig(rc)
		rc.Timeout = 0 // watches are long requests; the wait's timeout bounds them all
		w.Host, w.Health = rc.Host, c.health.Health
		if w.Dyn, err = dynamic.NewForConfig(rc); err != nil {
			return nil, err
		}
		dc, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			return nil, err
		}
		// A fresh mapper for every operation: it knows the CRDs just created.
		w.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		if w.Clientset, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, err
		}
	case c.env != nil && c.env.Dynamic != nil:
		var err error
		if w.Dyn, w.Mapper, err = c.env.Dynamic(); err != nil {
			return nil, err
		}
		if c.env.Clientset != nil {
			w.Clientset, _ = c.env.Clientset()
		}
	default:
		return base, nil
	}
	cfg := copyConfig(base)
	wt := wait.New(ctx, w)
	cfg.KubeClient = waitingKube{Kube: wait.Kube{Interface: base.KubeClient, Waiter: wt}, w: wt}
	return cfg, nil
}

// --debug's output (see package debug).
var (
	// debugHandler is Helm's logger for --debug.
	debugHandler = debug.Handler
	// debugTransport makes every request to the cluster print a line
	// before it is sent and one when it is answered, redacted.
	debugTransport = debug.Transport
)

// LeasePrefix starts the name of the Lease (coordination.k8s.io/v1) every
// install, upgrade, rollback and uninstall holds in the release's
// namespace while it runs: LeasePrefix+RELEASE. A live one stops the next
// operation at once, naming its holder (BusyError); one whose holder
// stopped renewing it is taken over once seen unchanged for its duration;
// an operation that cannot count on its lease writes nothing
// (UnconfirmedError, LostError). Users need get, create, update and
// delete on leases in the namespace; where the API server forbids them,
// operations run without a lease.
const LeasePrefix = lease.Prefix

// Operation names what holds a release, as the past participle that reads
// "release wiki is being upgraded".
type Operation = lease.Operation

// The operations that hold a release.
const (
	OpInstall   = lease.OpInstall
	OpUpgrade   = lease.OpUpgrade
	OpRollback  = lease.OpRollback
	OpUninstall = lease.OpUninstall
)

type (
	// Holder is who holds a release's lease.
	Holder = lease.Holder
	// BusyError is an operation refused because another one holds the
	// release. It matches errdefs.ErrBusy.
	BusyError = lease.BusyError
	// LostError is an operation stopped because it no longer holds its
	// release's lease: another operation took it over. It matches
	// errdefs.ErrBusy.
	LostError = lease.LostError
	// UnconfirmedError is a write refused because the operation did not
	// renew its release's lease in time. It matches errdefs.ErrBusy.
	UnconfirmedError = lease.UnconfirmedError
)

// fence refuses the writes of a Client's operations that cannot count on
// their lease (lease.Fence).
type fence struct{ *lease.Fence }

func newFence() *fence { return &fence{lease.NewFence()} }

// wrap installs the fence on rc's transport.
func (f *fence) wrap(rc *rest.Config) *rest.Config { return f.Wrap(rc) }

// orLost is the error of an operation whose outcome was err, told by its
// leases (lease.OrLost): the *LostError when it lost one, an
// *UnconfirmedError when the fence refused a write of an operation Helm
// says succeeded.
var orLost = lease.OrLost

// holding marks a context whose operation holds a release's lease, so that
// an operation run inside another (upgrade --install) does not take it
// again.
type holding struct{ name string }

// begin starts operation op on release name: it takes the release's lease
// (failing at once with a *BusyError while another operation holds it) and
// recovers a revision a dead operation left pending (markStopped). end
// releases the lease. A dry run neither takes the lease nor recovers.
//
// While the operation holds the lease, the Client's writes pass the fence
// (lease.Fence); while it is unconfirmed (not renewed in time), they are
// refused; once it is lost (taken over), they are refused and the returned
// context is cancelled with the *LostError as its cause.
func (c *Client) begin(ctx context.Context, op Operation, name string, dryRun bool) (_ context.Context, end func(), _ error) {
	end = func() {}
	if dryRun || ctx.Value(holding{name}) != nil {
		return ctx, end, nil
	}
	if c.env == nil || c.env.Clientset == nil {
		c.log("no Kubernetes client for the lease of release %q: running without one", name)
		return ctx, end, nil
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return ctx, end, fmt.Errorf("release %q: %w", name, err)
	}
	l, prev, err := lease.Acquire(ctx, cs, c.namespace, name, op, c.log, c.note)
	if err != nil {
		return ctx, end, err
	}
	if l == nil { // leases forbidden: as before, without recovery
		return ctx, end, nil
	}
	// opCtx is cancelled when the lease is lost, and only then: not when
	// the operation ends, since Helm's upgrade leaves a goroutine that,
	// seeing its context done after the upgrade returned, marks the
	// revision it just deployed failed.
	opCtx, cancel := context.WithCancelCause(lease.WithLease(ctx, l))
	l.WhenLost(cancel)
	drop := c.fence.Hold(l)
	end = func() {
		drop()
		l.Release(ctx)
	}
	if err := c.markStopped(name, prev); err != nil {
		end()
		return ctx, func() {}, orLost(opCtx, err)
	}
	return context.WithValue(opCtx, holding{name}, true), end, nil
}
