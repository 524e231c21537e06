package repo

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/sign"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// Helm's OCI media types: a bundle pushed by bundle is a Helm OCI chart.
const (
	ConfigMediaType     = "application/vnd.cncf.helm.config.v1+json"
	ChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// maxManifestSize bounds a manifest download.
const maxManifestSize = 4 << 20

// OCIOptions configure access to OCI registries.
type OCIOptions struct {
	// PlainHTTP talks HTTP instead of HTTPS (only when the user asks).
	PlainHTTP bool
	// Insecure skips TLS certificate verification (only when the user
	// asks, with --insecure-skip-tls-verify).
	Insecure bool
	// Client makes the requests; nil means an oras-go auth client (TLS
	// verification on, retries, the Timeouts) with Credentials.
	Client remote.Client
	// Timeouts bound each request (zero fields: the defaults, as for
	// HTTPOptions); Timeouts.Request bounds a request with its retries.
	Timeouts Timeouts
	// Credentials are the logins to use (bundle login, docker login); nil
	// means anonymous.
	Credentials credentials.Store
	// Progress, when set (a terminal), receives a progress bar per blob
	// pushed or pulled.
	Progress io.Writer
	// Policy, when set, says whose signatures the bundles of which
	// repositories need: a bundle under one of its rules is refused,
	// before its chart is fetched, without a valid signature by a key
	// the rule trusts (see docs/signing.md).
	Policy *sign.Policy
	// PolicyErr, when set, is why the policy could not be read: every
	// bundle from an OCI registry is refused with it (a policy that cannot
	// be read trusts nothing).
	PolicyErr error
}

// httpClient retries like oras-go's default client, with the timeouts;
// with Insecure it does not verify certificates.
func (o OCIOptions) httpClient() *http.Client {
	tr := o.Timeouts.transport()
	if o.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	return &http.Client{Transport: retry.NewTransport(tr), Timeout: o.Timeouts.withDefaults().Request}
}

// client returns the HTTP client for registry requests.
func (o OCIOptions) client() remote.Client {
	if o.Client != nil {
		return o.Client
	}
	c := &auth.Client{Client: o.httpClient(), Cache: auth.NewCache()}
	c.SetUserAgent("bundle")
	if o.Credentials != nil {
		c.Credential = credentials.Credential(o.Credentials)
	}
	return c
}

// OCI is a namespace in an OCI registry (oci://HOST/NAMESPACE) holding one
// repository per bundle, tagged by version ("+" written "_", as Helm does).
type OCI struct {
	base string // HOST/NAMESPACE
	opts OCIOptions

	loaded memo[*bundle.Bundle]
}

// NewOCI returns the registry namespace an oci:// address names.
func NewOCI(address string, opts OCIOptions) (*OCI, error) {
	if clean, had := bundle.StripCredentials(address); had {
		host, _, _ := strings.Cut(strings.TrimPrefix(clean, "oci://"), "/")
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"login", host}}},
			"%s holds a user name or password, which would be stored and printed with the address: drop them", clean)
	}
	base, ok := strings.CutPrefix(address, "oci://")
	base = strings.TrimSuffix(base, "/")
	if !ok || base == "" || strings.Contains(base, "@") {
		return nil, fmt.Errorf("%q is not an oci://HOST/NAMESPACE address", address)
	}
	return &OCI{base: base, opts: opts}, nil
}

func (o *OCI) repository(name string) (*remote.Repository, error) {
	r, err := remote.NewRepository(o.base + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("oci://%s/%s: %v", o.base, name, err)
	}
	r.PlainHTTP = o.opts.PlainHTTP
	r.Client = o.opts.client()
	return r, nil
}

// explain turns registry errors into one line, saying how to log in when
// the registry wants credentials. Credentials themselves never appear.
func (o *OCI) explain(where string, err error) error {
	var er *errcode.ErrorResponse
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		er = &errcode.ErrorResponse{StatusCode: http.StatusUnauthorized}
	}
	if er != nil || (errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden)) {
		host, _, _ := strings.Cut(o.base, "/")
		tried := "no credentials were found for " + host
		if o.opts.Credentials != nil {
			if c, cerr := o.opts.Credentials.Get(context.Background(), host); cerr == nil && c != auth.EmptyCredential {
				tried = "the stored login for " + host + " (user " + c.Username + ") was refused"
			}
		}
		return errdefs.Fixable(errdefs.ErrUnreachable, []errdefs.Fix{{Run: []string{"login", host}}}, "%s: %d %s: %s", where, er.StatusCode, http.StatusText(er.StatusCode), tried)
	}
	return fmt.Errorf("%s: %v", where, err)
}

// TagOf is the OCI tag of a version: "+" cannot be in a tag, so Helm writes
// 1.0.0+b1 as 1.0.0_b1.
func TagOf(v *semver.Version) string { return strings.ReplaceAll(v.String(), "+", "_") }

