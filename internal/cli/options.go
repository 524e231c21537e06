package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/bluegreen"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/sign"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// The groups of flags several commands share, as kind's flagpole structs
// are (flags.go binds each flag to its field).

// kubeOptions are --namespace, --kubeconfig, --kube-context and --debug.
type kubeOptions struct{ release.KubeOptions }

func (o *kubeOptions) flags() []ucli.Flag {
	return []ucli.Flag{
		stringFlag(&o.Namespace, "namespace", "", "namespace (default: $BUNDLE_NAMESPACE or $HELM_NAMESPACE, else the kubeconfig context's, else default)", "n"),
		stringFlag(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"),
		stringFlag(&o.Context, "kube-context", "", "kubeconfig context to use (default: $HELM_KUBECONTEXT, else the current one)"),
		debugFlag(),
	}
}

// options are the cluster's settings with the environment of this run:
// $HELM_NAMESPACE, $HELM_KUBECONTEXT and $HELM_DEBUG where the flags are
// not given, as helm reads them (helmenv.go).
func (o kubeOptions) options(c *ucli.Context) (release.KubeOptions, error) {
	opts := o.KubeOptions
	opts.Getenv = getenv(c)
	opts.Notify = func(line string) { fmt.Fprintln(c.App.ErrWriter, line) }
	if err := helmKube(opts.Getenv, &opts); err != nil {
		return opts, err
	}
	// bundle --debug CMD or bundle CMD --debug, else $HELM_DEBUG.
	if set, on := debugSet(c); on || !set && helmDebug(opts.Getenv) {
		opts.Debug = c.App.ErrWriter
	}
	return opts, nil
}

// client is the release client of the cluster these options name; its
// repositories are the catalog and those added (anonymous OCI settings).
func (o kubeOptions) client(c *ucli.Context) (*client, error) {
	opts, err := o.options(c)
	if err != nil {
		return nil, err
	}
	return newClient(c, opts, registryOptions{})
}

// newClient returns a release client for opts, or over the environment
// tests put in app.Metadata. It refuses first what of Helm's environment
// it cannot honour (checkClusterEnv).
func newClient(c *ucli.Context, opts release.KubeOptions, reg registryOptions) (*client, error) {
	if err := checkClusterEnv(getenv(c)); err != nil {
		return nil, err
	}
	set, err := reg.openRepos(c)
	if err != nil {
		return nil, err
	}
	var rel *release.Client
	if env, ok := c.App.Metadata[releaseEnvKey].(*release.Env); ok {
		rel = release.NewWithEnv(env, set)
	} else if rel, err = release.New(opts, set); err != nil {
		return nil, err
	}
	return &client{Client: rel, apps: bluegreen.New(rel)}, nil
}

// client is the release client of a command, guarded by apps, which runs
// the operations of blue-green apps (its Uninstall, Status and diffs of
// rollback and uninstall are those to call: they take an app whole).
type client struct {
	*release.Client
	apps *bluegreen.Client
}

// releaseEnvKey keys the release environment tests put in app.Metadata
// (Helm's memory storage and fake clients instead of a kubeconfig).
const releaseEnvKey = "bundle.releaseEnv"

// getenvKey holds, in the app's Metadata, the environment lookup Run was
// given (os.Getenv, or a test's).
const getenvKey = "getenv"

func getenv(c *ucli.Context) func(string) string {
	if f, ok := c.App.Metadata[getenvKey].(func(string) string); ok {
		return f
	}
	return os.Getenv
}

// registryOptions are --plain-http and --insecure-skip-tls-verify, and
// --quiet for the commands that show transfers.
type registryOptions struct {
	PlainHTTP, Insecure, Quiet bool
	// Mirror is --mirror: the registry namespace bundle archive push
	// filled, serving every bundle and (with --locked) every image.
	Mirror string
	// Policy is --policy: the signature policy file (default:
	// sign.DefaultPolicyFile, when it exists).
	Policy string
}

func (o *registryOptions) policyFlag() ucli.Flag {
	return stringFlag(&o.Policy, "policy", "", "signature policy: refuse bundles of the repositories it lists unless a key it trusts signed them (default: $XDG_CONFIG_HOME/bundle/policy.yaml when it exists; see docs/signing.md)")
}

// policy reads --policy, else the default policy file if there is one.
func (o registryOptions) policy(c *ucli.Context) (*sign.Policy, error) {
	if o.Policy != "" {
		return sign.LoadPolicy(o.Policy, false)
	}
	return sign.LoadPolicy(sign.DefaultPolicyFile(getenv(c)), true)
}

// ociChecked is oci with the signature policy. A --policy that cannot be
// read is an error at once; the default file's errors are those of every
// bundle loaded from an OCI registry, so that commands loading none
// (list, status, bundles of the built-in catalog) still work.
func (o registryOptions) ociChecked(c *ucli.Context) (repo.OCIOptions, error) {
	opts, err := o.oci(c)
	if err != nil {
		return opts, err
	}
	p, err := o.policy(c)
	if err != nil {
		if o.Policy != "" {
			return opts, err
		}
		opts.PolicyErr = err
	}
	opts.Policy = p
	return opts, nil
}

func (o *registryOptions) plainHTTPFlag() ucli.Flag {
	return boolFlag(&o.PlainHTTP, "plain-http", "talk to OCI registries over plain HTTP (TLS is the default)")
}

func (o *registryOptions) insecureFlag() ucli.Flag {
	return boolFlag(&o.Insecure, "insecure-skip-tls-verify", "do not verify OCI registries' TLS certificates")
}

func (o *registryOptions) flags() []ucli.Flag {
	return []ucli.Flag{o.plainHTTPFlag(), o.insecureFlag()}
}

func (o *registryOptions) quietFlag() ucli.Flag {
	return boolFlag(&o.Quiet, "quiet", "no progress bars", "q")
}

// oci are the registry settings: these flags, and the logins of bundle
// login and docker login (anonymous if Docker's cannot be read), after
// those of $HELM_REGISTRY_CONFIG when it is set (its errors are errors).
func (o registryOptions) oci(c *ucli.Context) (repo.OCIOptions, error) {
	opts := repo.OCIOptions{PlainHTTP: o.PlainHTTP, Insecure: o.Insecure}
	store, err := credentialStore(c)
	if err != nil && getenv(c)(helmRegistryConfigEnv) != "" {
		return opts, err
	}
	if err == nil {
		opts.Credentials = store
	}
	// Progress bars only on a terminal, and not with --quiet.
	if f, ok := c.App.ErrWriter.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !o.Quiet {
		opts.Progress = f
	}
	return opts, nil
}

// repos returns the built-in catalog plus the repositories the user
// added, refusing first Helm's variables for its own repositories
// (checkRepositoryEnv).
func (o registryOptions) repos(c *ucli.Context) (*repo.Set, error) {
	if err := checkRepositoryEnv(getenv(c)); err != nil {
		return nil, err
	}
	return o.openRepos(c)
}

// openRepos is repos without the check of the environment: for the
// commands that read no repository (list, status, rollback, ...), whose
// client has them all the same.
func (o registryOptions) openRepos(c *ucli.Context) (*repo.Set, error) {
	opts, err := o.ociChecked(c)
	if err != nil {
		return nil, err
	}
	file, cache := repo.DefaultPaths(getenv(c))
	return repo.Open(repo.Options{ConfigFile: file, CacheDir: cache, SetOptions: repo.SetOptions{OCI: opts, Mirror: o.Mirror}})
}

// loadConfig reads the repositories file at the paths the environment
// names.
func loadConfig(c *ucli.Context) (*repo.Config, error) {
	if err := checkRepositoryEnv(getenv(c)); err != nil {
		return nil, err
	}
	file, cache := repo.DefaultPaths(getenv(c))
	return repo.LoadConfig(file, cache)
}

// versionConstraint parses --version, once for every command that has it.
func versionConstraint(v string) (*semver.Constraints, error) {
	if v == "" {
		return nil, nil
	}
	con, err := bundle.ParseConstraint(v)
	if err != nil {
		return nil, fmt.Errorf("--version: %v (write a semver range such as ^1.0.0)", err)
	}
	return con, nil
}

// valueOptions are -f/--values and Helm's --set flags, applied in Helm's
// order: files, --set-json, --set, --set-string, --set-file, --set-literal.
type valueOptions struct {
	files ucli.StringSlice
	bundle.ValuesOptions
}

func (o *valueOptions) flags() []ucli.Flag {
	return []ucli.Flag{
		sliceFlag(&o.files, "values", "values file (repeatable; later files win; - reads standard input, once)", "f"),
		arrayFlag(&o.Set, "set", "set a value, KEY=VALUE[,KEY=VALUE] (repeatable; wins over files)"),
		arrayFlag(&o.SetString, "set-string", "set a STRING value, KEY=VALUE[,KEY=VALUE] (repeatable)"),
		arrayFlag(&o.SetFile, "set-file", "set a value to a file's content, KEY=PATH[,KEY=PATH] (repeatable)"),
		arrayFlag(&o.SetJSON, "set-json", "set a JSON value, KEY=JSON[,KEY=JSON] (repeatable)"),
		arrayFlag(&o.SetLiteral, "set-literal", "set a literal STRING value, KEY=VALUE, commas and all (repeatable)"),
	}
}

// values are the values these flags give; a values file "-" (-f -) is
// read from standard input, once, as bounded as a values file.
func (o valueOptions) values(c *ucli.Context) (bundle.ValuesOptions, error) {
	v := o.ValuesOptions
	v.Files = o.files.Value()
	if n := o.stdinFiles(); n == 0 {
		return v, nil
	} else if n > 1 {
		return v, usagef(c, "-f %s given twice: standard input is read once; give the other values in a file", bundle.StdinFile)
	}
	var err error
	v.Stdin, err = readStdin(c, bundle.MaxValuesFileSize)
	if errors.Is(err, errTooLarge) {
		return v, fmt.Errorf("-f %s: the values on standard input are larger than %s, the limit of a values file", bundle.StdinFile, userfile.Size(bundle.MaxValuesFileSize))
	}
	if err != nil {
		return v, fmt.Errorf("-f %s: reading the values from standard input: %w", bundle.StdinFile, err)
	}
	return v, nil
}

// stdinFiles counts the values files given as "-": standard input.
func (o valueOptions) stdinFiles() int {
	n := 0
	for _, f := range o.files.Value() {
		if f == bundle.StdinFile {
			n++
		}
	}
	return n
}

// errTooLarge is readStdin's error when the input is over its limit.
var errTooLarge = errors.New("over the limit")

// readStdin reads the command's standard input to its end, at most limit
// bytes (errTooLarge beyond), aside, so that an interrupt ends the
// command even while the input stays open and silent.
func readStdin(c *ucli.Context, limit int64) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(io.LimitReader(c.App.Reader, limit+1))
		done <- result{data, err}
	}()
	select {
	case <-c.Context.Done():
		return nil, context.Cause(c.Context)
	case r := <-done:
		if r.err == nil && int64(len(r.data)) > limit {
			return nil, errTooLarge
		}
		return r.data, r.err
	}
}

