package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestConditionalRequirement switches WordPress's optional Memcached on at
// install, off at upgrade (its objects go, the app is unwired) and back on
// with a rollback (objects and wiring return).
func TestConditionalRequirement(t *testing.T) {
	e, ns := setupIn(t, "condition")
	ctx := context.Background()
	memcachedEnv := func() string {
		d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "blog-wordpress", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range d.Spec.Template.Spec.Containers[0].Env {
			if v.Name == "WORDPRESS_MEMCACHED" {
				return v.Value
			}
		}
		return ""
	}
	// cacheState is what bundle status -o json says of the cache.
	cacheState := func() string {
		var st struct {
			Requires []struct {
				Instance, Condition string
				Disabled            bool
			}
		}
		if err := json.Unmarshal([]byte(e.mustBundle(t, "status", "blog", "-n", ns, "-o", "json")), &st); err != nil {
			t.Fatal(err)
		}
		for _, r := range st.Requires {
			if r.Instance == "cache" {
				if r.Disabled {
					return "disabled by " + r.Condition
				}
				return "installed"
			}
		}
		return "absent"
	}
	cacheExists := func() bool {
		_, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "blog-cache", metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	e.mustBundle(t, "install", "blog", "stable/wordpress", "-n", ns, "--create-namespace", "--wait", "--timeout", "2m", "--set", "objectCache.enabled=true")
	if !cacheExists() {
		t.Fatal("objectCache.enabled=true did not install the cache requirement")
	}
	if got := memcachedEnv(); got != "blog-cache."+ns+".svc:11211" {
		t.Errorf("WORDPRESS_MEMCACHED = %q, want the cache's Service", got)
	}
	if _, err := e.cs.CoreV1().Services(ns).Get(ctx, "blog-cache", metav1.GetOptions{}); err != nil {
		t.Errorf("the Service WORDPRESS_MEMCACHED names: %v", err)
	}
	if got := cacheState(); got != "installed" {
		t.Errorf("status says the cache is %s, want installed", got)
	}

	e.mustBundle(t, "upgrade", "blog", "stable/wordpress", "-n", ns, "--wait", "--set", "objectCache.enabled=false")
	eventually(t, 60*time.Second, "cache removed after the upgrade switched it off", func() (bool, string) {
		return !cacheExists(), "Deployment blog-cache still there"
	})
	if got := memcachedEnv(); got != "" {
		t.Errorf("after switching the cache off, WORDPRESS_MEMCACHED = %q", got)
	}
	if got := cacheState(); got != "disabled by objectCache.enabled" {
		t.Errorf("status says the cache is %s, want disabled by objectCache.enabled", got)
	}
	if out := e.mustBundle(t, "status", "blog", "-n", ns); !strings.Contains(out, "not installed: disabled (objectCache.enabled is false)") {
		t.Errorf("status does not say the cache is disabled:\n%s", out)
	}

	e.mustBundle(t, "rollback", "blog", "1", "-n", ns, "--wait")
	if !cacheExists() || !strings.HasPrefix(memcachedEnv(), "blog-cache.") {
		t.Error("rollback did not bring the cache and its wiring back")
	}
	e.mustBundle(t, "uninstall", "blog", "-n", ns, "--delete-data", "--wait")
	e.emptied(t, ns)
}
