package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testregistry"
)

// run runs the command line in-process, with no $BUNDLE_NAMESPACE,
// $KUBECONFIG or ~/.kube/config to find a namespace in.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWithEnv(t, nil, "", args...)
}

// runStdin is run with stdin as the standard input.
func runStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWithEnv(t, nil, stdin, args...)
}

// runWithEnv runs the command line in-process with stdin as the standard
// input and the environment testGetenv(env).
func runWithEnv(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runEnv(context.Background(), append([]string{"bundle"}, args...), strings.NewReader(stdin), &out, &errb, testGetenv(env))
	return code, out.String(), errb.String()
}

// testGetenv is the environment of a test's command: env for the
// namespace, the kubeconfig and Helm's variables (none unless env has
// them, whatever the process has); other variables (where the
// configuration and cache live: TestMain points them at a temporary
// directory) come from env, else the process.
func testGetenv(env map[string]string) func(string) string {
	return func(k string) string {
		if k == "BUNDLE_NAMESPACE" || k == "KUBECONFIG" || strings.HasPrefix(k, "HELM_") {
			return env[k]
		}
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
}

func TestTemplate(t *testing.T) {
	code, out, errs := run(t, "template", "wiki", "stable/mediawiki", "--set", "wiki.name=Docs", "-n", "team")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"kind: Deployment", "kind: StatefulSet", "name: wiki-database", "$wgSitename = 'Docs';", `value: "wiki-database.team.svc"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if errs != "" {
		t.Errorf("stderr: %s", errs)
	}
}

// A bundle in a local directory, the way a user writes one, requiring a
// catalog bundle.
func TestTemplateLocalDirectory(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: shop\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db:\n    bundle: mariadb\n    version: ^1\n    values: {auth: {database: shop}}\n    outputs: [host, database]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata:\n  db: \"{{ .Values.requires.db.host }}/{{ .Values.requires.db.database }}\"\n"), 0o644)
	code, out, errs := run(t, "template", dir, "-n", "shop")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `db: "shop-db.shop.svc/shop"`) || !strings.Contains(out, "kind: StatefulSet") {
		t.Errorf("local bundle not composed with its requirement:\n%s", out)
	}
}

func TestTemplateOutputDir(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "template", "stable/mariadb", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// As helm: one "wrote" line per document, on stdout, and no manifests.
	if !strings.Contains(out, "wrote "+filepath.Join(dir, "mariadb", "templates", "statefulset.yaml")+"\n") {
		t.Errorf("stdout does not list the files written: %q", out)
	}
	if strings.Contains(out, "kind:") || errs != "" {
		t.Errorf("printed manifests despite --output-dir: %q %q", out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "mariadb", "templates", "statefulset.yaml")); err != nil {
		t.Errorf("no file written: %v", err)
	}
}

// Flags may come after the positional arguments, as with helm and kubectl.
func TestFlagsAfterArguments(t *testing.T) {
	a, outA, _ := run(t, "template", "--set", "wiki.name=X", "stable/mediawiki", "--set", "database.auth.password=p")
	b, outB, _ := run(t, "template", "stable/mediawiki", "--set=wiki.name=X", "--set", "database.auth.password=p")
	if a != 0 || b != 0 {
		t.Fatalf("exit codes %d, %d", a, b)
	}
	if !strings.Contains(outA, "$wgSitename = 'X';") || !strings.Contains(outB, "$wgSitename = 'X';") {
		t.Error("--set after the bundle was not applied")
	}
}

// failure is a command line that fails with the exit code, one line on
// stderr starting with want, and nothing on stdout.
type failure struct {
	name string
	args []string
	code int
	want string
}

// checkFailures runs each command line as a subtest.
func checkFailures(t *testing.T, tests []failure) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			wantOneLineFailure(t, code, out, errs, tt.code, tt.want)
		})
	}
}

// wantOneLineFailure fails t unless a command exited with code, printed
// nothing on stdout and one line on stderr, starting with want.
func wantOneLineFailure(t *testing.T, gotCode int, out, errs string, code int, want string) {
	t.Helper()
	if gotCode != code {
		t.Errorf("exit code %d, want %d (stderr %q)", gotCode, code, errs)
	}
	if !strings.HasPrefix(errs, want) {
		t.Errorf("stderr:\n got  %q\n want %q...", errs, want)
	}
	if n := strings.Count(errs, "\n"); n != 1 {
		t.Errorf("stderr has %d lines, want one: %q", n, errs)
	}
	if out != "" {
		t.Errorf("stdout not empty: %q", out)
	}
}

// wantInOutput fails t unless out holds each of want and none of absent.
func wantInOutput(t *testing.T, out string, want, absent []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, a := range absent {
		if strings.Contains(out, a) {
			t.Errorf("output has %q:\n%s", a, out)
		}
	}
}

// unreachableKubeconfig names a cluster that does not answer.
const unreachableKubeconfig = "testdata/kubeconfig-unreachable.yaml"

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badValues := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badValues, []byte("wiki: [\n"), 0o644)
	kubeconfig := unreachableKubeconfig
	checkFailures(t, []failure{
		{"no command args", []string{"install"}, ExitUsage, "Error: expected [NAME] BUNDLE, got 0 arguments (see bundle install --help)"},
		{"too many args", []string{"template", "a", "b", "c"}, ExitUsage, "Error: expected [NAME] BUNDLE, got 3 arguments"},
		{"unknown flag", []string{"template", "--nope", "stable/mediawiki"}, ExitUsage, "Error: flag provided but not defined: -nope (see bundle template --help)"},
		{"unknown bundle", []string{"template", "stable/mediawki"}, ExitError, "Error: bundle stable/mediawki not found: did you mean stable/mediawiki? (the stable catalog has: magento, mariadb, mediawiki, memcached, mysql, opensearch, postgresql, redis, redis-ha, varnish, wordpress)"},
		{"unknown repository", []string{"template", "nope/mediawiki"}, ExitError, `Error: unknown repository "nope" (known: stable)`},
		{"bare name", []string{"template", "mediawiki"}, ExitError, `Error: bundle reference "mediawiki": use REPO/NAME such as stable/mediawiki, or a directory such as ./mediawiki`},
		{"bad version constraint", []string{"template", "stable/mediawiki", "--version", "^^1"}, ExitError, `Error: --version: invalid version constraint "^^1"`},
		{"no version matches", []string{"template", "stable/mediawiki", "--version", "^9"}, ExitError, "Error: no version of stable/mediawiki satisfies --version ^9 (available: 1.2.2)"},
		{"malformed values file", []string{"template", "stable/mediawiki", "-f", badValues}, ExitError, "Error: " + badValues + ":1: invalid YAML"},
		{"missing values file", []string{"template", "stable/mediawiki", "-f", filepath.Join(dir, "nope.yaml")}, ExitError, "Error: values file " + filepath.Join(dir, "nope.yaml")},
		{"bad --set", []string{"template", "stable/mediawiki", "--set", "wiki.name"}, ExitError, `Error: --set "wiki.name": key "name" has no value`},
		{"values break the schema", []string{"template", "stable/mariadb", "--set", "service.port=99999"}, ExitError, "Error: rendering mariadb 1.3.0: invalid values: service.port: maximum: got 99,999, want 65,535 (set valid values with -f or --set)"},
		{"a chart refuses a value", []string{"template", "stable/varnish", "--set", `backend.host=a"b`}, ExitError,
			`Error: rendering varnish 1.0.5: varnish backend.host "a\"b" is not a host name (letters, digits, dots and dashes): set it to the Service Varnish sits in front of`},
		{"values break requirements' schemas", []string{"template", "stable/magento", "--set", "cache.replicas=2,search.replicas=2"}, ExitError,
			"Error: rendering magento 1.1.2: invalid values: cache.replicas: minimum: got 2, want 3; search.replicas: 'anyOf' failed; search.replicas: value must be 1; search.replicas: minimum: got 2, want 3 (set valid values with -f or --set)"},
		{"unreachable cluster", []string{"install", "stable/mediawiki", "--kubeconfig", kubeconfig}, ExitError, "Error: cannot reach the cluster at https://127.0.0.1:1:"},
		{"missing kubeconfig", []string{"list", "--kubeconfig", filepath.Join(dir, "none")}, ExitError, "Error: cannot use the kubeconfig:"},
		{"bad release name", []string{"install", "Bad_Name", "stable/mediawiki", "--kubeconfig", kubeconfig}, ExitError, `Error: release name "Bad_Name":`},
		{"bad revision", []string{"rollback", "x", "zero", "--kubeconfig", kubeconfig}, ExitUsage, `Error: REVISION "zero": give a revision number from bundle history`},
		{"short graph", []string{"list", "-q", "-o", "mermaid", "--kubeconfig", kubeconfig}, ExitUsage, "Error: --short with -o mermaid: the graph draws the bindings; drop one"},
		{"bad output", []string{"list", "-o", "xml", "--kubeconfig", kubeconfig}, ExitUsage, `Error: --output "xml": use table, json, yaml, dot or mermaid (see bundle list --help)`},
		{"negative timeout", []string{"install", "stable/mediawiki", "--timeout", "-1s", "--kubeconfig", kubeconfig}, ExitUsage, "Error: --timeout -1s: must be positive"},
		{"missing directory", []string{"template", "./no-such-dir"}, ExitError, "Error: ./no-such-dir: no such directory"},
		{"library chart", []string{"template", "stable/common"}, ExitError, "Error: stable/common: library charts are not installable (a library chart only provides templates to charts that depend on it"},
		{"library chart installed", []string{"install", "stable/common", "--kubeconfig", kubeconfig}, ExitError, "Error: stable/common: library charts are not installable"},
	})
}

