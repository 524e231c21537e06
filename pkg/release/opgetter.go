package release

// The kube client of one operation: Helm's, over a RESTClientGetter that
// makes the REST config, the discovery client and the REST mapper once
// for the operation instead of once for every object.

import (
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// opGetter is the RESTClientGetter of one install, upgrade or rollback:
// the Client's, but for the REST config, the discovery client and the
// REST mapper, each made once. cli-runtime's Builder (Helm's Build) asks
// its getter for a REST mapper and a REST config for every object it
// reads, and the Client's (genericclioptions.ConfigFlags, not persistent)
// makes each anew: a discovery client that reads and decodes every
// group's resources from the disk cache again, the kubeconfig read again.
// For a release of 600 objects that was 600 times per Build, and an
// operation builds its manifests 3 to 4 times: seconds of CPU.
//
// The operation's mapper knows the kinds served when it first maps one:
// Helm resets it (ToDiscoveryClient().Invalidate(), ToRESTMapper().Reset())
// once it has created the CRDs of crds/, and a kind it does not find makes
// it read the discovery again while that came from the disk cache
// (restmapper.DeferredDiscoveryRESTMapper). The next operation starts
// with a new one.
type opGetter struct {
	genericclioptions.RESTClientGetter
	config    func() (*rest.Config, error)
	discovery func() (discovery.CachedDiscoveryInterface, error)
	mapper    func() (meta.RESTMapper, error)
}

func newOpGetter(g genericclioptions.RESTClientGetter) *opGetter {
	o := &opGetter{RESTClientGetter: g}
	o.config = sync.OnceValues(g.ToRESTConfig)
	o.discovery = sync.OnceValues(g.ToDiscoveryClient)
	o.mapper = sync.OnceValues(func() (meta.RESTMapper, error) {
		dc, err := o.discovery()
		if err != nil {
			return nil, err
		}
		// As genericclioptions.ConfigFlags makes it.
		return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
	})
	return o
}

// ToRESTConfig returns a copy of the operation's REST config: its users
// set their defaults in it.
func (o *opGetter) ToRESTConfig() (*rest.Config, error) {
	rc, err := o.config()
	if err != nil {
		return nil, err
	}
	return rest.CopyConfig(rc), nil
}

// ToDiscoveryClient returns the operation's discovery client.
func (o *opGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return o.discovery()
}

// ToRESTMapper returns the operation's REST mapper.
func (o *opGetter) ToRESTMapper() (meta.RESTMapper, error) { return o.mapper() }

// reading returns Helm's kube client for one read of the cluster (a
// status, a diff, a drift): it reads the kubeconfig and the discovery once
// for all the objects it builds (operationKube).
func (c *Client) reading() kube.Interface { return operationKube(copyConfig(c.cfg)) }

// operationKube makes cfg, a copy of the Client's configuration for one
// operation, read the cluster through an opGetter, and returns its kube
// client: Helm's over it. A configuration without Helm's kube client (the
// fake clients of tests) is left as it is.
func operationKube(cfg *action.Configuration) kube.Interface {
	hc, ok := cfg.KubeClient.(*kube.Client)
	base, full := cfg.RESTClientGetter.(genericclioptions.RESTClientGetter)
	if !ok || !full {
		return cfg.KubeClient
	}
	g := newOpGetter(base)
	op := kube.New(g)
	op.Namespace = hc.Namespace
	op.SetLogger(hc.Logger().Handler())
	cfg.RESTClientGetter, cfg.KubeClient = g, op
	return op
}