// sourceOptions say what to plan: values, --version, --locked, --devel,
// and where to fetch from.
type sourceOptions struct {
	vals     valueOptions
	version  string
	locked   bool
	devel    bool
	bind     []string
	registry registryOptions
}

func (o *sourceOptions) flags() []ucli.Flag {
	return append(o.vals.flags(),
		stringFlag(&o.version, "version", "", "version constraint for the bundle, e.g. ^1.0.0 (default: newest)"),
		boolFlag(&o.locked, "locked", "use exactly the bundle's bundle.lock, checked against bundle.yaml and the sources' digests; images by the lock's digests"),
		o.registry.plainHTTPFlag(),
		o.registry.insecureFlag(),
		stringFlag(&o.registry.Mirror, "mirror", "", "oci://HOST/PREFIX where bundle archive push copied an archive: fetch every bundle (but the built-in catalog's) from there, and with --locked pin every image to its copy there"),
		o.registry.policyFlag(),
	)
}

func (o *sourceOptions) develFlag() ucli.Flag {
	return boolFlag(&o.devel, "devel", "consider prerelease versions too (>0.0.0-0); ignored with --version")
}

// source is the plan's source for the bundle ref names.
func (o sourceOptions) source(c *ucli.Context, ref string) (plan.Source, error) {
	con, err := versionConstraint(o.version)
	if err != nil {
		return plan.Source{}, err
	}
	for _, b := range o.bind {
		if _, err := plan.ParseBind(b); err != nil {
			return plan.Source{}, &usageError{msg: fmt.Sprintf("--bind %q: write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. --bind database=team-db", b)}
		}
	}
	src := plan.Source{Reference: ref, Version: con, Locked: o.locked, Devel: o.devel, Bind: o.bind}
	if m := o.registry.Mirror; m != "" {
		if host, prefix, ok := strings.Cut(strings.TrimPrefix(m, "oci://"), "/"); !strings.HasPrefix(m, "oci://") || !ok || host == "" || strings.Trim(prefix, "/") == "" {
			return plan.Source{}, &usageError{msg: fmt.Sprintf("--mirror %q: give oci://HOST/PREFIX, where bundle archive push copied the archive", m)}
		}
		src.ImageMirror = trimOCI(o.registry.Mirror)
	}
	// Last: it may wait for standard input (-f -).
	if src.Values, err = o.vals.values(c); err != nil {
		return plan.Source{}, err
	}
	return src, nil
}

