package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/render"
)

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	ReleaseName string
	// WaitOptions: with Wait, Uninstall waits until the release's objects
	// (and, with DeleteData, its claims) are gone.
	WaitOptions
	// KeepHistory keeps the release records (helm uninstall --keep-history).
	KeepHistory bool
	// DeleteData deletes the release's claims (see Uninstalled) too, and
	// then its Secrets the data was initialised with (DataSecretLabel);
	// otherwise both are kept, whatever the StatefulSets' claim retention
	// policies and the objects' helm.sh/resource-policy say. It also
	// tells the pre-delete hooks of the claims of the release's bindings
	// to drop their databases with their users (render.DeleteDataEnv, set
	// on the hooks of this uninstall alone: nothing is stored).
	DeleteData bool
	// DryRun changes nothing: the result says what would be kept and
	// deleted.
	DryRun bool
	// Force uninstalls a release that other releases are bound to
	// (Consumers); refused otherwise.
	Force bool
	// NoHooks runs none of the release's hooks (helm uninstall
	// --no-hooks): a claim's pre-delete hook, which drops its user, among
	// them.
	NoHooks bool
	// Description is recorded as the uninstalled revision's description,
	// which KeepHistory keeps; empty means Helm's ("Uninstallation
	// complete") (--description).
	Description string
	// Cascade is how the API server deletes the objects' dependents
	// (--cascade): CascadeForeground (the default: an object goes once
	// its dependents are gone), CascadeBackground or CascadeOrphan (they
	// are left).
	Cascade string
	// WithWhole uninstalls the release as part of the whole it belongs to
	// (Guard), by an operation that holds the whole's lease: the guards
	// let it go (a blue-green app's live colour, refused on its own, goes
	// with the app).
	WithWhole bool
}

// The deletion propagations of UninstallOptions.Cascade, as Kubernetes
// and Helm name them.
const (
	CascadeForeground = "foreground"
	CascadeBackground = "background"
	CascadeOrphan     = "orphan"
)

// cascade is the deletion propagation Cascade names, foreground when
// empty.
func (opts UninstallOptions) cascade() string {
	if opts.Cascade == "" {
		return CascadeForeground
	}
	return opts.Cascade
}

// Uninstalled is what Uninstall did (or, with DryRun, would do).
type Uninstalled struct {
	*Release
	// Kept lists the release's claims left in the cluster with their
	// data: those its StatefulSets made from their volumeClaimTemplates
	// and those of its manifest. Empty with DeleteData.
	Kept []VolumeClaim
	// Deleted lists the claims deleted, with DeleteData.
	Deleted []VolumeClaim
	// KeptSecrets lists the release's Secrets its data was initialised
	// with (DataSecretLabel), left in the cluster with the claims. Empty
	// with DeleteData.
	KeptSecrets []DataSecret
	// DeletedSecrets lists those deleted, with DeleteData, once the
	// claims were.
	DeletedSecrets []DataSecret
	DryRun         bool
	// Colors, of a blue-green app's uninstall (pkg/bluegreen), are its
	// colours, uninstalled before its router (which holds the app's
	// claims).
	Colors []*Uninstalled
}

