package cli

import (
	"fmt"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/repo"
)

// Helm's environment variables, as helm 4 reads them (pkg/cli's
// environment.go, and $HELM_DRIVER and $HELM_COLOR): each is either
// honoured as helm honours it, the flag winning over the variable, or,
// where bundle cannot do what helm would do with it, refused in one line
// naming the variable and the fix, and only where it would change what
// helm does (docs/helm-compat.md lists them all):
//
//   - $HELM_NAMESPACE, $HELM_KUBECONTEXT, $HELM_DEBUG: -n, --kube-context
//     and --debug when not given (kubeOptions.options);
//   - $HELM_MAX_HISTORY: upgrade's --history-max when not given;
//   - $HELM_REGISTRY_CONFIG: the registry credentials file, Docker's after
//     it (credentialStore);
//   - $HELM_COLOR: bundle diff's colours (useColor);
//   - $HELM_DRIVER: secret, or refused; helm's connection settings and
//     client rate limits: refused by every command that asks the cluster
//     (checkClusterEnv);
//   - the variables that point helm at its own repositories and caches:
//     refused by the commands that read bundle's (checkRepositoryEnv).
const (
	helmNamespaceEnv      = "HELM_NAMESPACE"
	helmKubeContextEnv    = "HELM_KUBECONTEXT"
	helmDebugEnv          = "HELM_DEBUG"
	helmMaxHistoryEnv     = "HELM_MAX_HISTORY"
	helmDriverEnv         = "HELM_DRIVER"
	helmRegistryConfigEnv = "HELM_REGISTRY_CONFIG"
	helmColorEnv          = "HELM_COLOR"
)

// envError is a refused environment variable: one line, exit 1.
type envError struct{ msg string }

func (e *envError) Error() string { return e.msg }

func envErrorf(format string, args ...any) error {
	return &envError{msg: fmt.Sprintf(format, args...)}
}

// helmKube applies $HELM_NAMESPACE and $HELM_KUBECONTEXT to opts where
// the flags left them empty. $HELM_NAMESPACE stands beside bundle's own
// $BUNDLE_NAMESPACE: both set to different namespaces (with no -n) is
// refused, as neither can be taken for the one meant.
func helmKube(getenv func(string) string, opts *release.KubeOptions) error {
	if opts.Context == "" {
		opts.Context = getenv(helmKubeContextEnv)
	}
	if opts.Namespace != "" {
		return nil
	}
	own, helm := getenv(release.NamespaceEnv), getenv(helmNamespaceEnv)
	switch {
	case helm == "" || own == helm:
	case own != "":
		return envErrorf("$%s (%q) and $%s (%q) name different namespaces: unset one, or give -n", release.NamespaceEnv, own, helmNamespaceEnv, helm)
	default:
		opts.Namespace = helm
	}
	return nil
}

// helmDebug reports whether $HELM_DEBUG turns --debug on: true as
// strconv.ParseBool reads it, as in helm (any other value is false).
func helmDebug(getenv func(string) string) bool {
	on, _ := strconv.ParseBool(getenv(helmDebugEnv))
	return on
}

// debugSet reports whether --debug was given on the command line (to
// bundle or to the command), and its value.
func debugSet(c *ucli.Context) (set, on bool) {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("debug") {
			set = true
			on = on || ctx.Bool("debug")
		}
	}
	return set, on
}

// helmMaxHistory is upgrade's --history-max from $HELM_MAX_HISTORY, as
// in helm; ok is false when it is not set. A value that is no number of
// revisions is refused: helm would keep its default, 10, which may
// delete revisions the user meant to keep.
func helmMaxHistory(getenv func(string) string) (max int, ok bool, err error) {
	v := getenv(helmMaxHistoryEnv)
	if v == "" {
		return 0, false, nil
	}
	n, perr := strconv.Atoi(v)
	if perr != nil || n < 0 {
		return 0, false, envErrorf("$%s %q: give a number of revisions, or 0 to keep all (helm would keep 10), or unset it", helmMaxHistoryEnv, v)
	}
	return n, true, nil
}

// kubeRefusal is a connection setting helm takes from the environment
// and bundle only from the kubeconfig.
type kubeRefusal struct {
	name string
	// effective reports whether the value changes what helm does.
	effective func(string) bool
	what, fix string
}

func nonEmpty(v string) bool { return v != "" }

