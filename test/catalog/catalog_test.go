// Package catalog checks what the stable catalog's bundles hand to programs
// that run inside their containers, with those programs themselves: every
// shell script (ConfigMap scripts and sh -c commands of containers and
// probes) passes shellcheck; every VCL compiles with varnishd and, run by a
// real Varnish, caches, passes and purges as its bundle says; stable/redis-ha's
// init script, configuration and commands run with real Redis and Sentinel
// processes through a failover; stable/postgresql's first-start script
// creates a working app role in a real PostgreSQL; the claims that
// stable/postgresql, stable/mariadb and stable/mysql give each app bound
// to them make and drop a database and user in a real PostgreSQL and
// MariaDB, each reaching its own database only; the backup scripts of
// stable/mariadb, stable/postgresql and stable/redis dump and restore a real
// MariaDB, PostgreSQL and Redis, one app's claim apart; and stable/magento's PHP
// writes the wiring into env.php.
//
// The tools come from Debian (make test-tools installs them as root). Without
// them the tests skip, unless BUNDLE_E2E_REQUIRED is set, as make test sets it.
package catalog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// hostile is a value with every character that breaks naive quoting in
// shell and PHP: users may type it into --set.
const hostile = `O'Brien "the" $HOME \ ; $(true) ` + "`id`"

var hostileMagento = map[string]any{"magento": map[string]any{
	"baseURL": "http://shop.example.com/it's/",
	"admin":   map[string]any{"firstname": hostile, "lastname": hostile, "password": hostile},
}}

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		p, err = exec.LookPath("/usr/sbin/" + name) // varnishd, for users without sbin on PATH
	}
	if err != nil {
		testutil.Missing(t, name+" is not installed: run make test-tools as root", name+" is not installed (make test-tools installs it, as root)")
	}
	return p
}

// renderObjects renders ref (stable/NAME) as release in namespace with
// values, and returns its objects by "Kind/name".
func renderObjects(t *testing.T, ref, release, namespace string, values map[string]any) map[string]map[string]any {
	t.Helper()
	ctx := context.Background()
	p, err := plan.Make(ctx, repo.NewSet(nil), plan.Source{Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := render.Template(ctx, p, render.TemplateOptions{ReleaseName: release, Namespace: namespace, Values: values})
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	out := map[string]map[string]any{}
	for _, doc := range strings.Split(manifest, "\n---") {
		var o map[string]any
		if yaml.Unmarshal([]byte(doc), &o) == nil && o != nil {
			out[fmt.Sprintf("%s/%s", o["kind"], dig(o, "metadata", "name"))] = o
		}
	}
	return out
}

var dig = testutil.Dig

// strs is a YAML list of strings as a []string.
func strs(v any) []string {
	var out []string
	for _, a := range v.([]any) {
		out = append(out, a.(string))
	}
	return out
}

// podSpec is the pod template spec of a Deployment or StatefulSet.
func podSpec(o map[string]any) any { return dig(o, "spec", "template", "spec") }

// values maps a container's env var names to their literal values (those
// from Secrets or fields are left out).
func values(container any) map[string]string {
	env := map[string]string{}
	list, _ := dig(container, "env").([]any)
	for _, e := range list {
		if v, ok := dig(e, "value").(string); ok {
			env[dig(e, "name").(string)] = v
		}
	}
	return env
}

// rendered renders every catalog bundle with its defaults (and the
// variants that switch optional parts on) and returns the objects by
// "bundle#variant: Kind/name".
func rendered(t *testing.T) map[string]map[string]any {
	t.Helper()
	names, err := repo.Stable().Names()
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string][]map[string]any{
		"varnish":   {nil, {"backend": map[string]any{"host": "web"}}},
		"wordpress": {nil, {"objectCache": map[string]any{"enabled": true}, "wordpress": map[string]any{"url": "https://blog.example.com/" + hostile}}},
		"redis-ha":  {nil, {"persistence": map[string]any{"enabled": true}}},
		"magento":   {nil, hostileMagento},
		"mediawiki": {nil, {"wiki": map[string]any{"name": hostile}}},
	}
	out := map[string]map[string]any{}
	for _, name := range names {
		vs := variants[name]
		if vs == nil {
			vs = []map[string]any{nil}
		}
		for i, v := range vs {
			for k, o := range renderObjects(t, "stable/"+name, name, "default", v) {
				out[fmt.Sprintf("%s#%d: %s", name, i, k)] = o
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// scripts finds every shell script: ConfigMap data named *.sh, and the
// script of every [sh, -c, SCRIPT] command in containers and their probes.
func scripts(objs map[string]map[string]any) map[string]string {
	found := map[string]string{}
	for _, key := range sortedKeys(objs) {
		obj := objs[key]
		if obj["kind"] == "ConfigMap" {
			data, _ := obj["data"].(map[string]any)
			for k, v := range data {
				if strings.HasSuffix(k, ".sh") {
					found[key+" "+k] = v.(string)
				}
			}
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, c := range x {
					if k == "command" {
						if l, ok := c.([]any); ok && len(l) == 3 && l[0] == "sh" && l[1] == "-c" {
							found[path+".command"] = l[2].(string)
						}
					}
					walk(path+"."+k, c)
				}
			case []any:
				for i, c := range x {
					walk(fmt.Sprintf("%s[%d]", path, i), c)
				}
			}
		}
		walk(key, obj["spec"])
	}
	return found
}

func TestShellScriptsPassShellcheck(t *testing.T) {
	sc := tool(t, "shellcheck")
	found := scripts(rendered(t))
	if len(found) < 10 {
		t.Fatalf("found only %d scripts: %v", len(found), sortedKeys(found))
	}
	for _, where := range sortedKeys(found) {
		args := []string{"--shell=sh", "--severity=info"}
		if !strings.Contains(where, "#0:") {
			// Variants with hostile values: a $ inside the single quotes
			// of a quoted value is the point (SC2016 reports it).
			args = append(args, "--exclude=SC2016")
		}
		cmd := exec.Command(sc, append(args, "-")...)
		cmd.Stdin = strings.NewReader(found[where])
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: shellcheck: %v\n%s\n--- script:\n%s", where, err, out.String(), found[where])
		}
	}
}

var backendHost = regexp.MustCompile(`\.host = "[^"]*"`)

func TestVCLCompiles(t *testing.T) {
	varnishd := tool(t, "varnishd")
	objs := rendered(t)
	n := 0
	for _, key := range sortedKeys(objs) {
		data, _ := objs[key]["data"].(map[string]any)
		vcl, ok := data["default.vcl"].(string)
		if !ok {
			continue
		}
		n++
		// varnishd resolves backends while compiling; the Service names
		// exist only in a cluster.
		vcl = backendHost.ReplaceAllString(vcl, `.host = "127.0.0.1"`)
		dir := t.TempDir()
		f := filepath.Join(dir, "default.vcl")
		if err := os.WriteFile(f, []byte(vcl), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(varnishd, "-j", "none", "-C", "-f", f, "-n", filepath.Join(dir, "work"))
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = nil, &stderr
		if err := cmd.Run(); err != nil {
			msg := stderr.String()
			if i := strings.Index(msg, "Message from VCC-compiler"); i >= 0 {
				msg = msg[i:]
			}
			t.Errorf("%s: the VCL does not compile: %v\n%s", key, err, msg)
		}
	}
	if n < 2 {
		t.Errorf("checked %d VCLs, want the default and magento's", n)
	}
}
