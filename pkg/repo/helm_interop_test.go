package repo

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"

	"github.com/bundlesh/bundle/internal/testregistry"
)

// Helm's own registry client pulls and loads a bundle bundle pushed, and
// bundle pulls a chart Helm pushed.
func TestHelmInterop(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	helm, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true})

	// bundle -> Helm.
	if _, err := o.Push(ctx, testregistry.Leaf(t, "1.2.3", "a: 1\n"), PushOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := helm.Pull(host+"/bundles/leaf:1.2.3", registry.PullOptWithChart(true))
	if err != nil {
		t.Fatalf("Helm cannot pull what bundle pushed: %v", err)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(res.Chart.Data))
	if err != nil || ch.Metadata.Name != "leaf" || ch.Metadata.Version != "1.2.3" {
		t.Fatalf("Helm loads %v, %v", ch, err)
	}

	// Helm -> bundle.
	pkg := testregistry.Leaf(t, "2.0.0+build.7", "a: 2\n")
	if _, err := helm.Push(pkg, host+"/bundles/leaf:2.0.0_build.7", registry.PushOptStrictMode(false)); err != nil {
		t.Fatalf("Helm push: %v", err)
	}
	b, err := o.Load(ctx, "leaf", semver.MustParse("2.0.0+build.7"))
	if err != nil {
		t.Fatalf("bundle cannot load what Helm pushed: %v", err)
	}
	if b.SourceDigest == "" {
		t.Error("no manifest digest recorded")
	}
}
