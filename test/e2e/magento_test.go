package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestMagento installs stable/magento the way the README says, with --wait,
// and follows every wire on the live cluster: each host the shop is given
// is a Service whose endpoints are ready pods of the right workload, each
// Sentinel is a ready pod, each password a key of an existing Secret; the
// Redis pods are spread over nodes under a PodDisruptionBudget; everything
// is one release, and uninstall leaves nothing.
func TestMagento(t *testing.T) {
	e, ns := setupIn(t, "magento")
	ctx := context.Background()
	e.mustBundle(t, "install", "stable/magento", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")
	if st := e.mustBundle(t, "status", "magento", "-n", ns); !strings.Contains(st, "READY:      yes") {
		t.Errorf("status:\n%s", st)
	}
	rels, err := e.helmStorage(ns).ListDeployed()
	if err != nil || len(rels) != 1 {
		t.Fatalf("want one release in %s, got %d (%v)", ns, len(rels), err)
	}

	dep, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "magento", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]corev1.EnvVar{}
	for _, v := range dep.Spec.Template.Spec.Containers[0].Env {
		env[v.Name] = v
	}

	// servedBy checks host (NAME.NS.svc) is a Service of the release whose
	// endpoints include a ready pod named like podPrefix-*.
	servedBy := func(what, host, port, podPrefix string) {
		t.Helper()
		name, ok := strings.CutSuffix(host, "."+ns+".svc")
		if !ok {
			t.Errorf("%s = %q: not a Service of namespace %s", what, host, ns)
			return
		}
		svc, err := e.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s = %q: %v", what, host, err)
			return
		}
		found := false
		for _, p := range svc.Spec.Ports {
			if p.Port > 0 && port == itoa(int(p.Port)) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: Service %s does not serve port %s", what, name, port)
		}
		eventually(t, 60*time.Second, what+" has a ready endpoint in "+podPrefix, func() (bool, string) {
			slices, err := e.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
			if err != nil {
				return false, err.Error()
			}
			var seen []string
			for _, s := range slices.Items {
				for _, ep := range s.Endpoints {
					if ep.TargetRef == nil {
						continue
					}
					seen = append(seen, ep.TargetRef.Name)
					if ep.Conditions.Ready != nil && *ep.Conditions.Ready && strings.HasPrefix(ep.TargetRef.Name, podPrefix+"-") {
						return true, ""
					}
				}
			}
			return false, "endpoints: " + strings.Join(seen, ", ")
		})
	}
	servedBy("DB_HOST", env["DB_HOST"].Value, env["DB_PORT"].Value, "magento-database")
	servedBy("SEARCH_HOST", env["SEARCH_HOST"].Value, env["SEARCH_PORT"].Value, "magento-search")
	servedBy("VARNISH_HOST", env["VARNISH_HOST"].Value, env["VARNISH_PORT"].Value, "magento-varnish")

	// Varnish forwards to the shop's own pods.
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "magento-varnish", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\.host = "([^"]+)";\s*\.port = "([0-9]+)";`).FindStringSubmatch(cm.Data["default.vcl"])
	if m == nil {
		t.Fatalf("no backend in Varnish's VCL")
	}
	servedBy("Varnish's backend", m[1]+"."+ns+".svc", m[2], "magento")

	// Sentinels: ready pods of their StatefulSet, one per node.
	for _, inst := range []string{"CACHE", "SESSION"} {
		nodes := map[string]bool{}
		for _, s := range strings.Split(env[inst+"_SENTINELS"].Value, ",") {
			pod := strings.SplitN(s, ".", 2)[0]
			p, err := e.cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
			if err != nil {
				t.Errorf("%s_SENTINELS names %s: %v", inst, s, err)
				continue
			}
			if !podReady(p) {
				t.Errorf("Sentinel pod %s is not ready", pod)
			}
			if nodes[p.Spec.NodeName] {
				t.Errorf("two %s Redis pods on node %s despite anti-affinity", inst, p.Spec.NodeName)
			}
			nodes[p.Spec.NodeName] = true
			headless := strings.SplitN(strings.SplitN(s, ".", 3)[1], ":", 2)[0]
			if _, err := e.cs.CoreV1().Services(ns).Get(ctx, headless, metav1.GetOptions{}); err != nil {
				t.Errorf("Sentinel %s: headless Service: %v", s, err)
			}
		}
		if len(nodes) != 3 {
			t.Errorf("%s: Sentinels on %d nodes, want 3", inst, len(nodes))
		}
	}
	// Every password is a key of a Secret that exists.
	for _, k := range []string{"DB_PASSWORD", "CACHE_PASSWORD", "SESSION_PASSWORD", "CRYPT_KEY"} {
		ref := env[k].ValueFrom.SecretKeyRef
		s, err := e.cs.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s: %v", k, err)
		} else if len(s.Data[ref.Key]) == 0 {
			t.Errorf("%s: Secret %s has no key %s", k, ref.Name, ref.Key)
		}
	}
	// The quorum is protected.
	for _, n := range []string{"magento-cache", "magento-sessions"} {
		eventually(t, 60*time.Second, "PodDisruptionBudget "+n, func() (bool, string) {
			pdb, err := e.cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return pdb.Status.CurrentHealthy == 3 && pdb.Status.DisruptionsAllowed == 1,
				"healthy " + itoa(int(pdb.Status.CurrentHealthy)) + ", disruptions allowed " + itoa(int(pdb.Status.DisruptionsAllowed))
		})
	}

	e.mustBundle(t, "uninstall", "magento", "-n", ns, "--delete-data", "--wait")
	e.emptied(t, ns)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func itoa(i int) string {
	return strconv.Itoa(i)
}