// waitOptions are --wait and --timeout, and --quiet for the progress of
// the wait.
type waitOptions struct {
	wait    bool
	timeout time.Duration
	quiet   bool
	silent  bool // no progress whatever the flags (uninstall waits with Helm)
}

func (o *waitOptions) flags() []ucli.Flag {
	return []ucli.Flag{
		optionalFlag("wait", "wait until every resource is ready, watching each one's status as helm 4's --wait (=watcher) does; --wait=hookOnly (or =false): only hooks are waited for, the default", o.setWait),
		durationFlag(&o.timeout, "timeout", release.DefaultTimeout, "how long to wait"),
	}
}

// setWait reads --wait's value, as helm 4 names its wait strategies:
// alone, true or watcher is bundle's wait, which watches each resource's
// status (kstatus) as helm 4's watcher does; false or hookOnly waits for
// hooks only, as without --wait. legacy, helm 3's polling readiness
// checks, is refused: bundle has the one wait.
func (o *waitOptions) setWait(s string) error {
	switch s {
	case "watcher":
		o.wait = true
	case "hookOnly":
		o.wait = false
	case "legacy":
		return flagValuef("--wait=legacy: bundle has one wait, which watches each resource's status as helm 4's --wait=watcher does, not helm 3's readiness checks: give --wait")
	default:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return flagValuef("--wait=%s: give --wait (or --wait=watcher) to wait until every resource is ready, or --wait=hookOnly to wait for hooks only (the default)", s)
		}
		o.wait = b
	}
	return nil
}

