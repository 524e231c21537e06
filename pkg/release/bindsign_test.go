package release

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/sign"
)

// A provider from an OCI registry records its manifest digest (as a lock
// does), and a binding loads its bundle through the repositories as any
// bundle is loaded: the consumer's signature policy applies to the
// provider's bundle, whose claims and outputs it renders. Fails before
// the fix: no digest was recorded, and the record's claims were rendered
// without asking the registry.
func TestBindProviderSignaturePolicy(t *testing.T) {
	ctx := context.Background()
	lab, f, _ := bindLab(t)
	claimLab(t, lab)
	host := testregistry.Start(t)
	reg := "oci://" + host + "/bundles"
	o, err := repo.NewOCI(reg, repo.OCIOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	cdb, err := lab.Load(ctx, "cdb", mustVersion(t, "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := cdb.Package()
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := o.Push(ctx, pkg, repo.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lab.Put(t, "ocapp", "1.0.0", map[string]string{
		"bundle.yaml":       "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: cdb, repository: '" + reg + "', version: ^1.0.0, outputs: [host, secret]}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\ndata:\n  secret: {{ .Values.requires.database.secret | quote }}\n",
	})
	plain := repo.NewSetWith(map[string]repo.Repository{"lab": lab}, repo.SetOptions{OCI: repo.OCIOptions{PlainHTTP: true}})
	if _, err := NewWithEnv(envOf(f), plain).Install(ctx, InstallOptions{Source: plan.Source{Reference: reg + "/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	if got := f.Last(t, "shared").Chart.Metadata.Annotations[plan.DigestAnnotation]; got != manifest {
		t.Errorf("the provider records digest %q, want its manifest's %q", got, manifest)
	}

	priv, pub, err := sign.GenerateKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey("team.pub", pub)
	if err != nil {
		t.Fatal(err)
	}
	policy := &sign.Policy{File: "policy.yaml", Rules: []sign.Rule{{Prefix: host + "/bundles", Keys: []sign.Key{{Name: "team.pub", Key: key}}, Line: 2}}}
	consumer := func() *Client {
		set := repo.NewSetWith(map[string]repo.Repository{"lab": lab}, repo.SetOptions{OCI: repo.OCIOptions{PlainHTTP: true, Policy: policy}})
		return NewWithEnv(envOf(f), set) // of the provider's namespace: it reads the record
	}
	install := func() error {
		_, err := consumer().Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/ocapp", Bind: []string{"database=shared"}}, ReleaseName: "wiki"})
		return err
	}
	err = install()
	if err == nil || !errors.Is(err, sign.ErrUnsigned) || strings.Contains(err.Error(), "\n") ||
		!strings.HasPrefix(err.Error(), "bind database=data/shared: loading cdb 1.0.0 from "+reg+": ") || !strings.Contains(err.Error(), "refused by the signature policy (policy.yaml:2)") {
		t.Fatalf("a provider bundle the policy refuses: %v", err)
	}
	s, err := sign.LoadSigner("cosign.key", priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Sign(ctx, "cdb", "1.0.0", s); err != nil {
		t.Fatal(err)
	}
	if err := install(); err != nil {
		t.Errorf("a provider bundle signed as the policy asks: %v", err)
	}
}

// teamEnv is the environment of a client of namespace team over f.
func teamEnv(f *releasetest.Fixture) *Env {
	env := envOf(f)
	env.Config, env.Namespace = f.ConfigFor("team"), "team"
	return env
}
