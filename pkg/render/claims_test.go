package render_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// providerBinding is stable/PROVIDER installed as release team-db of
// namespace data, bound as INSTANCE: its outputs as they render for that
// release, and its bundle.
func providerBinding(t *testing.T, provider, instance string) *plan.Binding {
	t.Helper()
	pp := planFor(t, "stable/"+provider)
	outs := outputsOf(t, pp, render.ReleaseOptions{Name: "team-db", Namespace: "data"})
	return &plan.Binding{Bind: plan.Bind{Instance: instance, Namespace: "data", Release: "team-db"},
		Provider: pp.Root.Bundle, Repository: "stable", Outputs: outs, Claim: true}
}

// consumer renders app (stable/APP) as release name of namespace data with
// its database bound to b: the manifest's objects by KIND/NAME, and the
// values it is installed with.
func consumer(t *testing.T, app, name string, b *plan.Binding) (map[string]map[string]any, map[string]any) {
	t.Helper()
	return consumerIn(t, app, name, "data", b)
}

// consumerIn is consumer of namespace ns; objects of another namespace
// are keyed NAMESPACE:KIND/NAME.
func consumerIn(t *testing.T, app, name, ns string, b *plan.Binding) (map[string]map[string]any, map[string]any) {
	t.Helper()
	in, err := plan.Read(context.Background(), testSet(), plan.Source{Reference: "stable/" + app})
	if err != nil {
		t.Fatal(err)
	}
	in.Bound = []*plan.Binding{b}
	p, err := in.Resolve(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rel := render.ReleaseOptions{Name: name, Namespace: ns}
	vals, err := render.Values(p, p.Values, rel)
	if err != nil {
		t.Fatal(err)
	}
	out, err := render.Template(context.Background(), p, render.TemplateOptions{ReleaseName: name, Namespace: ns, Values: p.Values})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]map[string]any{}
	for _, doc := range releaseutil.SplitManifests(out) {
		var o map[string]any
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil || o == nil {
			continue
		}
		key := o["kind"].(string) + "/" + testutil.Dig(o, "metadata", "name").(string)
		if on, _ := testutil.Dig(o, "metadata", "namespace").(string); on != "" && on != ns {
			key = on + ":" + key
		}
		objs[key] = o
	}
	return objs, vals
}

// Two apps bound to one MariaDB each get a claim of their own: their own
// Secret (a password generated in the template, never in the values),
// database and user, a Job that makes them with the provider's root
// password, and a pre-delete hook that drops the user; the app is wired
// to the claim, not to the provider's user and Secret.
func TestClaimsPerConsumer(t *testing.T) {
	ids := map[string]bool{}
	passwords := map[string]bool{}
	for _, name := range []string{"blog", "shop"} {
		b := providerBinding(t, "mariadb", "database")
		objs, vals := consumer(t, "wordpress", name, b)
		claimName := name + "-database"
		id := render.ClaimID("data", name, "database")
		if !regexp.MustCompile(`^`+name+`_database_[0-9a-f]{8}$`).MatchString(id) || ids[id] {
			t.Fatalf("claim id %q", id)
		}
		ids[id] = true

		sec := objs["Secret/"+claimName]
		if sec == nil {
			t.Fatalf("%s: no claim Secret %s among %v", name, claimName, keys(objs))
		}
		pw64, _ := testutil.Dig(sec, "data", "password").(string)
		pw, err := base64.StdEncoding.DecodeString(pw64)
		if err != nil || len(pw) != 24 || passwords[string(pw)] {
			t.Errorf("%s: claim password %q (%v)", name, pw, err)
		}
		passwords[string(pw)] = true
		vj, _ := json.Marshal(vals)
		if strings.Contains(string(vj), string(pw)) || strings.Contains(string(vj), pw64) {
			t.Errorf("%s: the claim's password is in the values", name)
		}
		// The requirement's outputs, as the app sees them.
		got := testutil.Dig(vals, "requires", "database").(map[string]any)
		want := map[string]any{"host": "team-db-mariadb.data.svc", "port": "3306", "database": id, "username": id, "passwordSecret": claimName, "passwordKey": "password"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: requires.database.%s = %v, want %v", name, k, got[k], v)
			}
		}

		cm := objs["ConfigMap/"+claimName+"-claim"]
		if cm == nil || testutil.Dig(cm, "metadata", "labels", "bundle.sh/claim-of") != name || testutil.Dig(cm, "data", "delete-data") != "false" {
			t.Errorf("%s: claim ConfigMap: %v", name, cm)
		}
		var job, hook map[string]any
		for k, o := range objs {
			if strings.HasPrefix(k, "Job/"+claimName+"-claim-") {
				job = o
			}
			if k == "Job/"+claimName+"-unclaim" {
				hook = o
			}
		}
		if job == nil || hook == nil {
			t.Fatalf("%s: claim Jobs: %v", name, keys(objs))
		}
		if testutil.Dig(hook, "metadata", "annotations", "helm.sh/hook") != "pre-delete" || testutil.Dig(job, "metadata", "annotations") != nil {
			t.Errorf("%s: hooks: the Job %v, the unclaim Job %v", name, testutil.Dig(job, "metadata"), testutil.Dig(hook, "metadata"))
		}
		env := map[string]any{}
		for _, e := range testutil.Dig(job, "spec", "template", "spec", "containers", 0, "env").([]any) {
			m := e.(map[string]any)
			env[m["name"].(string)] = m
		}
		if testutil.Dig(env, "CLAIM_USER", "value") != id || testutil.Dig(env, "DB_HOST", "value") != "team-db-mariadb.data.svc" ||
			testutil.Dig(env, "ADMIN_PASSWORD", "valueFrom", "secretKeyRef", "name") != "team-db-mariadb" ||
			testutil.Dig(env, "CLAIM_PASSWORD", "valueFrom", "secretKeyRef", "name") != claimName {
			t.Errorf("%s: claim Job env: %v", name, env)
		}
		// The app itself uses the claim's Secret, not the provider's.
		dep, _ := json.Marshal(objs["Deployment/"+name+"-wordpress"])
		if !strings.Contains(string(dep), `"name":"`+claimName+`"`) || strings.Contains(string(dep), "team-db-mariadb\"") {
			t.Errorf("%s: the app is not wired to its claim:\n%s", name, dep)
		}
		for k := range objs {
			if strings.HasPrefix(k, "StatefulSet/") {
				t.Errorf("%s: %s in a bound release", name, k)
			}
		}
	}
}

