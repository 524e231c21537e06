package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/sign"
)

// Bounds on what a signature manifest makes bundle read.
const (
	maxPayloadSize = 64 << 10
	maxSignatures  = 64
)

// resolveManifest is the descriptor of the manifest a tag or digest names.
func (o *OCI) resolveManifest(ctx context.Context, r *remote.Repository, name, reference string) (ocispec.Descriptor, error) {
	desc, err := r.Resolve(ctx, reference)
	if err != nil {
		where := fmt.Sprintf("oci://%s/%s@%s", o.base, name, reference)
		if errors.Is(err, errdef.ErrNotFound) {
			return desc, errdefs.New(ErrNotFound, "%s not found", where)
		}
		return desc, o.explain(where, err)
	}
	return desc, nil
}

// Sign signs the manifest a tag or digest names with s, as cosign sign
// --key does without a transparency log: the simple-signing payload of
// HOST/NS/NAME@DIGEST is added as a layer to the manifest tagged
// sha256-HEX.sig (kept signatures and all). It returns the manifest's
// digest and the signature tag.
func (o *OCI) Sign(ctx context.Context, name, reference string, s signature.Signer) (string, string, error) {
	r, err := o.repository(name)
	if err != nil {
		return "", "", err
	}
	desc, err := o.resolveManifest(ctx, r, name, reference)
	if err != nil {
		return "", "", err
	}
	dgst := desc.Digest.String()
	tag := sign.SignatureTag(dgst)
	where := fmt.Sprintf("oci://%s/%s:%s", o.base, name, tag)
	payload, err := sign.Payload(o.base+"/"+name, dgst)
	if err != nil {
		return "", "", err
	}
	sig, err := sign.Sign(s, payload)
	if err != nil {
		return "", "", fmt.Errorf("signing %s: %v", dgst, err)
	}
	_, old, err := o.signatures(ctx, r, name, dgst)
	if err != nil {
		return "", "", err
	}
	layer := content.NewDescriptorFromBytes(sign.PayloadMediaType, payload)
	layer.Annotations = map[string]string{sign.SignatureAnnotation: sig}
	layers := append(old, layer)
	if err := r.Push(ctx, layer, bytes.NewReader(payload)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return "", "", o.explain(where, err)
	}
	// The config of an image whose layers are the payloads, as cosign
	// writes it.
	diffIDs := make([]digest.Digest, len(layers))
	for i, l := range layers {
		diffIDs[i] = l.Digest
	}
	config, err := json.Marshal(ocispec.Image{
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		return "", "", err
	}
	configDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, config)
	if err := r.Push(ctx, configDesc, bytes.NewReader(config)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return "", "", o.explain(where, err)
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    layers,
	})
	if err != nil {
		return "", "", err
	}
	if _, err := oras.TagBytes(ctx, r, ocispec.MediaTypeImageManifest, manifest, tag); err != nil {
		return "", "", o.explain(where, err)
	}
	return dgst, tag, nil
}

// signatures reads the signature manifest of a digest: its payloads and
// signatures, and its layers (none when there is no manifest).
func (o *OCI) signatures(ctx context.Context, r *remote.Repository, name, dgst string) ([]sign.Signature, []ocispec.Descriptor, error) {
	tag := sign.SignatureTag(dgst)
	where := fmt.Sprintf("oci://%s/%s:%s", o.base, name, tag)
	_, data, err := oras.FetchBytes(ctx, r, tag, oras.FetchBytesOptions{MaxBytes: maxManifestSize})
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, nil, nil
		}
		return nil, nil, o.explain(where, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: bad manifest: %v", where, err)
	}
	if len(m.Layers) > maxSignatures {
		return nil, nil, fmt.Errorf("%s: %d signatures, over the limit of %d", where, len(m.Layers), maxSignatures)
	}
	var sigs []sign.Signature
	for _, l := range m.Layers {
		b64, ok := l.Annotations[sign.SignatureAnnotation]
		if l.MediaType != sign.PayloadMediaType || !ok {
			continue
		}
		if l.Size > maxPayloadSize {
			return nil, nil, fmt.Errorf("%s: a payload of %d bytes, over the %d-byte limit", where, l.Size, maxPayloadSize)
		}
		p, err := content.FetchAll(ctx, r, l)
		if err != nil {
			return nil, nil, o.explain(where, err)
		}
		sigs = append(sigs, sign.Signature{Payload: p, Base64: b64})
	}
	return sigs, m.Layers, nil
}

func (o *OCI) verify(ctx context.Context, r *remote.Repository, name, dgst string, keys []sign.Key) (sign.Key, error) {
	sigs, _, err := o.signatures(ctx, r, name, dgst)
	if err != nil {
		return sign.Key{}, err
	}
	return sign.Check(dgst, sigs, keys)
}

// Verify checks that one of keys signed the manifest a tag or digest
// names, returning its digest and the key. Refusals match
// sign.ErrUnsigned, sign.ErrUntrusted or sign.ErrTampered.
func (o *OCI) Verify(ctx context.Context, name, reference string, keys []sign.Key) (string, sign.Key, error) {
	r, err := o.repository(name)
	if err != nil {
		return "", sign.Key{}, err
	}
	desc, err := o.resolveManifest(ctx, r, name, reference)
	if err != nil {
		return "", sign.Key{}, err
	}
	k, err := o.verify(ctx, r, name, desc.Digest.String(), keys)
	if err != nil {
		return desc.Digest.String(), k, errdefs.Wrap(errdefs.ErrFailed, err, "oci://%s/%s@%s (%s): %v", o.base, name, reference, desc.Digest, err)
	}
	return desc.Digest.String(), k, nil
}