// Uninstall deletes every object of a release and its records. The
// release's claims (its data) and the Secrets its data was initialised
// with (DataSecretLabel) are kept unless DeleteData is set: they are found
// before anything is deleted, and listed in the result.
func (c *Client) Uninstall(ctx context.Context, opts UninstallOptions) (*Uninstalled, error) {
	switch opts.Cascade {
	case "", CascadeForeground, CascadeBackground:
	case CascadeOrphan:
		if opts.DeleteData {
			return nil, &errdefs.OptionError{Option: "Cascade", Value: opts.Cascade, Msg: "the claims DeleteData deletes would stay in use by the pods it leaves"}
		}
	default:
		return nil, &errdefs.OptionError{Option: "Cascade", Value: opts.Cascade, Msg: "give foreground, background or orphan"}
	}
	ctx, end, last, err := c.open(ctx, OpUninstall, opts.ReleaseName, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	if isGrant(last) {
		g := grantOf(last)
		if g == nil {
			if opts.DeleteData {
				return nil, errdefs.New(errdefs.ErrInvalid, "uninstalling %q: its grant record does not read: --delete-data is refused, since whose data it would drop cannot be told", opts.ReleaseName)
			}
		} else if err := c.checkRevoke(last, g, opts.DeleteData, opts.Force); err != nil {
			return nil, err
		}
	}
	if opts.DeleteData || !opts.Force {
		// Read once: who is bound, and whether all could be seen.
		cs, partial, err := c.links.findConsumers(ctx, opts.ReleaseName)
		if err != nil {
			return nil, err
		}
		if opts.DeleteData {
			b, _, _ := providerBundle(last)
			if err := checkDataUnbound(opts.ReleaseName, b, cs, partial); err != nil {
				return nil, err
			}
		}
		if !opts.Force {
			if err := checkNoConsumers(opts.ReleaseName, cs); err != nil {
				return nil, err
			}
		}
	}
	ctx, endGuard, err := c.guards.check(ctx, func(g Guard, ctx context.Context) (context.Context, func(), error) {
		return g.CheckUninstall(ctx, record(last), opts)
	})
	if err != nil {
		return nil, err
	}
	defer endGuard()
	if opts.Force && grantable(last) {
		// Without Force, grants (consumers) refused it above. With
		// Force, a provider's grants go first (their hooks drop
		// the users while its server is there): a grant left would
		// stand for a provider that is gone.
		if err := c.revokeAll(ctx, opts.ReleaseName, opts); err != nil {
			return nil, err
		}
	}
	if c.env == nil || c.env.Clientset == nil {
		return nil, fmt.Errorf("uninstalling %q: no Kubernetes client to find the release's claims with (Env.Clientset)", opts.ReleaseName)
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	found, sets, err := claims(ctx, cs, last)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	revs, err := recordsOf(c.cfg).History(opts.ReleaseName)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	secrets, err := dataSecrets(ctx, cs, last, revs)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	out := &Uninstalled{DryRun: opts.DryRun}
	if opts.DeleteData {
		out.Deleted, out.DeletedSecrets = found, secrets
	} else {
		out.Kept, out.KeptSecrets = found, secrets
	}
	// With Wait, the deletion is waited for by bundle's waiter (every
	// request bounded by the time left).
	wcfg, err := c.waitConfig(ctx, c.cfg, opts.WaitOptions)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	cfg := copyConfig(c.cfg)
	var waitErr error
	// The Secrets go last, with DeleteData after the claims.
	kc := keepingClaims{Interface: wcfg.KubeClient, keep: map[string]bool{}, keepSecrets: map[string]bool{}, deleteData: opts.DeleteData, waitErr: &waitErr}
	for _, s := range secrets {
		kc.keepSecrets[s.String()] = true
	}
	if !opts.DeleteData && !opts.DryRun {
		if err := retain(ctx, cs, sets, found); err != nil {
			return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
		}
		for _, cl := range found {
			kc.keep[cl.String()] = true
		}
	}
	cfg.KubeClient = kc
	un := action.NewUninstall(cfg)
	un.WaitStrategy, un.WaitOptions = waitFor(ctx, opts.Wait)
	un.Timeout = opts.timeout()
	un.KeepHistory = opts.KeepHistory
	un.DryRun = opts.DryRun
	un.DeletionPropagation = opts.cascade()
	un.Description = opts.Description
	un.DisableHooks = opts.NoHooks
	start := time.Now()
	res, err := un.Run(opts.ReleaseName)
	if err = orLost(ctx, err); err != nil {
		var lost *LostError
		if waitErr != nil && !errors.As(err, &lost) {
			return nil, uninstallWaitError(opts.ReleaseName, err, waitErr)
		}
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, render.HelmError(err))
	}
	rel, err := v1(res.Release)
	if err != nil {
		return nil, err
	}
	out.Release = summarize(rel)
	if opts.DeleteData && !opts.DryRun {
		left := opts.timeout() - time.Since(start)
		var w *waiter
		if wk, ok := wcfg.KubeClient.(waitingKube); ok {
			w = wk.w
		}
		if err := deleteClaims(ctx, cs, found, opts.Wait, w, left); err != nil {
			return nil, fmt.Errorf("uninstalled %q, but %w", opts.ReleaseName, err)
		}
		// After the claims: while one is left, so is what opens it.
		if err := deleteDataSecrets(ctx, cs, secrets); err != nil {
			return nil, fmt.Errorf("uninstalled %q, but %w", opts.ReleaseName, err)
		}
	}
	return out, nil
}

// uninstallWaitError is the error of an uninstall whose wait for the
// deletion failed (waitErr): Helm's (err) has it as a string, joined
// with the errors of what followed (purging the records).
func uninstallWaitError(name string, err, waitErr error) error {
	const prefix = "uninstallation completed with "
	msg := err.Error()
	i := strings.Index(msg, prefix)
	if i < 0 {
		return fmt.Errorf("uninstalling %q: %w", name, waitErr)
	}
	msg = msg[i+len(prefix):]
	if _, rest, ok := strings.Cut(msg, "error(s): "); ok {
		msg = rest
	}
	rest := strings.Trim(strings.Replace(msg, waitErr.Error(), "", 1), "; ")
	if rest == "" { // the records are gone: only the objects may be left
		return fmt.Errorf("uninstalled %q, but %w", name, waitErr)
	}
	return fmt.Errorf("uninstalling %q: %w; %s", name, waitErr, oneLine(errors.New(rest)))
}
