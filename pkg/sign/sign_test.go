package sign

import (
	"errors"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func keyPair(t *testing.T, password []byte) ([]byte, Key) {
	t.Helper()
	priv, pub, err := GenerateKeyPair(password)
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadPublicKey("team.pub", pub)
	if err != nil {
		t.Fatal(err)
	}
	return priv, Key{Name: "team.pub", Key: k}
}

// signed is the signature with priv of the payload for
// reg.example.com/team/shop@digest.
func signed(t *testing.T, priv, password []byte, digest string) Signature {
	t.Helper()
	p, err := Payload("reg.example.com/team/shop", digest)
	if err != nil {
		t.Fatal(err)
	}
	return signedPayload(t, priv, password, p)
}

func TestSignatureTag(t *testing.T) {
	if got := SignatureTag(digestA); got != "sha256-"+strings.Repeat("a", 64)+".sig" {
		t.Fatal(got)
	}
}

func TestCheck(t *testing.T) {
	pw := []byte("pw")
	priv, key := keyPair(t, pw)
	otherPriv, other := keyPair(t, nil)
	good := signed(t, priv, pw, digestA)
	if k, err := Check(digestA, []Signature{signed(t, otherPriv, nil, digestA), good}, []Key{other, key}); err != nil || k.Key == nil {
		t.Fatalf("good signature: %v", err)
	}
	forged := good
	forged.Payload = []byte(strings.Replace(string(good.Payload), digestA, digestB, 1))
	for _, c := range []struct {
		name string
		sigs []Signature
		kind error
		want string
	}{
		{"unsigned", nil, ErrUnsigned, "unsigned: no signature at sha256-aaaa"},
		{"other key", []Signature{signed(t, otherPriv, nil, digestA)}, ErrUntrusted, "signed by another key: none of 1 signatures verifies with team.pub"},
		{"other digest", []Signature{signed(t, priv, pw, digestB)}, ErrTampered, "tampered: the signature (by team.pub) is of " + digestB + ", the manifest is " + digestA},
		{"payload edited", []Signature{forged}, ErrUntrusted, "signed by another key"},
		{"not a cosign payload", []Signature{signedPayload(t, priv, pw, []byte(`{"critical":{"type":"atomic container signature"}}`))}, ErrTampered, "tampered: the payload signed by team.pub is not a cosign simple-signing payload"},
		{"bad base64", []Signature{{Payload: good.Payload, Base64: "!!"}}, ErrUntrusted, "signed by another key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(digestA, c.sigs, []Key{key})
			if err == nil || !errors.Is(err, c.kind) || !errors.Is(err, errdefs.ErrFailed) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestLoadSigner(t *testing.T) {
	pw := []byte("pw")
	enc, _ := keyPair(t, pw)
	if !strings.Contains(string(enc), "ENCRYPTED SIGSTORE PRIVATE KEY") {
		t.Fatalf("not cosign's encrypted format:\n%s", enc)
	}
	plain, _ := keyPair(t, nil)
	if !strings.Contains(string(plain), "BEGIN PRIVATE KEY") {
		t.Fatalf("not PKCS#8:\n%s", plain)
	}
	if _, err := LoadSigner("cosign.key", plain, nil); err != nil {
		t.Fatal(err)
	}
	// Encrypted with an empty password (COSIGN_PASSWORD= cosign generate-key-pair).
	empty, _ := keyPair(t, []byte{})
	if !strings.Contains(string(empty), "ENCRYPTED") {
		t.Fatal("an empty password did not encrypt")
	}
	if _, err := LoadSigner("cosign.key", empty, nil); err != nil {
		t.Fatalf("empty password: %v", err)
	}
	for _, c := range []struct {
		name    string
		pem, pw []byte
		want    string
	}{
		{"no password", enc, nil, "cosign.key is encrypted: set $BUNDLE_SIGN_PASSWORD"},
		{"wrong password", enc, []byte("nope"), "cosign.key: wrong password"},
		{"junk", []byte("junk"), nil, "cosign.key: not a private key"},
	} {
		if _, err := LoadSigner("cosign.key", c.pem, c.pw); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func signedPayload(t *testing.T, priv, password, payload []byte) Signature {
	t.Helper()
	s, err := LoadSigner("cosign.key", priv, password)
	if err != nil {
		t.Fatal(err)
	}
	b64, err := Sign(s, payload)
	if err != nil {
		t.Fatal(err)
	}
	return Signature{Payload: payload, Base64: b64}
}
