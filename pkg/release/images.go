package release

import (
	"bytes"

	"helm.sh/helm/v4/pkg/action"
	postrender "helm.sh/helm/v4/pkg/postrenderer"
	hrelease "helm.sh/helm/v4/pkg/release"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release/internal/helmsdk"
	"github.com/bundlesh/bundle/pkg/render"
)

// postRenderer is what Helm pipes the manifests through: the user's
// post-renderer, then, with --locked, the images pinned to the lock's
// digests (after, so that what is applied is pinned whatever the
// post-renderer wrote). Helm 3 does not post-render hooks: pinHooks pins
// theirs.
func postRenderer(p *plan.Plan, user render.PostRenderer) postrender.PostRenderer {
	pins, pin := render.Pins(p)
	switch {
	case !pin && user.Path == "":
		return nil
	case !pin:
		return user
	case user.Path == "":
		return pins
	}
	return chain{user, pins}
}

// withPost is pr, then extra; either may be nil.
func withPost(pr postrender.PostRenderer, extra Reshape) postrender.PostRenderer {
	switch {
	case extra == nil:
		return pr
	case pr == nil:
		return extra
	}
	return chain{pr, extra}
}

// chain runs post-renderers one after the other.
type chain []postrender.PostRenderer

func (c chain) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	for _, pr := range c {
		out, err := pr.Run(in)
		if err != nil {
			return nil, err
		}
		in = out
	}
	return in, nil
}

// pinHooks returns cfg with, for a plan resolved with its lock, the images
// of the hooks pinned to the lock's digests in the pending revision when
// Helm stores it: before any hook runs, so that the hooks run, and the
// revision records, the images by digest. An image the lock does not hold
// fails the operation there, before anything of the release is applied.
func pinHooks(cfg *action.Configuration, p *plan.Plan) *action.Configuration {
	pins, ok := render.Pins(p)
	if !ok {
		return cfg
	}
	return helmsdk.WithDriver(cfg, func(d driver.Driver) driver.Driver {
		return &pinDriver{Driver: d, pins: pins}
	})
}

// pinRelease pins the images of a revision's hooks.
func pinRelease(rel *helmrelease.Release, pins render.ImagePins) error {
	for _, h := range rel.Hooks {
		m, err := pins.PinDocument(h.Manifest)
		if err != nil {
			return err
		}
		h.Manifest = m
	}
	return nil
}

// pinDriver pins the hooks of each pending revision stored.
type pinDriver struct {
	driver.Driver
	pins render.ImagePins
}

func (d *pinDriver) Create(key string, r hrelease.Releaser) error {
	rls, err := v1(r)
	if err != nil {
		return err
	}
	if rls != nil && rls.Info != nil && rls.Info.Status.IsPending() {
		if err := pinRelease(rls, d.pins); err != nil {
			return err
		}
	}
	return d.Driver.Create(key, rls)
}

// pinDryRun pins the hooks of a dry run's revision, which Helm does not
// store.
func pinDryRun(rel *helmrelease.Release, p *plan.Plan) error {
	if pins, ok := render.Pins(p); ok {
		return pinRelease(rel, pins)
	}
	return nil
}