// The objects of each catalog database's claim, as the app "blog" bound
// to it gets them (the password, random, masked), and the app's wiring.
func TestClaimGolden(t *testing.T) {
	password := regexp.MustCompile(`(?m)^(  password: )"[A-Za-z0-9+/=]{32}"$`)
	dbKeys := []string{"host", "port", "database", "username", "passwordSecret", "passwordKey"}
	for _, tc := range []struct {
		provider, instance string
		keys               []string
	}{
		{"mariadb", "database", dbKeys}, {"mysql", "database", dbKeys}, {"postgresql", "database", dbKeys},
		{"redis", "cache", []string{"host", "port", "username", "keyPrefix", "passwordSecret", "passwordKey"}},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			b := providerBinding(t, tc.provider, tc.instance)
			outs, ms, err := render.Claim(b, tc.instance, render.ReleaseOptions{Name: "blog", Namespace: "data"})
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			sb.WriteString("# outputs\n")
			for _, k := range tc.keys {
				sb.WriteString("# " + k + ": " + outs[k] + "\n")
			}
			for _, m := range ms {
				sb.WriteString("---\n# Source: " + m.Source + "\n" + m.YAML + "\n")
			}
			got := sb.String()
			if password.FindString(got) == "" {
				t.Fatalf("no generated password in:\n%s", got)
			}
			got = password.ReplaceAllString(got, `${1}"MASKED"`)
			testutil.Golden(t, filepath.Join("testdata", "golden", "claim-"+tc.provider+".yaml"), got, *update)
		})
	}
}

// An app of another namespace than the provider's gets its Secret in its
// own namespace; the claim's ConfigMap, Jobs and a copy of the Secret
// (same password) are in the provider's, named apart from a same-named
// app of that namespace.
func TestClaimAcrossNamespaces(t *testing.T) {
	b := providerBinding(t, "mariadb", "database")
	objs, vals := consumerIn(t, "wordpress", "blog", "web", b)
	job := render.ClaimJobName("web", "blog", "database", "data")
	if !regexp.MustCompile(`^blog-database-[0-9a-f]{8}$`).MatchString(job) || job == render.ClaimJobName("data", "blog", "database", "data") {
		t.Fatalf("job name %q", job)
	}
	own, cp := objs["Secret/blog-database"], objs["data:Secret/"+job]
	if own == nil || cp == nil || testutil.Dig(own, "data", "password") != testutil.Dig(cp, "data", "password") {
		t.Fatalf("the claim's Secrets: %v, %v (of %v)", own, cp, keys(objs))
	}
	cm := objs["data:ConfigMap/"+job+"-claim"]
	if cm == nil || testutil.Dig(cm, "metadata", "labels", "bundle.sh/claim-namespace") != "web" {
		t.Errorf("the claim's ConfigMap: %v", cm)
	}
	jobs := 0
	for k, o := range objs {
		if strings.HasPrefix(k, "Job/") || strings.HasPrefix(k, "web:Job/") {
			t.Errorf("%s outside the provider's namespace", k)
		}
		if strings.HasPrefix(k, "data:Job/"+job+"-") {
			jobs++
			env, _ := json.Marshal(testutil.Dig(o, "spec", "template", "spec", "containers", 0, "env"))
			if strings.HasPrefix(k, "data:Job/"+job+"-claim-") && !strings.Contains(string(env), `"name":"`+job+`"`) {
				t.Errorf("%s reads not the copy %s: %s", k, job, env)
			}
		}
	}
	if jobs != 2 {
		t.Errorf("%d claim Jobs in the provider's namespace, want 2: %v", jobs, keys(objs))
	}
	if got := testutil.Dig(vals, "requires", "database", "passwordSecret"); got != "blog-database" {
		t.Errorf("passwordSecret = %v", got)
	}
}

