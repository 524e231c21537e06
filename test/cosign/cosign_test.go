// Package cosign checks bundle's signatures against sigstore's cosign
// library, independently of bundle's own verification: what bundle sign
// stores verifies with cosign.VerifyImageSignatures, and the key files of
// bundle sign generate-key load with cosign's own loader.
package cosign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigpayload "github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/sign"
)

// pushed starts a registry and pushes bundle leaf at each of versions to
// its repository bundles; it returns the registry's host, the repository
// and the digest of the first version.
func pushed(t *testing.T, versions ...string) (string, *repo.OCI, string) {
	t.Helper()
	host := testregistry.Start(t)
	o, err := repo.NewOCI("oci://"+host+"/bundles", repo.OCIOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for i, v := range versions {
		d, err := o.Push(context.Background(), testregistry.Leaf(t, v, ""), repo.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = d
		}
	}
	return host, o, first
}

func TestCosignVerifiesBundleSignatures(t *testing.T) {
	start := time.Now()
	ctx := context.Background()
	host, o, dgst := pushed(t, "1.0.0")
	password := []byte("correct horse")
	privPEM, pubPEM, err := sign.GenerateKeyPair(password)
	if err != nil {
		t.Fatal(err)
	}
	// cosign reads the private key bundle wrote (encrypted, cosign's format).
	if _, err := cosign.LoadPrivateKey(privPEM, password, nil); err != nil {
		t.Fatalf("cosign cannot load bundle's key: %v", err)
	}
	signer, err := sign.LoadSigner("cosign.key", privPEM, password)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := o.Sign(ctx, "leaf", "1.0.0", signer); err != nil || got != dgst {
		t.Fatalf("sign: %s %v (want %s)", got, err, dgst)
	}

	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/bundles/leaf@"+dgst, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	co := &cosign.CheckOpts{SigVerifier: verifier, IgnoreTlog: true, IgnoreSCT: true, ClaimVerifier: cosign.SimpleClaimVerifier}
	sigs, _, err := cosign.VerifyImageSignatures(ctx, ref, co)
	if err != nil {
		t.Fatalf("cosign refuses bundle's signature: %v", err)
	}
	if len(sigs) != 1 {
		t.Fatalf("cosign verified %d signatures, want 1", len(sigs))
	}

	// Another key: cosign refuses too, so the check above means something.
	_, otherPEM, _ := sign.GenerateKeyPair(nil)
	other, _ := cryptoutils.UnmarshalPEMToPublicKey(otherPEM)
	co.SigVerifier, _ = signature.LoadVerifier(other, crypto.SHA256)
	if _, _, err := cosign.VerifyImageSignatures(ctx, ref, co); err == nil {
		t.Fatal("cosign verified bundle's signature with another key")
	}
	t.Logf("sign + cosign verify: %v", time.Since(start))
}

// TestBundleVerifiesCosignSignatures: a signature written by cosign's
// library, as cosign sign --key --tlog-upload=false writes it, with a key
// pair cosign generated, verifies with bundle verify's code and satisfies a
// policy; a bundle cosign did not sign is refused.
func TestBundleVerifiesCosignSignatures(t *testing.T) {
	start := time.Now()
	ctx := context.Background()
	host, o, dgst := pushed(t, "1.0.0", "2.0.0")
	// The key pair cosign generate-key-pair writes.
	password := []byte("pw")
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		t.Fatal(err)
	}
	privPEM, pubPEM := kb.PrivateBytes, kb.PublicBytes
	sv, err := cosign.LoadPrivateKey(privPEM, password, nil)
	if err != nil {
		t.Fatal(err)
	}
	// bundle sign reads cosign's private key too.
	if _, err := sign.LoadSigner("cosign.key", privPEM, password); err != nil {
		t.Fatalf("bundle cannot load cosign's key: %v", err)
	}

	ref, err := name.ParseReference(host+"/bundles/leaf@"+dgst, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	d := ref.(name.Digest)
	payload, err := (sigpayload.Cosign{Image: d}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sv.SignMessage(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := static.NewSignature(payload, base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	se, err := ociremote.SignedEntity(ref)
	if err != nil {
		t.Fatal(err)
	}
	if se, err = mutate.AttachSignatureToEntity(se, sig); err != nil {
		t.Fatal(err)
	}
	if err := ociremote.WriteSignatures(d.Repository, se); err != nil {
		t.Fatalf("cosign writing its signature: %v", err)
	}

	pub, err := sign.LoadPublicKey("cosign.pub", pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	keys := []sign.Key{{Name: "cosign.pub", Key: pub}}
	if got, _, err := o.Verify(ctx, "leaf", "1.0.0", keys); err != nil || got != dgst {
		t.Fatalf("bundle refuses cosign's signature: %s %v", got, err)
	}
	policy := &sign.Policy{File: "policy.yaml", Rules: []sign.Rule{{Prefix: host + "/bundles", Keys: keys, Line: 2}}}
	checked, _ := repo.NewOCI("oci://"+host+"/bundles", repo.OCIOptions{PlainHTTP: true, Policy: policy})
	if _, _, err := checked.Pull(ctx, "leaf", "1.0.0"); err != nil {
		t.Fatalf("policy refuses cosign's signature: %v", err)
	}
	if _, _, err := checked.Pull(ctx, "leaf", "2.0.0"); !errors.Is(err, sign.ErrUnsigned) {
		t.Fatalf("unsigned 2.0.0 under the policy: %v", err)
	}
	t.Logf("cosign sign + bundle verify: %v", time.Since(start))
}
