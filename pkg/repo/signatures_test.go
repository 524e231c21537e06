package repo

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/resolve"
	"github.com/bundlesh/bundle/pkg/sign"
)

type testKey struct {
	priv []byte
	key  sign.Key
}

func newKey(t *testing.T, name string) testKey {
	t.Helper()
	priv, pub, err := sign.GenerateKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sign.LoadPublicKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv, sign.Key{Name: name, Key: k}}
}

func (k testKey) sign(t *testing.T, o *OCI, name, ref string) string {
	t.Helper()
	s, err := sign.LoadSigner("cosign.key", k.priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := o.Sign(context.Background(), name, ref, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	o, _ := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true})
	d1, err := o.Push(ctx, testregistry.Leaf(t, "1.0.0", "a: 1\n"), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	team, ops, stranger := newKey(t, "team.pub"), newKey(t, "ops.pub"), newKey(t, "stranger.pub")
	if d := team.sign(t, o, "leaf", "1.0.0"); d != d1 {
		t.Fatalf("signed %s, pushed %s", d, d1)
	}
	ops.sign(t, o, "leaf", d1) // by digest; a second signature is added
	for _, k := range []sign.Key{team.key, ops.key} {
		if d, got, err := o.Verify(ctx, "leaf", "1.0.0", []sign.Key{stranger.key, k}); err != nil || d != d1 || got.Name != k.Name {
			t.Fatalf("verify with %s: %s %s %v", k.Name, d, got.Name, err)
		}
	}
	if _, _, err := o.Verify(ctx, "leaf", "1.0.0", []sign.Key{stranger.key}); !errors.Is(err, sign.ErrUntrusted) ||
		!strings.Contains(err.Error(), "oci://"+host+"/bundles/leaf@1.0.0 ("+d1+"): signed by another key: none of 2 signatures verifies with stranger.pub") {
		t.Fatalf("stranger: %v", err)
	}
	if _, err := o.Push(ctx, testregistry.Leaf(t, "2.0.0", "a: 1\n"), PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Verify(ctx, "leaf", "2.0.0", []sign.Key{team.key}); !errors.Is(err, sign.ErrUnsigned) || !errors.Is(err, errdefs.ErrFailed) {
		t.Fatalf("unsigned: %v", err)
	}
	if _, _, err := o.Verify(ctx, "leaf", "3.0.0", []sign.Key{team.key}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
}

// TestPolicyRefuses: under a policy, Load and Pull return only bundles a
// trusted key signed, and say in one line why they refuse the others.
func TestPolicyRefuses(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	plain, _ := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true})
	team, stranger := newKey(t, "team.pub"), newKey(t, "stranger.pub")
	push := func(version, data string, force bool) string {
		d, err := plain.Push(ctx, testregistry.Leaf(t, version, data), PushOptions{Force: force})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	push("1.0.0", "a: 1\n", false)
	team.sign(t, plain, "leaf", "1.0.0")
	push("2.0.0", "a: 2\n", false) // unsigned
	push("3.0.0", "a: 3\n", false)
	stranger.sign(t, plain, "leaf", "3.0.0")
	// 4.0.0: signed, then replaced (push --force): the new manifest's
	// digest has no signature.
	push("4.0.0", "a: 4\n", false)
	team.sign(t, plain, "leaf", "4.0.0")
	push("4.0.0", "a: 44\n", true)
	// 5.0.0: the signature of 1.0.0's digest copied to 5.0.0's.
	d5 := push("5.0.0", "a: 5\n", false)
	d1, _, _ := plain.Pull(ctx, "leaf", "1.0.0")
	r, _ := remote.NewRepository(host + "/bundles/leaf")
	r.PlainHTTP = true
	_, sig1, err := oras.FetchBytes(ctx, r, sign.SignatureTag(d1.SourceDigest), oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(ctx, r, ocispec.MediaTypeImageManifest, sig1, sign.SignatureTag(d5)); err != nil {
		t.Fatal(err)
	}

	policy := &sign.Policy{File: "policy.yaml", Rules: []sign.Rule{{Prefix: host + "/bundles", Keys: []sign.Key{team.key}, Line: 2}}}
	o, _ := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true, Policy: policy})
	if b, err := o.Load(ctx, "leaf", semver.MustParse("1.0.0")); err != nil || b.Version.String() != "1.0.0" {
		t.Fatalf("signed bundle: %v", err)
	}
	for _, c := range []struct {
		version string
		kind    error
		want    string
	}{
		{"2.0.0", sign.ErrUnsigned, "unsigned: no signature at sha256-"},
		{"3.0.0", sign.ErrUntrusted, "signed by another key: none of 1 signatures verifies with team.pub"},
		{"4.0.0", sign.ErrUnsigned, "unsigned: no signature at sha256-"},
		{"5.0.0", sign.ErrTampered, "tampered: the signature (by team.pub) is of " + d1.SourceDigest + ", the manifest is " + d5},
	} {
		_, err := o.Load(ctx, "leaf", semver.MustParse(c.version))
		prefix := "oci://" + host + "/bundles/leaf@" + c.version + " (sha256:"
		if err == nil || !errors.Is(err, c.kind) || !strings.HasPrefix(err.Error(), prefix) ||
			!strings.Contains(err.Error(), ") refused by the signature policy (policy.yaml:2): "+c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want %q", c.version, err, c.want)
		}
	}

	// Through a Set, as plan and every command load bundles; other
	// repositories are not under the rule.
	set := NewSetWith(nil, SetOptions{OCI: OCIOptions{PlainHTTP: true, Policy: policy}})
	ref, _ := ParseReference("oci://" + host + "/bundles/leaf")
	if _, err := set.LoadReference(ctx, ref, nil); !errors.Is(err, sign.ErrTampered) {
		t.Fatalf("newest (5.0.0) through a set: %v", err)
	}
	if b, err := set.Load(ctx, resolve.Ref{Repository: "oci://" + host + "/bundles", Name: "leaf"}, semver.MustParse("1.0.0")); err != nil || b.Version.String() != "1.0.0" {
		t.Fatalf("signed through a set: %v", err)
	}
	other, _ := NewOCI("oci://"+host+"/elsewhere", OCIOptions{PlainHTTP: true})
	if _, err := other.Push(ctx, testregistry.Leaf(t, "1.0.0", "a: 1\n"), PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := set.Load(ctx, resolve.Ref{Repository: "oci://" + host + "/elsewhere", Name: "leaf"}, semver.MustParse("1.0.0")); err != nil {
		t.Fatalf("outside the policy: %v", err)
	}
}

// An archive carries a bundle's signatures to the mirror, where a policy
// naming the mirror holds with the same keys.
func TestArchiveCarriesSignatures(t *testing.T) {
	ctx := context.Background()
	a := startRegistry(t)
	src, _ := NewOCI("oci://"+a+"/bundles", OCIOptions{PlainHTTP: true})
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := src.Push(ctx, testregistry.Leaf(t, v, "a: 1\n"), PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	team := newKey(t, "team.pub")
	team.sign(t, src, "leaf", "1.0.0")

	dir := t.TempDir()
	w, err := NewArchiveWriter(filepath.Join(dir, "layout"), OCIOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		b, err := src.Load(ctx, "leaf", semver.MustParse(v))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddBundle(ctx, b, "oci://"+a+"/bundles"); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "x.tar")
	if err := w.WriteTar(file); err != nil {
		t.Fatal(err)
	}
	idx, err := ReadArchiveIndex(file)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Bundles[0].Signatures == "" || idx.Bundles[1].Signatures != "" {
		t.Fatalf("index: %+v", idx.Bundles)
	}
	b := startRegistry(t)
	for i := 0; i < 2; i++ { // the second push finds the signatures there
		if _, err := PushArchive(ctx, file, "oci://"+b+"/mirror", OCIOptions{PlainHTTP: true}, ArchivePushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	policy := &sign.Policy{File: "policy.yaml", Rules: []sign.Rule{{Prefix: b + "/mirror", Keys: []sign.Key{team.key}, Line: 2}}}
	m, _ := NewOCI("oci://"+b+"/mirror", OCIOptions{PlainHTTP: true, Policy: policy})
	if _, err := m.Load(ctx, "leaf", semver.MustParse("1.0.0")); err != nil {
		t.Fatalf("signed bundle at the mirror: %v", err)
	}
	if _, err := m.Load(ctx, "leaf", semver.MustParse("2.0.0")); !errors.Is(err, sign.ErrUnsigned) {
		t.Fatalf("unsigned bundle at the mirror: %v", err)
	}
}
