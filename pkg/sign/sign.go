// Package sign makes and checks signatures of bundles pushed to OCI
// registries, in cosign's format so that cosign verifies them and bundle
// verifies cosign's: the simple-signing payload naming the manifest
// digest, signed with an ECDSA key (P-256, SHA-256), stored as a layer of
// the manifest tagged sha256-HEX.sig next to the bundle, its signature in
// the layer's dev.cosignproject.cosign/signature annotation (base64). No
// transparency log: a key pair, as cosign sign --key with --tlog-upload=false.
//
// The cryptography is sigstore's (github.com/sigstore/sigstore): key
// files (cosign's encrypted "ENCRYPTED SIGSTORE PRIVATE KEY" PEM, or an
// unencrypted PKCS#8 "PRIVATE KEY"), signing and verifying.
package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// cosign's names.
const (
	// PayloadMediaType is the media type of a signature's layer.
	PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation holds a layer's signature, base64.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// PasswordEnv and BundlePasswordEnv hold a private key's password
	// (the first set wins: BundlePasswordEnv, then PasswordEnv).
	PasswordEnv       = "COSIGN_PASSWORD"
	BundlePasswordEnv = "BUNDLE_SIGN_PASSWORD"
)

// Kinds of refusal; each also matches errdefs.ErrFailed.
var (
	// ErrUnsigned: no signature at all.
	ErrUnsigned = errors.New("unsigned")
	// ErrUntrusted: signatures, none by a trusted key.
	ErrUntrusted = errors.New("signed by another key")
	// ErrTampered: a trusted key signed another manifest digest.
	ErrTampered = errors.New("tampered")
)

// SignatureTag is the tag cosign gives the signatures of a manifest
// digest: sha256:HEX -> sha256-HEX.sig.
func SignatureTag(digest string) string { return strings.Replace(digest, ":", "-", 1) + ".sig" }

// Payload is the simple-signing payload cosign signs for a manifest:
// ref is the repository (HOST/NAMESPACE/NAME), digest sha256:HEX.
func Payload(ref, digest string) ([]byte, error) {
	return json.Marshal(payload.SimpleContainerImage{
		Critical: payload.Critical{
			Identity: payload.Identity{DockerReference: ref},
			Image:    payload.Image{DockerManifestDigest: digest},
			Type:     payload.CosignSignatureType,
		},
	})
}

// GenerateKeyPair returns a new ECDSA P-256 key pair as PEM: the private
// key encrypted with password as cosign generate-key-pair does, or
// unencrypted PKCS#8 when password is nil.
func GenerateKeyPair(password []byte) (priv, pub []byte, err error) {
	var pf cryptoutils.PassFunc
	if password != nil {
		pf = cryptoutils.StaticPasswordFunc(password)
	}
	return cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), pf)
}

// LoadSigner reads a private key file's content; password (may be nil)
// decrypts an encrypted one. file names it in errors.
func LoadSigner(file string, pemBytes, password []byte) (signature.Signer, error) {
	if bytes.Contains(pemBytes, []byte("ENCRYPTED")) && password == nil {
		// cosign encrypts with an empty password when told to.
		if s, err := LoadSigner(file, pemBytes, []byte{}); err == nil {
			return s, nil
		}
		return nil, errdefs.New(errdefs.ErrInvalid, "%s is encrypted: set $%s (or $%s) to its password", file, BundlePasswordEnv, PasswordEnv)
	}
	var pf cryptoutils.PassFunc
	if password != nil {
		pf = cryptoutils.StaticPasswordFunc(password)
	}
	k, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, pf)
	if err != nil {
		if strings.Contains(err.Error(), "decrypt") {
			return nil, errdefs.New(errdefs.ErrInvalid, "%s: wrong password", file)
		}
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: not a private key: %v", file, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errdefs.New(errdefs.ErrUnsupported, "%s: a %T: bundle signs with ECDSA keys (bundle sign generate-key)", file, k)
	}
	return signature.LoadECDSASigner(ec, crypto.SHA256)
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(file string, pemBytes []byte) (crypto.PublicKey, error) {
	k, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: not a PEM public key: %v", file, err)
	}
	return k, nil
}

// Sign signs a payload, returning the annotation's value (base64).
func Sign(s signature.Signer, payload []byte) (string, error) {
	sig, err := s.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Signature is one layer of a signature manifest: its payload and the
// annotation's base64 signature.
type Signature struct {
	Payload []byte
	Base64  string
}

// Key is a trusted public key and where it came from.
type Key struct {
	Name string // file, for messages
	Key  crypto.PublicKey
}

// Check finds a signature of digest by one of keys among sigs and returns
// that key; otherwise an error matching ErrUnsigned, ErrUntrusted or
// ErrTampered, with the reason in one phrase.
func Check(digest string, sigs []Signature, keys []Key) (Key, error) {
	if len(sigs) == 0 {
		return Key{}, errdefs.Wrap(errdefs.ErrFailed, ErrUnsigned, "unsigned: no signature at %s", SignatureTag(digest))
	}
	var tampered string
	for _, s := range sigs {
		raw, err := base64.StdEncoding.DecodeString(s.Base64)
		if err != nil {
			continue
		}
		for _, k := range keys {
			v, err := signature.LoadVerifier(k.Key, crypto.SHA256)
			if err != nil {
				continue
			}
			if v.VerifySignature(bytes.NewReader(raw), bytes.NewReader(s.Payload)) != nil {
				continue
			}
			var p payload.SimpleContainerImage
			if err := json.Unmarshal(s.Payload, &p); err != nil || p.Critical.Type != payload.CosignSignatureType {
				tampered = fmt.Sprintf("tampered: the payload signed by %s is not a cosign simple-signing payload", k.Name)
				continue
			}
			if got := p.Critical.Image.DockerManifestDigest; got != digest {
				tampered = fmt.Sprintf("tampered: the signature (by %s) is of %s, the manifest is %s", k.Name, got, digest)
				continue
			}
			return k, nil
		}
	}
	if tampered != "" {
		return Key{}, errdefs.Wrap(errdefs.ErrFailed, ErrTampered, "%s", tampered)
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return Key{}, errdefs.Wrap(errdefs.ErrFailed, ErrUntrusted, "signed by another key: none of %d signatures verifies with %s", len(sigs), strings.Join(names, ", "))
}