// A binding without Claim (one recorded before its provider offered
// claims) gets the provider's outputs and nothing of the claim.
func TestBindingWithoutClaim(t *testing.T) {
	b := providerBinding(t, "mariadb", "database")
	b.Claim = false
	objs, vals := consumer(t, "wordpress", "blog", b)
	if got := testutil.Dig(vals, "requires", "database", "passwordSecret"); got != "team-db-mariadb" {
		t.Errorf("passwordSecret = %v", got)
	}
	for k := range objs {
		if strings.Contains(k, "claim") {
			t.Errorf("%s rendered without a claim", k)
		}
	}
}

// The claim's names: DNS names and SQL identifiers, bounded, distinct.
func TestClaimNames(t *testing.T) {
	long := strings.Repeat("a", 53)
	for _, tc := range []struct{ ns, rel, inst, name, id string }{
		{"data", "blog", "database", "blog-database", "blog_database_"},
		{"data", "My-App", "db_main", "my-app-db-main", "my_app_db_main_"},
		{"data", "9lives", "db", "9lives-db", "c_9lives_db_"},
	} {
		if n := render.ClaimName(tc.rel, tc.inst); n != tc.name {
			t.Errorf("ClaimName(%s, %s) = %s, want %s", tc.rel, tc.inst, n, tc.name)
		}
		if id := render.ClaimID(tc.ns, tc.rel, tc.inst); !strings.HasPrefix(id, tc.id) || len(id) != len(tc.id)+8 {
			t.Errorf("ClaimID(%s, %s) = %s, want %sHASH", tc.rel, tc.inst, id, tc.id)
		}
	}
	if n := render.ClaimName(long, "database"); len(n) > 40 || n == render.ClaimName(long+"b", "database") {
		t.Errorf("long claim name %q", n)
	}
	if a, b := render.ClaimID("x", long, "database"), render.ClaimID("x", long+"b", "database"); len(a) > 32 || a == b {
		t.Errorf("long claim ids %q %q", a, b)
	}
	if render.ClaimID("x", "a-b", "c") == render.ClaimID("x", "a", "b_c") {
		t.Error("a-b/c and a/b_c share a claim id")
	}
}

// Two apps bound to one Redis each get a claim of their own: an ACL user
// and key prefix named after the claim, a Secret of their own with a
// password of their own (never in the outputs), and Jobs that make and
// drop the user with the provider's password.
func TestRedisClaimsPerConsumer(t *testing.T) {
	b := providerBinding(t, "redis", "cache")
	if b.Outputs["keyPrefix"] != "" || b.Outputs["username"] != "default" {
		t.Errorf("the provider's own outputs: %v", b.Outputs)
	}
	seen := map[string]bool{}
	for _, name := range []string{"blog", "shop"} {
		outs, ms, err := render.Claim(b, "cache", render.ReleaseOptions{Name: name, Namespace: "data"})
		if err != nil {
			t.Fatal(err)
		}
		id := render.ClaimID("data", name, "cache")
		want := map[string]string{"host": "team-db-redis.data.svc", "port": "6379", "username": id, "keyPrefix": id + ":", "passwordSecret": name + "-cache", "passwordKey": "password"}
		for k, v := range want {
			if outs[k] != v {
				t.Errorf("%s: output %s = %q, want %q", name, k, outs[k], v)
			}
		}
		var all strings.Builder
		objs := map[string]map[string]any{}
		for _, m := range ms {
			all.WriteString(m.YAML + "\n---\n")
			var o map[string]any
			if err := yaml.Unmarshal([]byte(m.YAML), &o); err != nil || o == nil {
				continue
			}
			objs[fmt.Sprint(o["kind"], "/", testutil.Dig(o, "metadata", "name"))] = o
		}
		sec := objs["Secret/"+name+"-cache"]
		pw, _ := testutil.Dig(sec, "data", "password").(string)
		raw, err := base64.StdEncoding.DecodeString(pw)
		if sec == nil || err != nil || len(raw) != 24 || seen[pw] {
			t.Fatalf("%s: the claim's Secret: %v", name, sec)
		}
		seen[pw], seen[id] = true, true
		for k, v := range outs {
			if strings.Contains(v, string(raw)) || strings.Contains(v, pw) {
				t.Errorf("%s: the password is in output %s", name, k)
			}
		}
		if strings.Count(all.String(), pw) != 1 || strings.Contains(all.String(), string(raw)) {
			t.Errorf("%s: the password is elsewhere than in its Secret:\n%s", name, all.String())
		}
		var job, hook bool
		for k := range objs {
			job = job || strings.HasPrefix(k, "Job/"+name+"-cache-claim-")
			hook = hook || k == "Job/"+name+"-cache-unclaim"
		}
		cm := objs["ConfigMap/"+name+"-cache-claim"]
		if !job || !hook || cm == nil || !strings.Contains(all.String(), `value: "`+id+`:"`) {
			t.Errorf("%s: claim objects %v:\n%s", name, keys(objs), all.String())
		}
	}
	if len(seen) != 4 {
		t.Errorf("two consumers share a user or password: %v", seen)
	}
}