func (o *waitOptions) quietFlag() ucli.Flag {
	return boolFlag(&o.quiet, "quiet", "with --wait, print no progress", "q")
}

func (o waitOptions) check(c *ucli.Context) error { return positiveTimeout(c, o.timeout) }

func (o waitOptions) options(c *ucli.Context) release.WaitOptions {
	opts := release.WaitOptions{Wait: o.wait, Timeout: o.timeout}
	if !o.silent && !o.quiet {
		opts.Progress = progressTo(c.App.ErrWriter)
	}
	return opts
}

func positiveTimeout(c *ucli.Context, d time.Duration) error {
	if d <= 0 {
		return usagef(c, "--timeout %s: must be positive, e.g. 5m", d)
	}
	return nil
}

func namingFlags(o *render.Naming) []ucli.Flag {
	return []ucli.Flag{
		boolFlag(&o.GenerateName, "generate-name", "name the release BUNDLE-SECONDS (the bundle's name and the Unix time); omit NAME", "g"),
		stringFlag(&o.NameTemplate, "name-template", "", "name the release with this Go template (Sprig functions), e.g. 'shop-{{ randAlpha 5 | lower }}'; omit NAME"),
	}
}

// dryRunFlag is --dry-run of install, upgrade and rollback, with helm
// 4's values: alone, true or server is bundle's dry run, which the API
// server validates (helm's --dry-run=server); none or false is none;
// client, which asks no cluster (helm 4's --dry-run alone), is refused,
// saying what to use instead (else, when not empty).
func dryRunFlag(p *bool, usage, instead string) ucli.Flag {
	return optionalFlag("dry-run", usage+" (=server too; =none: no dry run)", func(s string) error {
		switch s {
		case "server":
			*p = true
		case "none":
			*p = false
		case "client":
			msg := "--dry-run=client: bundle's dry run asks the API server, as helm's --dry-run=server: give --dry-run"
			if instead != "" {
				msg += ", or " + instead
			}
			return flagValuef("%s", msg)
		default:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return flagValuef("--dry-run=%s: give --dry-run (or --dry-run=server), or --dry-run=none", s)
			}
			*p = b
		}
		return nil
	})
}