func TestReorder(t *testing.T) {
	app := newApp(nil, nil, nil)
	tests := []struct{ in, want string }{
		{"bundle install stable/x --wait", "bundle install --wait stable/x"},
		{"bundle install n stable/x -n ns --timeout 5m --atomic", "bundle install -n ns --timeout 5m --atomic n stable/x"},
		{"bundle install stable/x --set=a=b -- --literal", "bundle install --set=a=b stable/x -- --literal"},
		{"bundle nope a --b", "bundle nope a --b"},
		// bundle's own flags before the command (all boolean) stay there.
		{"bundle --debug install stable/x --wait", "bundle --debug install --wait stable/x"},
		{"bundle --debug get values wiki -o json", "bundle --debug get values -o json wiki"},
	}
	for _, tt := range tests {
		got := strings.Join(reorder(app, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("reorder(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeps(t *testing.T) {
	code, out, errs := run(t, "deps", "stable/mediawiki")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "mediawiki 1.2.2\n└── database: mariadb 1.3.0  (^1.0.0 from stable, required by mediawiki 1.2.2)\n"
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	code, out, _ = run(t, "deps", "stable/mediawiki", "-o", "json")
	if code != 0 || !strings.Contains(out, `"constraint": "^1.0.0"`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
	graphs := map[string]string{
		"dot": `digraph bundle {
  rankdir=LR;
  node [shape=box, style=rounded];
  n0 [label="mediawiki 1.2.2"];
  n1 [label="database: mariadb 1.3.0\nfrom stable"];
  n0 -> n1 [label="^1.0.0"];
}
`,
		"mermaid": `flowchart LR
  n0["mediawiki 1.2.2"]
  n1["database: mariadb 1.3.0<br/>from stable"]
  n0 -->|"^1.0.0"| n1
`,
	}
	for format, want := range graphs {
		code, out, errs := run(t, "deps", "stable/mediawiki", "-o", format)
		if code != 0 || out != want {
			t.Errorf("-o %s: exit %d %s: got\n%s\nwant\n%s", format, code, errs, out, want)
		}
	}
	if code, _, errs := run(t, "status", "wiki", "-o", "dot"); code != ExitUsage || !strings.Contains(errs, "use table, json or yaml") {
		t.Errorf("status -o dot: exit %d %s", code, errs)
	}
}

func TestLockedTemplateOfCatalogBundle(t *testing.T) {
	code, out, errs := run(t, "template", "stable/mediawiki", "--locked")
	if code != 0 || !strings.Contains(out, "kind: StatefulSet") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestLockCommands(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: shop\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1}\n"), 0o644)
	if code, _, errs := run(t, "template", dir, "--locked"); code != ExitError || !strings.Contains(errs, "has no bundle.lock: run bundle lock") {
		t.Errorf("--locked without a lock: exit %d, %q", code, errs)
	}
	if code, out, errs := run(t, "lock", dir); code != 0 || !strings.Contains(out, "+ mariadb 1.3.0") {
		t.Fatalf("lock: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := run(t, "lock", "--check", dir); code != 0 || !strings.Contains(out, "is up to date") {
		t.Errorf("lock --check: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "template", dir, "--locked"); code != 0 {
		t.Errorf("--locked with a fresh lock: %s", errs)
	}
	if code, out, errs := run(t, "update", dir); code != 0 || !strings.Contains(out, "unchanged") {
		t.Errorf("update: exit %d %q %q", code, out, errs)
	}
	os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^2}\n"), 0o644)
	code, _, errs := run(t, "lock", "--check", dir)
	if code != ExitError || !strings.Contains(errs, "bundle.lock is out of date: the requirements in bundle.yaml changed") {
		t.Errorf("stale lock: exit %d %q", code, errs)
	}
	// A requirement no version satisfies: the explanation names it.
	code, _, errs = run(t, "lock", dir)
	want := "Error: resolving the requirements of shop 0.1.0: Because shop requires db mariadb ^2 (no version matches; mariadb has 1.3.0), version solving failed.\n"
	if code != ExitError || errs != want {
		t.Errorf("unsatisfiable: exit %d\n got  %q\n want %q", code, errs, want)
	}
}

func TestPackage(t *testing.T) {
	out := t.TempDir()
	code, stdout, errs := run(t, "package", "../../bundles/stable/mariadb", "-d", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(stdout, "wrote "+filepath.Join(out, "mariadb-1.3.0.tgz")+" (sha256:") {
		t.Errorf("stdout %q", stdout)
	}
	code, _, errs = run(t, "package", t.TempDir())
	if code != ExitError || !strings.Contains(errs, "Chart.yaml: not found") {
		t.Errorf("packaging a non-bundle: exit %d %q", code, errs)
	}
}

// bundle lock records the images the resolved bundles run (Docker Hub's
// answered by TestMain's stand-in); --locked renders each by digest; an
// image a value adds is refused, naming the fix; --skip-images keeps them.
func TestLockImagesCommands(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: shop\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1}\n"), 0o644)
	code, out, errs := run(t, "lock", dir)
	if code != 0 || !regexp.MustCompile(`wrote .*bundle.lock \(1 bundles, [1-9][0-9]* images\)`).MatchString(out) {
		t.Fatalf("lock: exit %d %q %q", code, out, errs)
	}
	lock, _ := os.ReadFile(filepath.Join(dir, "bundle.lock"))
	if !strings.Contains(string(lock), "    repository: docker.io/library/mariadb\n") {
		t.Fatalf("lock:\n%s", lock)
	}
	code, out, errs = run(t, "template", dir, "--locked")
	if code != 0 {
		t.Fatal(errs)
	}
	images := regexp.MustCompile(`image: "?([^"\s]+)`).FindAllStringSubmatch(out, -1)
	if len(images) == 0 {
		t.Fatal("no images rendered")
	}
	for _, m := range images {
		if !regexp.MustCompile(`^docker\.io/library/[a-z0-9]+@sha256:[0-9a-f]{64}$`).MatchString(m[1]) {
			t.Errorf("--locked rendered %s", m[1])
		}
	}
	code, _, errs = run(t, "template", dir, "--locked", "--set-string", "db.image.tag=99")
	if code != ExitError || !regexp.MustCompile(`^Error: image docker.io/library/mariadb:99 of StatefulSet \S+ is not in \S+/bundle.lock: run bundle lock \S+\n$`).MatchString(errs) {
		t.Errorf("unlocked image: exit %d %q", code, errs)
	}
	if code, out, errs := run(t, "lock", "--check", "--skip-images", dir); code != 0 || !strings.Contains(out, "is up to date") {
		t.Errorf("lock --check --skip-images: exit %d %q %q", code, out, errs)
	}
}

// An image no registry serves: bundle lock says which, and how to lock
// without images.
func TestLockUnresolvableImage(t *testing.T) {
	host := testregistry.Start(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "pod.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: "+host+"/x/y:1}]}\n"), 0o644)
	code, _, errs := run(t, "lock", dir, "--plain-http")
	want := "Error: image " + host + "/x/y:1 not found in its registry: use --skip-images\n"
	if code != ExitError || errs != want {
		t.Errorf("exit %d\n got  %q\n want %q", code, errs, want)
	}
	if code, out, errs := run(t, "lock", dir, "--skip-images"); code != 0 || !strings.Contains(out, "(0 bundles)") {
		t.Errorf("--skip-images: exit %d %q %q", code, out, errs)
	}
}
