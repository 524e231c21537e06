package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/sign"
)

// signOptions are bundle sign's flags.
type signOptions struct {
	registry registryOptions
	version  string
	key      string
}

func signCommand() *ucli.Command {
	o := &signOptions{}
	return withHelp(helpText{
		usage: "sign a pushed bundle (its OCI manifest digest) with a key pair, as cosign sign --key does",
		args:  "oci://HOST/NAMESPACE/NAME[@sha256:DIGEST] --key FILE",
		description: `Signs cosign's simple-signing payload naming the manifest digest with an ECDSA P-256 key and stores it
as cosign does, in the manifest tagged sha256-HEX.sig beside the bundle (no transparency log): cosign
verify --key cosign.pub --insecure-ignore-tlog checks it, and so do bundle verify and the signature
policy of every command that loads bundles (see docs/signing.md). An encrypted key's password is
read from $BUNDLE_SIGN_PASSWORD, else $COSIGN_PASSWORD.`,
		examples: `bundle sign generate-key
bundle push ./shop oci://registry.example.com/bundles
bundle sign oci://registry.example.com/bundles/shop --version 0.1.0 --key cosign.key`,
	}, &ucli.Command{
		Name: "sign",
		Flags: flags(o.registry.flags(), []ucli.Flag{
			stringFlag(&o.version, "version", "", "version constraint of the bundle to sign (default: newest); or name it @sha256:DIGEST"),
			stringFlag(&o.key, "key", "", "the private key file (cosign.key; password from $BUNDLE_SIGN_PASSWORD or $COSIGN_PASSWORD)"),
		}),
		Action:      o.run,
		Subcommands: []*ucli.Command{generateKeyCommand()},
	})
}

// password is $BUNDLE_SIGN_PASSWORD, else $COSIGN_PASSWORD; nil when both
// are empty.
func signPassword(c *ucli.Context) []byte {
	for _, k := range []string{sign.BundlePasswordEnv, sign.PasswordEnv} {
		if v := getenv(c)(k); v != "" {
			return []byte(v)
		}
	}
	return nil
}

// signedRef is a bundle sign and verify name: the OCI address, its
// repository and the tag or digest of the manifest.
type signedRef struct {
	reg       *repo.OCI
	address   string // oci://HOST/NS/NAME
	name      string
	reference string // tag or sha256:DIGEST
}

func resolveSigned(c *ucli.Context, reg registryOptions, arg, version string) (signedRef, error) {
	refText, dgst, byDigest := cutDigest(arg)
	ref, err := repo.ParseReference(refText)
	if err != nil {
		return signedRef{}, err
	}
	if ref.Local() || !strings.HasPrefix(ref.Ref.Repository, "oci://") {
		return signedRef{}, usagef(c, "%q: sign and verify take a pushed bundle, oci://HOST/NAMESPACE/NAME", arg)
	}
	if byDigest && version != "" {
		return signedRef{}, usagef(c, "%q names a digest: drop --version", arg)
	}
	oci, err := reg.oci(c)
	if err != nil {
		return signedRef{}, err
	}
	o, err := repo.NewOCI(ref.Ref.Repository, oci)
	if err != nil {
		return signedRef{}, err
	}
	s := signedRef{reg: o, address: refText, name: ref.Ref.Name, reference: dgst}
	if byDigest {
		return s, nil
	}
	con, err := versionConstraint(version)
	if err != nil {
		return s, err
	}
	v, err := pickVersion(c.Context, o, ref, con)
	if err != nil {
		return s, err
	}
	s.reference = repo.TagOf(v)
	return s, nil
}

// pickVersion is the newest version satisfying con (newest stable one
// without), as bundle pull picks.
func pickVersion(ctx context.Context, o *repo.OCI, ref repo.Reference, con *semver.Constraints) (*semver.Version, error) {
	vs, err := o.Versions(ctx, ref.Ref.Name)
	if err != nil {
		return nil, err
	}
	sort.Sort(sort.Reverse(semver.Collection(vs)))
	for _, v := range vs {
		if (con == nil && v.Prerelease() == "") || (con != nil && con.Check(v)) {
			return v, nil
		}
	}
	e := &errdefs.NoVersionError{Bundle: ref.Ref.String()}
	for _, v := range vs {
		e.Available = append(e.Available, v.String())
	}
	if con != nil {
		e.Constraint = con.String()
	}
	return nil, e
}

func (o *signOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "oci://HOST/NAMESPACE/NAME[@sha256:DIGEST]"); err != nil {
		return err
	}
	if o.key == "" {
		return usagef(c, "--key FILE is required: the private key to sign with (bundle sign generate-key makes one)")
	}
	pem, err := readKey(o.key)
	if err != nil {
		return err
	}
	s, err := resolveSigned(c, o.registry, c.Args().Get(0), o.version)
	if err != nil {
		return err
	}
	password := signPassword(c)
	if password == nil && bytes.Contains(pem, []byte("ENCRYPTED")) {
		// On a terminal, ask, as cosign does.
		if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprintf(c.App.ErrWriter, "Password for %s: ", o.key)
			p, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(c.App.ErrWriter)
			if err != nil {
				return err
			}
			password = p
		}
	}
	signer, err := sign.LoadSigner(o.key, pem, password)
	if err != nil {
		return err
	}
	dgst, tag, err := s.reg.Sign(c.Context, s.name, s.reference, signer)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "signed %s@%s (signature %s:%s)\n", s.address, dgst, s.address, tag)
	return nil
}