// writeOptions are helm 4's flags of how objects are written, which
// install, upgrade and rollback take: --force-replace (--force, bound to
// the operation's Force), --force-conflicts and --server-side.
type writeOptions struct {
	forceReplace   *bool
	forceConflicts bool
}

// flags are the flags bound to o, --force-replace to force; --server-side
// may be given alone (install, as in helm 4) or takes a value (upgrade,
// rollback).
func (o *writeOptions) flags(force *bool, serverSideAlone bool) []ucli.Flag {
	o.forceReplace = force
	serverSide := valueFlag
	if serverSideAlone {
		serverSide = optionalFlag
	}
	return []ucli.Flag{
		boolFlag(force, "force-replace", "replace objects (PUT) instead of applying them, as helm's --force-replace (--force, its former name)", "force"),
		boolFlag(&o.forceConflicts, "force-conflicts", "accepted as in helm 4: bundle always forces conflicts, taking over the fields the bundle sets from any other manager (server-side apply, forced)"),
		serverSide("server-side", "accepted as in helm 4 (true, auto): bundle always applies objects server-side, as field manager helm; false is refused", setServerSide),
	}
}

// setServerSide reads --server-side: true or auto, what bundle does;
// false, client-side apply, is refused.
func setServerSide(s string) error {
	if s == "auto" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	switch {
	case err != nil:
		return flagValuef("--server-side=%s: give true or auto (bundle always applies server-side)", s)
	case !b:
		return flagValuef("--server-side=false: bundle always applies objects server-side, as field manager helm, which is how a release converges and passes between bundle and helm 4: leave --server-side out")
	}
	return nil
}

// check refuses --force-replace with --force-conflicts, as helm 4 does.
func (o writeOptions) check(c *ucli.Context) error {
	if *o.forceReplace && o.forceConflicts {
		return usagef(c, "--force-replace (--force) and --force-conflicts cannot be given together, as in helm 4: one replaces objects, the other applies them; drop one")
	}
	return nil
}