// Versions implements Repository by listing tags, keeping strict semver ones.
func (o *OCI) Versions(ctx context.Context, name string) ([]*semver.Version, error) {
	r, err := o.repository(name)
	if err != nil {
		return nil, err
	}
	var out []*semver.Version
	err = r.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if v, err := semver.StrictNewVersion(strings.ReplaceAll(t, "_", "+")); err == nil {
				out = append(out, v)
			}
		}
		return nil
	})
	if err != nil {
		var er *errcode.ErrorResponse
		if errors.Is(err, errdef.ErrNotFound) || (errors.As(err, &er) && er.StatusCode == http.StatusNotFound) {
			return nil, errdefs.New(ErrNotFound, "bundle oci://%s/%s not found", o.base, name)
		}
		return nil, o.explain(fmt.Sprintf("listing oci://%s/%s", o.base, name), err)
	}
	if len(out) == 0 {
		return nil, errdefs.New(ErrNotFound, "bundle oci://%s/%s has no semver tags", o.base, name)
	}
	return out, nil
}

// Load implements Repository: it fetches the manifest of the version's tag
// and the chart layer, whose digest oras-go verifies, and loads it.
func (o *OCI) Load(ctx context.Context, name string, v *semver.Version) (*bundle.Bundle, error) {
	b, _, err := o.Pull(ctx, name, TagOf(v))
	if err != nil {
		return nil, err
	}
	if b.Name != name || !b.Version.Equal(v) {
		return nil, fmt.Errorf("oci://%s/%s:%s holds %s", o.base, name, TagOf(v), b)
	}
	return b, nil
}

// Pull fetches a bundle by tag or by digest ("sha256:..."), returning it
// with its manifest digest.
func (o *OCI) Pull(ctx context.Context, name, reference string) (*bundle.Bundle, string, error) {
	key := name + "@" + reference
	b, ok := o.loaded.get(key)
	if ok {
		return b, b.SourceDigest, nil
	}
	if o.opts.PolicyErr != nil {
		return nil, "", o.opts.PolicyErr
	}
	r, err := o.repository(name)
	if err != nil {
		return nil, "", err
	}
	where := fmt.Sprintf("oci://%s/%s@%s", o.base, name, reference)
	desc, data, err := oras.FetchBytes(ctx, r, reference, oras.FetchBytesOptions{MaxBytes: maxManifestSize})
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, "", errdefs.New(ErrNotFound, "%s not found", where)
		}
		if errors.Is(err, errdef.ErrSizeExceedsLimit) {
			return nil, "", fmt.Errorf("%s: manifest over the %d-byte limit", where, maxManifestSize)
		}
		return nil, "", o.explain(where, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, "", fmt.Errorf("%s: bad manifest: %v", where, err)
	}
	if rule := o.opts.Policy.For(o.base + "/" + name); rule != nil {
		if _, err := o.verify(ctx, r, name, desc.Digest.String(), rule.Keys); err != nil {
			return nil, "", errdefs.Wrap(errdefs.ErrFailed, err, "%s (%s) refused by the signature policy (%s): %v", where, desc.Digest, rule.Where(o.opts.Policy), err)
		}
	}
	if m.Config.MediaType != ConfigMediaType {
		return nil, "", fmt.Errorf("%s: not a Helm chart (config media type %q)", where, m.Config.MediaType)
	}
	var layer *ocispec.Descriptor
	for i := range m.Layers {
		if m.Layers[i].MediaType == ChartLayerMediaType {
			layer = &m.Layers[i]
		}
	}
	if layer == nil {
		return nil, "", fmt.Errorf("%s: no chart layer", where)
	}
	if layer.Size > bundle.MaxTotalSize {
		return nil, "", fmt.Errorf("%s: chart layer is %d bytes, over the %d-byte limit", where, layer.Size, int64(bundle.MaxTotalSize))
	}
	rc, err := r.Fetch(ctx, *layer)
	if err != nil {
		return nil, "", o.explain(where, err)
	}
	defer rc.Close()
	// ReadAll verifies the size and the digest: a corrupted blob is refused
	// before anything is written anywhere.
	chart, err := content.ReadAll(newProgress(o.opts.Progress, "chart "+short(layer.Digest.String()), layer.Size, rc), *layer)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", where, err)
	}
	b, err = bundle.LoadArchive(chart, where)
	if err != nil {
		return nil, "", err
	}
	b.SourceDigest = desc.Digest.String()
	o.loaded.put(key, b)
	return b, desc.Digest.String(), nil
}

// PushOptions configure Push.
type PushOptions struct {
	// Force replaces a version that exists with other content.
	Force bool
}

