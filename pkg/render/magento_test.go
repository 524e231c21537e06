package render_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/render"
)

// containerEnv maps a container's env var names to their entries.
func containerEnv(c any) map[string]map[string]any {
	env := map[string]map[string]any{}
	list, _ := dig(c, "env").([]any)
	for _, e := range list {
		em := e.(map[string]any)
		env[em["name"].(string)] = em
	}
	return env
}

// serviceFor checks that host (NAME.NAMESPACE.svc) names a Service of the
// release exposing port, and returns the Service.
func serviceFor(t *testing.T, objs map[string]map[string]any, what, host, ns string, port any) map[string]any {
	t.Helper()
	name, ok := strings.CutSuffix(host, "."+ns+".svc")
	if !ok {
		t.Errorf("%s: host %q is not a Service DNS name in namespace %s", what, host, ns)
		return nil
	}
	svc := objs["Service/"+name]
	if svc == nil {
		t.Errorf("%s: host %q names Service/%s, which the release does not contain", what, host, name)
		return nil
	}
	for _, p := range dig(svc, "spec", "ports").([]any) {
		if fmt.Sprint(dig(p, "port")) == fmt.Sprint(port) {
			return svc
		}
	}
	t.Errorf("%s: Service/%s has no port %v", what, name, port)
	return svc
}