// generateKeyOptions are bundle sign generate-key's flags.
type generateKeyOptions struct {
	prefix string
	force  bool
}

func generateKeyCommand() *ucli.Command {
	o := &generateKeyOptions{}
	return command("generate-key", helpText{
		usage: "write a new ECDSA P-256 key pair, PREFIX.key and PREFIX.pub, as cosign generate-key-pair does",
		args:  "",
		description: `The private key is encrypted with $BUNDLE_SIGN_PASSWORD (else $COSIGN_PASSWORD) in cosign's format,
or, with neither set, written unencrypted (PKCS#8 PEM). Both files are written mode 0600; existing
files are kept unless --force.`,
		examples: `# the private key encrypted with $BUNDLE_SIGN_PASSWORD (else $COSIGN_PASSWORD)
bundle sign generate-key --output-key-prefix team`,
	}, o.run, []ucli.Flag{
		stringFlag(&o.prefix, "output-key-prefix", "cosign", "write PREFIX.key and PREFIX.pub"),
		boolFlag(&o.force, "force", "replace key files that exist"),
	})
}

func (o *generateKeyOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	keyFile, pubFile := o.prefix+".key", o.prefix+".pub"
	if !o.force {
		for _, f := range []string{keyFile, pubFile} {
			if _, err := os.Lstat(f); err == nil {
				return errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{Options: []string{"force"}, Use: true}}, "%s exists: keep it, or replace the key pair", f)
			}
		}
	}
	password := signPassword(c)
	priv, pub, err := sign.GenerateKeyPair(password)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{keyFile, priv}, {pubFile, pub}} {
		os.Remove(f.name) // with --force: a new file, so that the mode is ours
		if err := os.WriteFile(f.name, f.data, 0o600); err != nil {
			return err
		}
	}
	how := "encrypted with $" + sign.BundlePasswordEnv + "/$" + sign.PasswordEnv
	if password == nil {
		how = "unencrypted: set $" + sign.BundlePasswordEnv + " to encrypt it as cosign does"
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (private key, %s) and %s (public key)\n", keyFile, how, pubFile)
	return nil
}

// verifyOptions are bundle verify's flags.
type verifyOptions struct {
	registry registryOptions
	version  string
	keys     ucli.StringSlice
}

func verifyCommand() *ucli.Command {
	o := &verifyOptions{}
	return command("verify", helpText{
		usage: "check that a trusted key signed a pushed bundle",
		args:  "oci://HOST/NAMESPACE/NAME[@sha256:DIGEST] --key FILE",
		description: `Succeeds when a signature stored as cosign stores it (by bundle sign or cosign sign --key) verifies
with one of the --key public keys (without --key: the keys the signature policy trusts for the
repository) and names the manifest digest the version's tag points to.
Otherwise it says why in one line: unsigned, signed by another key, or tampered (the signature is
of another manifest digest).`,
		examples: `bundle verify oci://registry.example.com/bundles/shop --version 0.1.0 --key cosign.pub
# with the keys ~/.config/bundle/policy.yaml trusts for registry.example.com/bundles
bundle verify oci://registry.example.com/bundles/shop@sha256:5c1e...`,
	}, o.run, o.registry.flags(), []ucli.Flag{
		stringFlag(&o.version, "version", "", "version constraint of the bundle to check (default: newest); or name it @sha256:DIGEST"),
		sliceFlag(&o.keys, "key", "a trusted public key file (cosign.pub; repeatable: any of them); default: the keys the signature policy trusts for the repository"),
		o.registry.policyFlag(),
	})
}

func (o *verifyOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "oci://HOST/NAMESPACE/NAME[@sha256:DIGEST]"); err != nil {
		return err
	}
	var keys []sign.Key
	if len(o.keys.Value()) == 0 {
		// The keys the signature policy trusts for this repository.
		p, err := o.registry.policy(c)
		if err != nil {
			return err
		}
		refText, _, _ := cutDigest(c.Args().Get(0))
		rule := p.For(refText)
		if rule == nil {
			return usagef(c, "--key FILE is required: the public key of the signer to trust (no signature policy lists %s)", refText)
		}
		keys = rule.Keys
	}
	for _, f := range o.keys.Value() {
		pem, err := readKey(f)
		if err != nil {
			return err
		}
		k, err := sign.LoadPublicKey(f, pem)
		if err != nil {
			return err
		}
		keys = append(keys, sign.Key{Name: f, Key: k})
	}
	s, err := resolveSigned(c, o.registry, c.Args().Get(0), o.version)
	if err != nil {
		return err
	}
	dgst, k, err := s.reg.Verify(c.Context, s.name, s.reference, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "verified %s@%s: signed by %s\n", s.address, dgst, k.Name)
	return nil
}

// readKey reads a --key file: a regular file of at most
// sign.MaxKeyFileSize bytes, or one line saying why not.
func readKey(file string) ([]byte, error) {
	pem, err := sign.ReadKeyFile("--key", file)
	if err != nil && !errors.Is(err, errdefs.ErrInvalid) {
		return nil, fmt.Errorf("--key: %v", err)
	}
	return pem, err
}