// The kubeconfig's user and cluster hold each of these.
var kubeRefusals = []kubeRefusal{
	{"HELM_KUBETOKEN", nonEmpty, "gives a bearer token", "put it in the kubeconfig's user (kubectl config set-credentials USER --token TOKEN)"},
	{"HELM_KUBEASUSER", nonEmpty, "gives a user to impersonate", "set as: in the kubeconfig's user"},
	{"HELM_KUBEASGROUPS", func(v string) bool { return strings.Trim(v, ", ") != "" }, "gives groups to impersonate", "set as-groups: in the kubeconfig's user"},
	{"HELM_KUBEAPISERVER", nonEmpty, "gives the API server's address", "put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --server URL)"},
	{"HELM_KUBECAFILE", nonEmpty, "gives the API server's certificate authority", "put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --certificate-authority FILE)"},
	{"HELM_KUBEINSECURE_SKIP_TLS_VERIFY", func(v string) bool { on, _ := strconv.ParseBool(v); return on }, "skips verifying the API server's certificate", "put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --insecure-skip-tls-verify)"},
	{"HELM_KUBETLS_SERVER_NAME", nonEmpty, "gives the API server's TLS server name", "put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --tls-server-name NAME)"},
}

// Helm's client-side rate limits: each refused when helm would read a
// value other than its default (100 requests of burst, client-go's QPS).
var rateRefusals = []kubeRefusal{
	{name: "HELM_BURST_LIMIT", effective: func(v string) bool { n, err := strconv.Atoi(v); return err == nil && n != 100 }},
	{name: "HELM_QPS", effective: func(v string) bool { f, err := strconv.ParseFloat(v, 32); return err == nil && f != 0 }},
}

// checkClusterEnv refuses, before the cluster is asked, what helm would
// take from the environment to connect, and bundle takes only from the
// kubeconfig, its client rate limits, and a storage driver other than
// Secrets. The values are not printed: one is a token.
func checkClusterEnv(getenv func(string) string) error {
	for _, r := range kubeRefusals {
		if r.effective(getenv(r.name)) {
			return envErrorf("$%s %s, which bundle takes from the kubeconfig only: %s, then unset %s", r.name, r.what, r.fix, r.name)
		}
	}
	for _, r := range rateRefusals {
		if r.effective(getenv(r.name)) {
			return envErrorf("$%s sets Helm's client-side rate limits, which bundle does not take (it keeps client-go's): unset %s", r.name, r.name)
		}
	}
	switch d := getenv(helmDriverEnv); d {
	case "", "secret", "secrets":
	default:
		return envErrorf("$%s is %q: bundle reads and stores releases in Secrets only, as helm does by default: unset %s, or set it to secret", helmDriverEnv, d, helmDriverEnv)
	}
	return nil
}

// repositoryRefusals are the variables that point helm at its own
// repositories file and caches, by bundle's own variable for the same.
var repositoryRefusals = []struct{ name, what, own string }{
	{"HELM_REPOSITORY_CONFIG", "Helm's repositories file", "BUNDLE_CONFIG_HOME"},
	{"HELM_CONFIG_HOME", "Helm's configuration directory", "BUNDLE_CONFIG_HOME"},
	{"HELM_REPOSITORY_CACHE", "Helm's repository cache", "BUNDLE_CACHE_HOME"},
	{"HELM_CACHE_HOME", "Helm's cache directory", "BUNDLE_CACHE_HOME"},
	{"HELM_CONTENT_CACHE", "Helm's content cache", "BUNDLE_CACHE_HOME"},
}

// checkRepositoryEnv refuses, where bundle reads its repositories, a
// variable that would make helm read other repositories (or their cached
// indexes) than bundle's, unless bundle's own variable says where
// bundle's are.
func checkRepositoryEnv(getenv func(string) string) error {
	for _, r := range repositoryRefusals {
		if getenv(r.name) == "" || getenv(r.own) != "" {
			continue
		}
		kept := "bundle repo add keeps bundle's in $BUNDLE_CONFIG_HOME/repositories.yaml"
		if r.own == "BUNDLE_CACHE_HOME" {
			kept = "bundle keeps its indexes in $BUNDLE_CACHE_HOME"
		}
		return envErrorf("$%s names %s, which bundle does not read (%s): unset %s, or set %s", r.name, r.what, kept, r.name, r.own)
	}
	return nil
}

// credentialStore is where registry credentials are looked up and
// stored (bundle login): the file $HELM_REGISTRY_CONFIG names, then
// Docker's, as helm does when it is set; else Docker's.
func credentialStore(c *ucli.Context) (credentials.Store, error) {
	path := getenv(c)(helmRegistryConfigEnv)
	if path == "" {
		return repo.DockerCredentials()
	}
	store, err := repo.FileCredentials(path)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", helmRegistryConfigEnv, err)
	}
	return store, nil
}