func noHooksFlag(p *bool, usage string) ucli.Flag {
	return boolFlag(p, "no-hooks", usage)
}

func postRendererFlags(o *render.PostRenderer) []ucli.Flag {
	return []ucli.Flag{
		stringFlag(&o.Path, "post-renderer", "", "pipe the rendered manifests and hooks through this executable (a path, or a name in $PATH), or the helm 4 postrenderer plugin of this name ($HELM_PLUGINS)"),
		arrayFlag(&o.Args, "post-renderer-args", "an argument to the post-renderer (repeatable)"),
	}
}

// helmOptions are Helm's install and upgrade flags that both take; NOTES
// on what differs are in the library's option comments.
type helmOptions struct {
	release.HelmOptions
	source sourceOptions
	naming render.Naming
	labels ucli.StringSlice
}

func (o *helmOptions) flags(verb string) []ucli.Flag {
	return flags(o.source.flags(), []ucli.Flag{
		stringFlag(&o.Description, "description", "", "record this description with the revision"),
		o.source.develFlag(),
		arrayFlag(&o.source.bind, "bind", "bind a requirement to an installed release instead of installing it, INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE (repeatable; see docs/bindings.md)"),
		noHooksFlag(&o.NoHooks, "do not run the bundle's hooks during "+verb),
		boolFlag(&o.WaitForJobs, "wait-for-jobs", "with --wait, also wait until every Job has completed"),
		boolFlag(&o.DisableOpenAPIValidation, "disable-openapi-validation", "do not validate the manifests against the cluster's OpenAPI schema"),
		sliceFlag(&o.labels, "labels", "record labels on the revision, KEY=VALUE[,KEY=VALUE] (repeatable), as helm 4 does; upgrade keeps the current revision's, KEY=null removes one", "l"),
	}, postRendererFlags(&o.PostRenderer))
}

// parseLabels reads --labels into the options.
func (o *helmOptions) parseLabels(c *ucli.Context) error {
	o.Labels = nil
	for _, l := range o.labels.Value() {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return usagef(c, "--labels %q: give KEY=VALUE[,KEY=VALUE]", l)
		}
		if o.Labels == nil {
			o.Labels = map[string]string{}
		}
		o.Labels[k] = v
	}
	return nil
}

// check refuses, as usage errors, NAME given with --generate-name or
// --name-template (as helm does) and --post-renderer-args without
// --post-renderer (which helm ignores).
func checkNaming(c *ucli.Context, name string, naming render.Naming, pr render.PostRenderer) error {
	if len(pr.Args) > 0 && pr.Path == "" {
		return usagef(c, "--post-renderer-args without --post-renderer: give the executable with --post-renderer PATH")
	}
	if name == "" {
		return nil
	}
	if naming.GenerateName {
		return usagef(c, "cannot set --generate-name and also specify a name (%q): drop one", name)
	}
	if naming.NameTemplate != "" {
		return usagef(c, "cannot set --name-template and also specify a name (%q): drop one", name)
	}
	return nil
}

// revisionOption is --revision.
type revisionOption struct{ revision int }

func (o *revisionOption) flag() ucli.Flag {
	return intFlag(&o.revision, "revision", 0, "that revision of the release (default: the latest; see bundle history)")
}

func (o revisionOption) check(c *ucli.Context) error {
	if c.IsSet("revision") && o.revision < 1 {
		return usagef(c, "--revision %d: give a revision number from bundle history", o.revision)
	}
	return nil
}

// readOptions are the flags of the commands that read a release: the
// cluster and -o.
type readOptions struct {
	kube   kubeOptions
	output outputOption
}

// client checks the arguments and -o and returns the client.
func (o readOptions) client(c *ucli.Context, nargs int, what string) (*client, error) {
	if err := exactArgs(c, nargs, what); err != nil {
		return nil, err
	}
	if err := o.output.check(c); err != nil {
		return nil, err
	}
	return o.kube.client(c)
}
