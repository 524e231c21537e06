package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/userfile"
)

// NamespaceEnv names the environment variable that gives the namespace
// when --namespace is not given, as HELM_NAMESPACE does for helm.
const NamespaceEnv = "BUNDLE_NAMESPACE"

// ResolveNamespace returns the namespace to work in, chosen as helm chooses
// it: Namespace (--namespace) when given, else $BUNDLE_NAMESPACE, else the
// namespace of the kubeconfig context (--kube-context, else the current
// one), else "default". It reads the kubeconfig but never contacts the
// cluster, so bundle template uses it too. As in Helm, a kubeconfig that
// is missing or cannot be read counts as one without a namespace.
func (o KubeOptions) ResolveNamespace() string {
	if o.Namespace != "" {
		return o.Namespace
	}
	if ns := o.getenv(NamespaceEnv); ns != "" {
		return ns
	}
	if o.CheckFiles() != nil {
		return "default" // unreadable
	}
	cfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(o.loadingRules(), &clientcmd.ConfigOverrides{CurrentContext: o.Context})
	if ns, _, err := cfg.Namespace(); err == nil && ns != "" {
		return ns
	}
	return "default"
}

func (o KubeOptions) getenv(key string) string {
	if o.Getenv != nil {
		return o.Getenv(key)
	}
	return os.Getenv(key)
}

// MaxKubeconfigSize bounds a kubeconfig file: client-go reads each whole.
const MaxKubeconfigSize = 16 << 20

// CheckFiles refuses, with a *userfile.Error, a kubeconfig file (the one
// Kubeconfig names, else those of $KUBECONFIG, else ~/.kube/config) that
// is not a regular file or is larger than MaxKubeconfigSize, before
// client-go reads it: it would wait for ever on a named pipe and read
// /dev/zero until memory runs out. Files that do not exist are left to
// client-go.
func (o KubeOptions) CheckFiles() error {
	rules := o.loadingRules()
	files := rules.Precedence
	if rules.ExplicitPath != "" {
		files = []string{rules.ExplicitPath}
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		switch {
		case err != nil:
		case !fi.Mode().IsRegular():
			return &userfile.Error{What: "kubeconfig", Path: f, Mode: fi.Mode()}
		case fi.Size() > MaxKubeconfigSize:
			return &userfile.Error{What: "kubeconfig", Path: f, Limit: MaxKubeconfigSize}
		}
	}
	return nil
}

// loadingRules finds the kubeconfig as kubectl does: Kubeconfig, else the
// files in $KUBECONFIG, else ~/.kube/config; with Getenv set, $KUBECONFIG
// and $HOME are read through it.
func (o KubeOptions) loadingRules() *clientcmd.ClientConfigLoadingRules {
	if o.Getenv == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Kubeconfig
		return rules
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: o.Kubeconfig}
	if kc := o.getenv(clientcmd.RecommendedConfigPathEnvVar); kc != "" {
		rules.Precedence = filepath.SplitList(kc)
	} else if home := o.getenv("HOME"); home != "" {
		rules.Precedence = []string{filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
	}
	return rules
}

// installNamespace creates the client's namespace for an install of
// release name with --create-namespace when it does not exist, before the
// install takes the release's lease, which lives in the namespace (else
// there would be none to take). It creates the object Helm's install
// creates (labelled name: NAMESPACE) as Helm's install does, through the
// operation's kube client, so the namespace is what it was before;
// Helm's install, which creates it again, finds it there. A namespace
// that exists, or that the user may not read, is left to Helm's install
// as before. A blue-green app's first upgrade creates it so too.
func (c *Client) installNamespace(ctx context.Context, name string) error {
	if c.env == nil || c.env.Clientset == nil {
		return nil
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, c.namespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return nil // there, or not ours to read: Helm's install creates it or says why not
	}
	ns := &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: c.namespace, Labels: map[string]string{"name": c.namespace}},
	}
	buf, err := yaml.Marshal(ns)
	if err != nil {
		return err
	}
	kc := c.applying(ctx, c.cfg.KubeClient, name, applyOptions{})
	rl, err := kc.Build(bytes.NewBuffer(buf), false) // bundle's own Namespace: nothing to validate
	if err != nil {
		return fmt.Errorf("namespace %q: %w", c.namespace, err)
	}
	if _, err := kc.Create(rl); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %q: %w", c.namespace, err)
	}
	return nil
}