// Push uploads a packaged bundle as a Helm OCI chart tagged with its
// version and returns the manifest digest. The manifest is deterministic,
// so pushing the same package twice gives the same digest; pushing other
// content under an existing version is refused unless opts.Force.
func (o *OCI) Push(ctx context.Context, pkg []byte, opts PushOptions) (string, error) {
	b, err := bundle.LoadArchive(pkg, "package")
	if err != nil {
		return "", err
	}
	r, err := o.repository(b.Name)
	if err != nil {
		return "", err
	}
	config, configDesc, layerDesc, manifest, err := chartManifest(b, pkg)
	if err != nil {
		return "", err
	}
	manifestDigest := digest.FromBytes(manifest).String()
	tag := TagOf(b.Version)
	where := fmt.Sprintf("oci://%s/%s:%s", o.base, b.Name, tag)
	if existing, err := r.Resolve(ctx, tag); err == nil {
		if existing.Digest.String() == manifestDigest {
			return manifestDigest, nil
		}
		if !opts.Force {
			return "", errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{Options: []string{"force"}, Use: true}}, "%s already exists with other content (%s): bump the version", where, existing.Digest)
		}
	} else if !errors.Is(err, errdef.ErrNotFound) {
		return "", o.explain(where, err)
	}
	for _, blob := range []struct {
		desc ocispec.Descriptor
		data []byte
	}{{configDesc, config}, {layerDesc, pkg}} {
		var body io.Reader = strings.NewReader(string(blob.data))
		if blob.desc.MediaType == ChartLayerMediaType {
			body = newProgress(o.opts.Progress, "chart "+short(blob.desc.Digest.String()), blob.desc.Size, body)
		}
		if err := r.Push(ctx, blob.desc, body); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			return "", o.explain(where, err)
		}
	}
	if _, err := oras.TagBytes(ctx, r, ocispec.MediaTypeImageManifest, manifest, tag); err != nil {
		return "", o.explain(where, err)
	}
	return manifestDigest, nil
}

// chartManifest is the Helm OCI chart of a package: its config (the
// chart's metadata), the descriptors of config and layer, and the
// manifest, the same bytes for the same package.
func chartManifest(b *bundle.Bundle, pkg []byte) (config []byte, configDesc, layerDesc ocispec.Descriptor, manifest []byte, err error) {
	if config, err = json.Marshal(b.Chart.Metadata); err != nil {
		return
	}
	configDesc = content.NewDescriptorFromBytes(ConfigMediaType, config)
	layerDesc = content.NewDescriptorFromBytes(ChartLayerMediaType, pkg)
	manifest, err = json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	return
}

// DockerCredentials opens the Docker credentials configuration
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json, with its credential
// helpers), so that docker login works for bundle and bundle login for
// docker.
func DockerCredentials() (credentials.Store, error) {
	s, err := credentials.NewStoreFromDocker(credentials.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true})
	if err != nil {
		return nil, fmt.Errorf("docker credentials: %v", err)
	}
	return s, nil
}

// Login checks the user name and password against a registry and stores
// them. The password never appears in errors.
func Login(ctx context.Context, host, username, password string, opts OCIOptions) error {
	if opts.Credentials == nil {
		return errors.New("no credential store")
	}
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return fmt.Errorf("registry %q: %v", host, err)
	}
	reg.PlainHTTP = opts.PlainHTTP
	c := &auth.Client{Client: opts.httpClient(), Cache: auth.NewCache()}
	c.SetUserAgent("bundle")
	reg.Client = c
	if err := credentials.Login(ctx, opts.Credentials, reg, auth.Credential{Username: username, Password: password}); err != nil {
		var er *errcode.ErrorResponse
		if errors.As(err, &er) && er.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("login to %s as %s refused: 401 Unauthorized (check the user name and password)", host, username)
		}
		return fmt.Errorf("login to %s: %v", host, err)
	}
	return nil
}

// Logout forgets the stored login for a registry.
func Logout(ctx context.Context, host string, store credentials.Store) error {
	if err := credentials.Logout(ctx, store, host); err != nil {
		return fmt.Errorf("logout from %s: %v", host, err)
	}
	return nil
}

// MaxRegistryConfigSize bounds a registry credentials file the user names
// (FileCredentials): thousands of registries.
const MaxRegistryConfigSize = 1 << 20

// FileCredentials opens the registry credentials file path (Docker's
// config.json format: helm's $HELM_REGISTRY_CONFIG), with Docker's
// configuration after it, as helm does: credentials are looked up in path
// first, then in Docker's; a login is stored in path (created when
// missing). A path that is not a regular file, or is larger than
// MaxRegistryConfigSize, is refused with a *userfile.Error before it is
// read.
func FileCredentials(path string) (credentials.Store, error) {
	const what = "registry config"
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, &userfile.Error{What: what, Path: path, Mode: fi.Mode()}
		}
		if fi.Size() > MaxRegistryConfigSize {
			return nil, &userfile.Error{What: what, Path: path, Limit: MaxRegistryConfigSize}
		}
	}
	opts := credentials.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true}
	store, err := credentials.NewStore(path, opts)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", what, path, err)
	}
	docker, err := credentials.NewStoreFromDocker(opts)
	if err != nil {
		return store, nil // no home directory: this file only
	}
	return credentials.NewStoreWithFallbacks(store, docker), nil
}
