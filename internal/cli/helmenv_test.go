package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/internal/testutil"
)

// envCase is a command run with Helm's environment variables: it exits
// with code; want is in its stdout (exit 0) or is its one line of stderr
// (else), whole.
type envCase struct {
	name string
	env  map[string]string
	args []string
	code int
	want string
}

func runEnvCases(t *testing.T, tests []envCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runWithEnv(t, tt.env, "", tt.args...)
			switch {
			case code != tt.code:
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errs)
			case tt.code == 0 && !strings.Contains(out, tt.want):
				t.Errorf("stdout lacks %q:\n%s%s", tt.want, out, errs)
			case tt.code != 0 && errs != tt.want+"\n":
				t.Errorf("stderr\n got %q\nwant %q", errs, tt.want+"\n")
			}
		})
	}
}

// withContext writes a copy of kubeconfig with a second context, other,
// of namespace elsewhere, on a cluster that does not answer.
func withContext(t *testing.T, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clusters["down"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1", InsecureSkipTLSVerify: true}
	cfg.Contexts["other"] = &clientcmdapi.Context{Cluster: "down", AuthInfo: "u", Namespace: "elsewhere"}
	out := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// $HELM_NAMESPACE and $HELM_KUBECONTEXT choose the namespace as in helm:
// the flag, else the variable, else the context's namespace; bundle's own
// $BUNDLE_NAMESPACE agrees with $HELM_NAMESPACE or the command is refused.
func TestHelmNamespaceAndContext(t *testing.T) {
	app := testutil.Chart{Name: "ns", Templates: map[string]string{"cm.yaml": testutil.Object("v1", "ConfigMap", "ns", "data:\n  ns: {{ .Release.Namespace }}\n")}}.Write(t, t.TempDir())
	kc := withContext(t, releasetest.APIServer(t, "team"))
	tmpl := []string{"template", app}
	runEnvCases(t, []envCase{
		{"context's", map[string]string{"KUBECONFIG": kc}, tmpl, 0, "ns: team\n"},
		{"HELM_NAMESPACE", map[string]string{"KUBECONFIG": kc, "HELM_NAMESPACE": "web"}, tmpl, 0, "ns: web\n"},
		{"-n wins", map[string]string{"KUBECONFIG": kc, "HELM_NAMESPACE": "web"}, append(tmpl, "-n", "flag"), 0, "ns: flag\n"},
		{"both agree", map[string]string{"BUNDLE_NAMESPACE": "web", "HELM_NAMESPACE": "web"}, tmpl, 0, "ns: web\n"},
		{"both differ", map[string]string{"BUNDLE_NAMESPACE": "web", "HELM_NAMESPACE": "other"}, tmpl, ExitError,
			`Error: $BUNDLE_NAMESPACE ("web") and $HELM_NAMESPACE ("other") name different namespaces: unset one, or give -n`},
		{"both differ, -n", map[string]string{"BUNDLE_NAMESPACE": "web", "HELM_NAMESPACE": "other"}, append(tmpl, "-n", "flag"), 0, "ns: flag\n"},
		{"HELM_KUBECONTEXT", map[string]string{"KUBECONFIG": kc, "HELM_KUBECONTEXT": "other"}, tmpl, 0, "ns: elsewhere\n"},
		{"--kube-context wins", map[string]string{"KUBECONFIG": kc, "HELM_KUBECONTEXT": "other"}, append(tmpl, "--kube-context", "c"), 0, "ns: team\n"},
		{"HELM_NAMESPACE over the context's", map[string]string{"KUBECONFIG": kc, "HELM_KUBECONTEXT": "other", "HELM_NAMESPACE": "web"}, tmpl, 0, "ns: web\n"},
	})
}

// Against a cluster: $HELM_KUBECONTEXT and $HELM_NAMESPACE say where the
// command acts; what bundle cannot honour (credentials, the API server,
// TLS settings, client rate limits, another storage driver) is refused
// in one line before the cluster is asked, and only when it would change
// what helm does.
func TestHelmClusterVariables(t *testing.T) {
	kc := withContext(t, releasetest.APIServer(t, "team", releasetest.Release("wiki", "team", 1, rcommon.StatusDeployed, "mediawiki", "1.2.0", "1.43.1")))
	// --kubeconfig: the connection reads $KUBECONFIG from the process.
	list := []string{"list", "-q", "--kubeconfig", kc}
	with := func(k, v string) map[string]string { return map[string]string{k: v} }
	// A context whose namespace the server does not serve.
	elsewhere := withContext(t, kc)
	cfg, err := clientcmd.LoadFromFile(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts["c"].Namespace = "default"
	if err := clientcmd.WriteToFile(*cfg, elsewhere); err != nil {
		t.Fatal(err)
	}
	unreachable := "Error: cannot reach the cluster at https://127.0.0.1:1:"
	tests := []envCase{
		{"current context", with("HELM_DEBUG", ""), list, 0, "wiki\n"},
		{"HELM_NAMESPACE", with("HELM_NAMESPACE", "team"), []string{"list", "-q", "--kubeconfig", elsewhere}, 0, "wiki\n"},
		{"--kube-context wins", with("HELM_KUBECONTEXT", "other"), append(slices.Clip(list), "--kube-context", "c"), 0, "wiki\n"},
		{"HELM_KUBEINSECURE_SKIP_TLS_VERIFY=false", with("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "false"), list, 0, "wiki\n"},
		{"HELM_BURST_LIMIT=100, helm's default", with("HELM_BURST_LIMIT", "100"), list, 0, "wiki\n"},
		{"HELM_QPS=0, helm's default", with("HELM_QPS", "0"), list, 0, "wiki\n"},
		{"HELM_DRIVER=secret", with("HELM_DRIVER", "secret"), list, 0, "wiki\n"},
		{"HELM_DRIVER=secrets", with("HELM_DRIVER", "secrets"), list, 0, "wiki\n"},
		{"HELM_KUBETOKEN", with("HELM_KUBETOKEN", "s3cret-token"), list, ExitError,
			"Error: $HELM_KUBETOKEN gives a bearer token, which bundle takes from the kubeconfig only: put it in the kubeconfig's user (kubectl config set-credentials USER --token TOKEN), then unset HELM_KUBETOKEN"},
		{"HELM_KUBEASUSER", with("HELM_KUBEASUSER", "alice"), list, ExitError,
			"Error: $HELM_KUBEASUSER gives a user to impersonate, which bundle takes from the kubeconfig only: set as: in the kubeconfig's user, then unset HELM_KUBEASUSER"},
		{"HELM_KUBEASGROUPS", with("HELM_KUBEASGROUPS", "admins,ops"), list, ExitError,
			"Error: $HELM_KUBEASGROUPS gives groups to impersonate, which bundle takes from the kubeconfig only: set as-groups: in the kubeconfig's user, then unset HELM_KUBEASGROUPS"},
		{"HELM_KUBEASGROUPS of commas only", with("HELM_KUBEASGROUPS", " , "), list, 0, "wiki\n"},
		{"HELM_KUBEAPISERVER", with("HELM_KUBEAPISERVER", "https://10.0.0.1:6443"), list, ExitError,
			"Error: $HELM_KUBEAPISERVER gives the API server's address, which bundle takes from the kubeconfig only: put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --server URL), then unset HELM_KUBEAPISERVER"},
		{"HELM_KUBECAFILE", with("HELM_KUBECAFILE", "/etc/ca.pem"), list, ExitError,
			"Error: $HELM_KUBECAFILE gives the API server's certificate authority, which bundle takes from the kubeconfig only: put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --certificate-authority FILE), then unset HELM_KUBECAFILE"},
		{"HELM_KUBEINSECURE_SKIP_TLS_VERIFY", with("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "true"), list, ExitError,
			"Error: $HELM_KUBEINSECURE_SKIP_TLS_VERIFY skips verifying the API server's certificate, which bundle takes from the kubeconfig only: put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --insecure-skip-tls-verify), then unset HELM_KUBEINSECURE_SKIP_TLS_VERIFY"},
		{"HELM_KUBETLS_SERVER_NAME", with("HELM_KUBETLS_SERVER_NAME", "api.internal"), list, ExitError,
			"Error: $HELM_KUBETLS_SERVER_NAME gives the API server's TLS server name, which bundle takes from the kubeconfig only: put it in the kubeconfig's cluster (kubectl config set-cluster CLUSTER --tls-server-name NAME), then unset HELM_KUBETLS_SERVER_NAME"},
		{"HELM_BURST_LIMIT", with("HELM_BURST_LIMIT", "300"), list, ExitError,
			"Error: $HELM_BURST_LIMIT sets Helm's client-side rate limits, which bundle does not take (it keeps client-go's): unset HELM_BURST_LIMIT"},
		{"HELM_QPS", with("HELM_QPS", "50"), list, ExitError,
			"Error: $HELM_QPS sets Helm's client-side rate limits, which bundle does not take (it keeps client-go's): unset HELM_QPS"},
		{"HELM_DRIVER=configmap", with("HELM_DRIVER", "configmap"), list, ExitError,
			`Error: $HELM_DRIVER is "configmap": bundle reads and stores releases in Secrets only, as helm does by default: unset HELM_DRIVER, or set it to secret`},
		{"HELM_DRIVER=sql", with("HELM_DRIVER", "sql"), list, ExitError,
			`Error: $HELM_DRIVER is "sql": bundle reads and stores releases in Secrets only, as helm does by default: unset HELM_DRIVER, or set it to secret`},
		// Refused before the cluster is asked: the context does not answer.
		{"refused before connecting", map[string]string{"HELM_KUBECONTEXT": "other", "HELM_DRIVER": "memory"}, []string{"status", "wiki", "--kubeconfig", kc}, ExitError,
			`Error: $HELM_DRIVER is "memory": bundle reads and stores releases in Secrets only, as helm does by default: unset HELM_DRIVER, or set it to secret`},
		// bundle template asks no cluster: they change nothing there.
		{"template", map[string]string{"HELM_KUBETOKEN": "x", "HELM_DRIVER": "sql", "HELM_QPS": "9"}, []string{"template", "stable/mariadb"}, 0, "kind: StatefulSet"},
	}
	for _, tt := range tests {
		if strings.Contains(tt.want, "s3cret-token") {
			t.Fatalf("%s: a token must never be printed", tt.name)
		}
	}
	runEnvCases(t, tests)
	// $HELM_KUBECONTEXT is the context connected to: other does not answer.
	code, _, errs := runWithEnv(t, with("HELM_KUBECONTEXT", "other"), "", list...)
	if code != ExitError || !strings.HasPrefix(errs, unreachable) {
		t.Errorf("HELM_KUBECONTEXT=other: exit %d %q", code, errs)
	}
}

// $HELM_DEBUG turns --debug on, as in helm; --debug=false wins; a value
// helm does not read as true leaves it off, as in helm.
func TestHelmDebug(t *testing.T) {
	kc := releasetest.APIServer(t, "team")
	for _, tt := range []struct {
		env   string
		args  []string
		debug bool
	}{
		{"true", nil, true},
		{"1", nil, true},
		{"false", nil, false},
		{"yes", nil, false},
		{"true", []string{"--debug=false"}, false},
		{"", []string{"--debug"}, true},
	} {
		t.Run(tt.env+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := runWithEnv(t, map[string]string{"HELM_DEBUG": tt.env}, "", append([]string{"list", "--kubeconfig", kc}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := strings.Contains(errs, "debug: -> GET "); got != tt.debug {
				t.Errorf("debug %v, want %v: %q", got, tt.debug, errs)
			}
		})
	}
}

// $HELM_MAX_HISTORY is upgrade's and rollback's --history-max when the
// flag is not given, as in helm; a value that is no number of revisions
// is refused (helm would keep 10 instead).
func TestHelmMaxHistory(t *testing.T) {
	for _, cmd := range [][]string{{"upgrade", "wiki", "stable/mediawiki"}, {"rollback", "wiki", "1"}} {
		t.Run(cmd[0], func(t *testing.T) { testHelmMaxHistory(t, cmd) })
	}
}

// testHelmMaxHistory is TestHelmMaxHistory of the command line cmd, which
// makes revision 3 of the fixture's wiki.
func testHelmMaxHistory(t *testing.T, cmd []string) {
	for _, tt := range []struct {
		env  string
		args []string
		code int
		want string // revisions kept, or the error
	}{
		{"1", nil, 0, "2 3"}, // helm never prunes the deployed revision
		{"2", nil, 0, "2 3"},
		{"0", nil, 0, "1 2 3"},
		{"1", []string{"--history-max", "0"}, 0, "1 2 3"},
		{"", nil, 0, "1 2 3"},
		{"lots", nil, ExitError, `Error: $HELM_MAX_HISTORY "lots": give a number of revisions, or 0 to keep all (helm would keep 10), or unset it`},
		{"-1", nil, ExitError, `Error: $HELM_MAX_HISTORY "-1": give a number of revisions, or 0 to keep all (helm would keep 10), or unset it`},
	} {
		t.Run(tt.env+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			f := fixture(t)
			code, _, errs := runFixture(t, f, map[string]string{"HELM_MAX_HISTORY": tt.env}, append(slices.Clone(cmd), tt.args...)...)
			if code != tt.code || (code != 0 && errs != tt.want+"\n") {
				t.Fatalf("exit %d %q, want %d %q", code, errs, tt.code, tt.want)
			}
			if code != 0 {
				return
			}
			hist, err := releasetest.RecordsOf(f.Config()).History("wiki")
			if err != nil {
				t.Fatal(err)
			}
			var revs []int
			for _, r := range hist {
				revs = append(revs, r.Version)
			}
			slices.Sort(revs)
			if strings.Trim(fmt.Sprint(revs), "[]") != tt.want {
				t.Errorf("revisions kept: %v, want %s", revs, tt.want)
			}
		})
	}
}

// The variables that point helm at its own repositories and caches are
// refused where bundle reads its repositories, unless bundle's own
// variable says where bundle's are; commands that read no repository
// (list) go on.
func TestHelmRepositoryVariables(t *testing.T) {
	own := t.TempDir()
	none := map[string]string{"BUNDLE_CONFIG_HOME": "", "BUNDLE_CACHE_HOME": ""}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			m[bk] = bv
		}
		return m
	}
	runEnvCases(t, []envCase{
		{"HELM_REPOSITORY_CONFIG", with(none, "HELM_REPOSITORY_CONFIG", "/h/repositories.yaml"), []string{"search", "wiki"}, ExitError,
			"Error: $HELM_REPOSITORY_CONFIG names Helm's repositories file, which bundle does not read (bundle repo add keeps bundle's in $BUNDLE_CONFIG_HOME/repositories.yaml): unset HELM_REPOSITORY_CONFIG, or set BUNDLE_CONFIG_HOME"},
		{"HELM_CONFIG_HOME", with(none, "HELM_CONFIG_HOME", "/h"), []string{"repo", "list"}, ExitError,
			"Error: $HELM_CONFIG_HOME names Helm's configuration directory, which bundle does not read (bundle repo add keeps bundle's in $BUNDLE_CONFIG_HOME/repositories.yaml): unset HELM_CONFIG_HOME, or set BUNDLE_CONFIG_HOME"},
		{"HELM_REPOSITORY_CACHE", with(none, "HELM_REPOSITORY_CACHE", "/h/cache"), []string{"template", "stable/mariadb"}, ExitError,
			"Error: $HELM_REPOSITORY_CACHE names Helm's repository cache, which bundle does not read (bundle keeps its indexes in $BUNDLE_CACHE_HOME): unset HELM_REPOSITORY_CACHE, or set BUNDLE_CACHE_HOME"},
		{"HELM_CACHE_HOME", with(none, "HELM_CACHE_HOME", "/h/cache"), []string{"pull", "stable/mariadb", "-d", t.TempDir()}, ExitError,
			"Error: $HELM_CACHE_HOME names Helm's cache directory, which bundle does not read (bundle keeps its indexes in $BUNDLE_CACHE_HOME): unset HELM_CACHE_HOME, or set BUNDLE_CACHE_HOME"},
		{"HELM_CONTENT_CACHE", with(none, "HELM_CONTENT_CACHE", "/h/content"), []string{"show", "chart", "stable/mariadb"}, ExitError,
			"Error: $HELM_CONTENT_CACHE names Helm's content cache, which bundle does not read (bundle keeps its indexes in $BUNDLE_CACHE_HOME): unset HELM_CONTENT_CACHE, or set BUNDLE_CACHE_HOME"},
		{"with BUNDLE_CONFIG_HOME", map[string]string{"HELM_REPOSITORY_CONFIG": "/h/repositories.yaml", "HELM_CONFIG_HOME": "/h", "BUNDLE_CONFIG_HOME": own}, []string{"search", "wiki"}, 0, "stable/mediawiki"},
		{"with BUNDLE_CACHE_HOME", map[string]string{"HELM_REPOSITORY_CACHE": "/h/c", "HELM_CACHE_HOME": "/h/c", "HELM_CONTENT_CACHE": "/h/c", "BUNDLE_CACHE_HOME": own}, []string{"template", "stable/mariadb"}, 0, "kind: StatefulSet"},
	})
	f := fixture(t)
	if code, out, errs := runFixture(t, f, with(none, "HELM_REPOSITORY_CONFIG", "/h/repositories.yaml"), "list", "-q"); code != 0 || out != "blog\nwiki\n" {
		t.Errorf("list reads no repository: exit %d %q %q", code, out, errs)
	}
}

// $HELM_REGISTRY_CONFIG is read as helm reads it: the credentials file
// looked up first, Docker's after it; bundle login stores there. A file
// that is not a regular one is refused at once.
func TestHelmRegistryConfig(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // Docker's: empty
	host := testregistry.StartWithLogin(t, "alice", "s3cret-pass")
	dest := "oci://" + host + "/bundles"
	creds := filepath.Join(t.TempDir(), "registry", "config.json")
	env := map[string]string{"HELM_REGISTRY_CONFIG": creds}
	code, out, errs := runWithEnv(t, env, "s3cret-pass\n", "login", host, "-u", "alice", "--password-stdin", "--plain-http")
	if code != 0 || !strings.Contains(out, "logged in to "+host) {
		t.Fatalf("login: %d %q %q", code, out, errs)
	}
	if data, err := os.ReadFile(creds); err != nil || !strings.Contains(string(data), host) {
		t.Fatalf("$HELM_REGISTRY_CONFIG after login: %v %s", err, data)
	}
	if docker, _ := os.ReadFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json")); strings.Contains(string(docker), host) {
		t.Errorf("login stored in Docker's file too: %s", docker)
	}
	runEnvCases(t, []envCase{
		{"push with it", env, []string{"push", "../../pkg/render/testdata/catalog/leaf", dest, "--plain-http"}, 0, "pushed " + dest + "/leaf:"},
		{"pull with it", env, []string{"pull", dest + "/leaf", "-d", t.TempDir(), "--plain-http"}, 0, "leaf-"},
	})
	code, _, errs = runWithEnv(t, nil, "", "pull", dest+"/leaf", "-d", t.TempDir(), "--plain-http")
	if code != ExitError || !strings.Contains(errs, "run bundle login "+host) {
		t.Errorf("pull without $HELM_REGISTRY_CONFIG: exit %d %q", code, errs)
	}
	dir := t.TempDir()
	code, _, errs = runWithEnv(t, map[string]string{"HELM_REGISTRY_CONFIG": dir}, "", "pull", dest+"/leaf", "-d", t.TempDir(), "--plain-http")
	if want := "Error: $HELM_REGISTRY_CONFIG: registry config " + dir + ": not a regular file (a directory)\n"; code != ExitError || errs != want {
		t.Errorf("a directory: exit %d %q, want %q", code, errs, want)
	}
	code, out, errs = runWithEnv(t, env, "", "logout", host)
	if data, _ := os.ReadFile(creds); code != 0 || strings.Contains(string(data), host) {
		t.Errorf("logout: exit %d %q %q; file: %s", code, out, errs, data)
	}
}

// $HELM_COLOR says whether bundle diff colours its output, as in helm 4:
// never, always, or auto (on a terminal); $NO_COLOR wins.
func TestHelmColor(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false}, // not a terminal
		{map[string]string{"HELM_COLOR": "always"}, true},
		{map[string]string{"HELM_COLOR": "never"}, false},
		{map[string]string{"HELM_COLOR": "auto"}, false},
		{map[string]string{"HELM_COLOR": "always", "NO_COLOR": "1"}, false},
		{map[string]string{"HELM_COLOR": "always", "TERM": "dumb"}, true},
	} {
		app := newApp(nil, &bytes.Buffer{}, &bytes.Buffer{})
		app.Metadata = map[string]any{getenvKey: testGetenv(tt.env)}
		if got := useColor(ucli.NewContext(app, nil, nil)); got != tt.want {
			t.Errorf("%v: colour %v, want %v", tt.env, got, tt.want)
		}
	}
}

// runFixture is runWith with env as the environment (testGetenv).
func runFixture(t *testing.T, f *releasetest.Fixture, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := newApp(strings.NewReader(""), &out, &errb)
	app.Metadata = fixtureMetadata(f, env)
	code = runApp(context.Background(), app, append([]string{"bundle"}, args...))
	return code, out.String(), errb.String()
}

// bundle --help names every variable bundle reads of Helm's.
func TestHelpNamesHelmVariables(t *testing.T) {
	_, out, _ := run(t, "--help")
	_, env, ok := strings.Cut(out, "\nENVIRONMENT:\n")
	if !ok {
		t.Fatalf("no ENVIRONMENT section:\n%s", out)
	}
	for _, v := range []string{helmNamespaceEnv, helmKubeContextEnv, helmDebugEnv, helmMaxHistoryEnv, helmRegistryConfigEnv, helmColorEnv, "BUNDLE_NAMESPACE", "KUBECONFIG", "BUNDLE_CONFIG_HOME", "BUNDLE_CACHE_HOME"} {
		if !strings.Contains(env, v) {
			t.Errorf("ENVIRONMENT lacks %s:\n%s", v, env)
		}
	}
}

// docs/helm-compat.md says what bundle does with each of Helm's
// variables: those it honours and those it refuses.
func TestHelmCompatNamesHelmVariables(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "helm-compat.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{helmNamespaceEnv, helmKubeContextEnv, helmDebugEnv, helmMaxHistoryEnv, helmDriverEnv, helmRegistryConfigEnv, helmColorEnv,
		"HELM_DRIVER_SQL_CONNECTION_STRING", "HELM_DATA_HOME", "HELM_PLUGINS", "HELM_NO_PLUGINS", "HELM_EXPERIMENTAL_CHART_V3", "NO_COLOR"}
	for _, r := range append(kubeRefusals, rateRefusals...) {
		names = append(names, r.name)
	}
	for _, r := range repositoryRefusals {
		names = append(names, r.name)
	}
	for _, n := range names {
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/helm-compat.md does not name `%s`", n)
		}
	}
}