// selects reports whether a Service's selector matches a pod template's labels.
func selects(svc, podOwner map[string]any) bool {
	sel, _ := dig(svc, "spec", "selector").(map[string]any)
	labels, _ := dig(podOwner, "spec", "template", "metadata", "labels").(map[string]any)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestMagentoWiring renders stable/magento and follows every wire from the
// shop's containers to the objects it names: each host is a Service of the
// release that selects the right workload, each Sentinel address is a pod of
// the right StatefulSet, each password is a key of a Secret in the release,
// and Varnish forwards to the shop's own Service.
func TestMagentoWiring(t *testing.T) {
	const ns = "prod"
	objs := rendered(t, "stable/magento", render.TemplateOptions{ReleaseName: "shop", Namespace: ns})
	dep := object(t, objs, "Deployment/shop-magento")
	spec := dig(dep, "spec", "template", "spec")
	setup := dig(spec, "initContainers", 1)
	for _, c := range []struct {
		name string
		c    any
	}{{"web", dig(spec, "containers", 0)}, {"setup", setup}, {"cron", dig(objs["CronJob/shop-magento-cron"], "spec", "jobTemplate", "spec", "template", "spec", "containers", 0)}} {
		t.Run(c.name, func(t *testing.T) {
			env := containerEnv(c.c)
			val := func(k string) string {
				v, _ := dig(env[k], "value").(string)
				if v == "" {
					t.Errorf("%s container has no %s", c.name, k)
				}
				return v
			}
			// Database: MySQL's Service in front of MySQL's StatefulSet.
			db := serviceFor(t, objs, "DB_HOST", val("DB_HOST"), ns, val("DB_PORT"))
			if sts := objs["StatefulSet/shop-database"]; db != nil && (sts == nil || !selects(db, sts)) {
				t.Errorf("DB_HOST's Service does not select StatefulSet/shop-database")
			}
			if got := dig(objs["StatefulSet/shop-database"], "spec", "template", "spec", "containers", 0, "image"); !strings.Contains(fmt.Sprint(got), "/mysql:") {
				t.Errorf("database runs %v, want MySQL", got)
			}
			if val("DB_NAME") != "magento" || val("DB_USER") != "magento" {
				t.Errorf("database %s/%s, want the requirement's magento/magento", val("DB_NAME"), val("DB_USER"))
			}
			// Search: OpenSearch's Service.
			search := serviceFor(t, objs, "SEARCH_HOST", val("SEARCH_HOST"), ns, val("SEARCH_PORT"))
			if sts := objs["StatefulSet/shop-search"]; search != nil && (sts == nil || !selects(search, sts)) {
				t.Errorf("SEARCH_HOST's Service does not select StatefulSet/shop-search")
			}
			// Varnish: its Service selects the Varnish Deployment.
			v := serviceFor(t, objs, "VARNISH_HOST", val("VARNISH_HOST"), ns, val("VARNISH_PORT"))
			if d := objs["Deployment/shop-varnish"]; v != nil && (d == nil || !selects(v, d)) {
				t.Errorf("VARNISH_HOST's Service does not select Deployment/shop-varnish")
			}
			// Cache and sessions: every Sentinel is a pod of its own
			// StatefulSet, addressed through that StatefulSet's headless Service.
			for _, inst := range []struct{ prefix, sts string }{{"CACHE", "shop-cache"}, {"SESSION", "shop-sessions"}} {
				sts := objs["StatefulSet/"+inst.sts]
				if sts == nil {
					t.Fatalf("no StatefulSet/%s", inst.sts)
				}
				headless := dig(sts, "spec", "serviceName").(string)
				if objs["Service/"+headless] == nil {
					t.Errorf("StatefulSet/%s's serviceName %s is not in the release", inst.sts, headless)
				}
				sentinels := strings.Split(val(inst.prefix+"_SENTINELS"), ",")
				if n := fmt.Sprint(dig(sts, "spec", "replicas")); fmt.Sprint(len(sentinels)) != n {
					t.Errorf("%s_SENTINELS lists %d Sentinels, StatefulSet/%s has %s replicas", inst.prefix, len(sentinels), inst.sts, n)
				}
				pod := regexp.MustCompile(`^` + regexp.QuoteMeta(inst.sts) + `-[0-9]+\.` + regexp.QuoteMeta(headless+"."+ns+".svc") + `:26379$`)
				for _, s := range sentinels {
					if !pod.MatchString(s) {
						t.Errorf("%s_SENTINELS has %q, not a pod of StatefulSet/%s behind %s", inst.prefix, s, inst.sts, headless)
					}
				}
				if val(inst.prefix+"_MASTER") != "mymaster" {
					t.Errorf("%s_MASTER = %q", inst.prefix, val(inst.prefix+"_MASTER"))
				}
			}
			// Every Secret reference names a key of a Secret in the release.
			for _, k := range []string{"DB_PASSWORD", "CACHE_PASSWORD", "SESSION_PASSWORD", "CRYPT_KEY"} {
				ref, _ := dig(env[k], "valueFrom", "secretKeyRef").(map[string]any)
				if ref == nil {
					t.Errorf("%s is not a Secret reference", k)
					continue
				}
				secret := objs["Secret/"+ref["name"].(string)]
				if secret == nil {
					t.Errorf("%s: Secret/%v is not in the release", k, ref["name"])
				} else if dig(secret, "data", ref["key"].(string)) == nil {
					t.Errorf("%s: Secret/%v has no key %v", k, ref["name"], ref["key"])
				}
			}
			if cache, sessions := dig(env["CACHE_PASSWORD"], "valueFrom", "secretKeyRef", "name"), dig(env["SESSION_PASSWORD"], "valueFrom", "secretKeyRef", "name"); cache == sessions {
				t.Errorf("cache and sessions share Secret %v; they are separate Redis instances", cache)
			}
		})
	}
	// The two Redis instances are configured for their jobs.
	if cm := fmt.Sprint(dig(objs["ConfigMap/shop-cache"], "data", "redis.conf")); !strings.Contains(cm, "maxmemory-policy allkeys-lru") {
		t.Errorf("cache redis.conf:\n%s", cm)
	}
	if cm := fmt.Sprint(dig(objs["ConfigMap/shop-sessions"], "data", "redis.conf")); !strings.Contains(cm, "maxmemory-policy noeviction") || !strings.Contains(cm, "appendonly yes") {
		t.Errorf("sessions redis.conf:\n%s", cm)
	}
	// Varnish forwards to the shop's Service, which selects the shop's pods.
	vcl := fmt.Sprint(dig(objs["ConfigMap/shop-varnish"], "data", "default.vcl"))
	m := regexp.MustCompile(`\.host = "([^"]+)";\s*\.port = "([0-9]+)";`).FindStringSubmatch(vcl)
	if m == nil {
		t.Fatalf("no backend in the VCL:\n%s", vcl)
	}
	backend := objs["Service/"+m[1]]
	if backend == nil {
		t.Fatalf("Varnish's backend %s is not a Service of the release", m[1])
	}
	if !selects(backend, dep) {
		t.Errorf("Service/%s (Varnish's backend) does not select the shop's pods", m[1])
	}
	if cron := objs["CronJob/shop-magento-cron"]; selects(backend, map[string]any{"spec": dig(cron, "spec", "jobTemplate", "spec")}) {
		t.Errorf("Service/%s also selects the cron pods", m[1])
	}
	if got := fmt.Sprint(dig(backend, "spec", "ports", 0, "port")); got != m[2] {
		t.Errorf("Varnish forwards to port %s, Service/%s serves %s", m[2], m[1], got)
	}
	if !strings.Contains(vcl, "X-Magento-Tags-Pattern") {
		t.Error("Varnish runs the default VCL, not the Magento VCL from the requirement's values")
	}
	// OpenSearch admits the shop's pods.
	np := objs["NetworkPolicy/shop-search"]
	from := dig(np, "spec", "ingress", 0, "from", 0, "podSelector", "matchLabels", "app.kubernetes.io/instance")
	if from != dig(dep, "spec", "template", "metadata", "labels", "app.kubernetes.io/instance") {
		t.Errorf("OpenSearch's NetworkPolicy admits instance %v, not the shop's pods", from)
	}
	// Redis HA: preferred anti-affinity per node (so the shop installs on a
	// single node), required with hardAntiAffinity=true (production), and
	// a PodDisruptionBudget keeping a quorum.
	hardObjs := rendered(t, "stable/magento", render.TemplateOptions{ReleaseName: "shop", Namespace: ns,
		Values: map[string]any{"cache": map[string]any{"hardAntiAffinity": true}, "sessions": map[string]any{"hardAntiAffinity": true}}})
	for _, n := range []string{"shop-cache", "shop-sessions"} {
		sts := objs["StatefulSet/"+n]
		anti := dig(sts, "spec", "template", "spec", "affinity", "podAntiAffinity")
		if dig(anti, "preferredDuringSchedulingIgnoredDuringExecution", 0, "podAffinityTerm", "topologyKey") != "kubernetes.io/hostname" || dig(anti, "requiredDuringSchedulingIgnoredDuringExecution") != nil {
			t.Errorf("StatefulSet/%s anti-affinity by default is %v, want only preferred per node", n, anti)
		}
		anti = dig(hardObjs["StatefulSet/"+n], "spec", "template", "spec", "affinity", "podAntiAffinity")
		if dig(anti, "requiredDuringSchedulingIgnoredDuringExecution", 0, "topologyKey") != "kubernetes.io/hostname" {
			t.Errorf("StatefulSet/%s with hardAntiAffinity=true has anti-affinity %v, want required per node", n, anti)
		}
		if got := fmt.Sprint(dig(objs["PodDisruptionBudget/"+n], "spec", "minAvailable")); got != "2" {
			t.Errorf("PodDisruptionBudget/%s minAvailable = %s, want 2 of 3", n, got)
		}
	}
}
