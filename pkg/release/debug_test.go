package release

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/internal/releasetest"
)

// secretValue is a value the user set, which --debug never shows.
const secretValue = "hunter2-s3cr3t"

// A client made with KubeOptions.Debug logs what it sends to the cluster,
// but neither its bearer token nor the values inside Helm's release
// Secrets (which hold every value the user set).
func TestDebugClient(t *testing.T) {
	rel := releasetest.Release("wiki", "team", 1, rcommon.StatusDeployed, "mediawiki", "1.1.0", "1.41")
	rel.Config = map[string]any{"database": map[string]any{"password": secretValue}}
	kubeconfig := releasetest.APIServer(t, "team", rel)

	var debug bytes.Buffer
	c, err := New(KubeOptions{Kubeconfig: kubeconfig, Debug: &debug}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("debug output:\n%s", debug.String())
		}
	}()
	rels, err := c.List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 || rels[0].Name != "wiki" || rels[0].Values["database"].(map[string]any)["password"] != secretValue {
		t.Fatalf("the fake API server did not serve the release: %+v", rels)
	}
	got := debug.String()
	for _, want := range []string{"/version", "debug: -> GET https://127.0.0.1:", "/api/v1/namespaces/team/secrets?labelSelector=owner%3Dhelm", "debug: <- 200 OK GET", "Authorization: Bearer <redacted>"} {
		if !strings.Contains(got, want) {
			t.Errorf("debug output lacks %q:\n%s", want, got)
		}
	}
	for _, leak := range []string{releasetest.Token, secretValue, base64.StdEncoding.EncodeToString([]byte(secretValue))} {
		if strings.Contains(got, leak) {
			t.Errorf("debug output shows %.40q", leak)
		}
	}
}
