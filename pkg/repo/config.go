package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// MaxConfigFileSize bounds the repositories file and the credentials
// file: thousands of repositories.
const MaxConfigFileSize = 1 << 20

var repoNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)

// Config is the list of repositories a user added (bundle repo add), kept in
// a YAML file, and the directory their cached indexes live in.
type Config struct {
	Repositories []Entry `json:"repositories"`

	path     string
	cacheDir string
}

// Entry is one configured repository.
type Entry struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Username is who the repository was added as; the password is kept
	// apart, in the credentials file (CredentialsFile).
	Username string `json:"username,omitempty"`
	// PlainHTTPCredentials allows sending the credentials over plain http.
	PlainHTTPCredentials bool `json:"plainHTTPCredentials,omitempty"`
}

// credentialsFile holds the repositories' passwords, readable by the user
// only (0600), beside repositories.yaml.
type credentialsFile struct {
	Credentials []credential `json:"credentials"`
}

type credential struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// CredentialsFile is where the passwords of the repositories configured in
// configFile are kept.
func CredentialsFile(configFile string) string {
	return filepath.Join(filepath.Dir(configFile), "repository-credentials.yaml")
}

// passwords reads the credentials file: repository name -> password. A
// missing file is none; one others may read is refused.
func (c *Config) passwords() (map[string]string, error) {
	path := CredentialsFile(c.path)
	out := map[string]string{}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &userfile.Error{What: "credentials file", Path: path, Mode: st.Mode()}
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s holds passwords and others may read it (mode %04o): make it yours only with chmod 600 %s", path, st.Mode().Perm(), path)
	}
	data, err := userfile.Read("credentials file", path, MaxConfigFileSize)
	if err != nil {
		return nil, err
	}
	var f credentialsFile
	if err := sigsyaml.UnmarshalStrict(data, &f); err != nil {
		// The YAML error could quote a password: say where, not what.
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: not a credentials file (fix or delete it, then add the repositories again)", path)
	}
	for _, cr := range f.Credentials {
		out[cr.Name] = cr.Password
	}
	return out, nil
}

func (c *Config) savePasswords(pw map[string]string) error {
	path := CredentialsFile(c.path)
	if len(pw) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	var f credentialsFile
	for name, p := range pw {
		f.Credentials = append(f.Credentials, credential{Name: name, Password: p})
	}
	sort.Slice(f.Credentials, func(i, j int) bool { return f.Credentials[i].Name < f.Credentials[j].Name })
	data, err := sigsyaml.Marshal(f)
	if err != nil {
		return err
	}
	return bundle.WriteFileAtomicMode(path, data, 0o600)
}

// auth is an entry's credentials, if it has any.
func (e Entry) auth(pw map[string]string) *BasicAuth {
	if e.Username == "" {
		return nil
	}
	return &BasicAuth{Username: e.Username, Password: pw[e.Name], PlainHTTP: e.PlainHTTPCredentials}
}

// DefaultPaths returns where the configuration and the cache live, read
// from the environment through getenv (nil: none): $BUNDLE_CONFIG_HOME or
// $XDG_CONFIG_HOME/bundle (else $HOME/.config/bundle) holds
// repositories.yaml; $BUNDLE_CACHE_HOME or $XDG_CACHE_HOME/bundle (else
// $HOME/.cache/bundle) holds the indexes. The library itself reads no
// environment: callers pass the paths in (Options).
func DefaultPaths(getenv func(string) string) (configFile, cacheDir string) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	home := getenv("HOME")
	pick := func(own, xdg, fallback string) string {
		if v := getenv(own); v != "" {
			return v
		}
		if v := getenv(xdg); v != "" {
			return filepath.Join(v, "bundle")
		}
		return filepath.Join(home, fallback, "bundle")
	}
	return filepath.Join(pick("BUNDLE_CONFIG_HOME", "XDG_CONFIG_HOME", ".config"), "repositories.yaml"),
		pick("BUNDLE_CACHE_HOME", "XDG_CACHE_HOME", ".cache")
}

// LoadConfig reads the repositories file; a missing file is an empty list.
func LoadConfig(path, cacheDir string) (*Config, error) {
	c := &Config{path: path, cacheDir: cacheDir}
	data, err := userfile.Read("repositories file", path, MaxConfigFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := sigsyaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("%s: %v (fix or delete the file)", path, err)
	}
	return c, nil
}

func (c *Config) save() error {
	sort.Slice(c.Repositories, func(i, j int) bool { return c.Repositories[i].Name < c.Repositories[j].Name })
	data, err := sigsyaml.Marshal(c)
	if err != nil {
		return err
	}
	// User names are credentials too: then the file is the user's only.
	mode := fs.FileMode(0o644)
	for _, e := range c.Repositories {
		if e.Username != "" {
			mode = 0o600
		}
	}
	return bundle.WriteFileAtomicMode(c.path, data, mode)
}

func (c *Config) find(name string) int {
	for i, e := range c.Repositories {
		if e.Name == name {
			return i
		}
	}
	return -1
}

// Add checks that url serves a chart repository index, caches the index and
// records the repository under name. With opts.Auth, the user name is
// recorded with it and the password in the credentials file (0600).
func (c *Config) Add(ctx context.Context, name, url string, opts HTTPOptions) error {
	if name == bundle.DefaultRepository {
		return fmt.Errorf("repository name %q is the built-in catalog: choose another", name)
	}
	if !repoNameRE.MatchString(name) {
		return fmt.Errorf("repository name %q: use lower case letters, digits, -, _ and .", name)
	}
	if clean, had := bundle.StripCredentials(url); had {
		return credentialsInURL("repository "+name+": the address", clean)
	}
	if i := c.find(name); i >= 0 {
		return errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{Run: []string{"repo", "remove", name}}}, "repository %q already exists (%s)", name, c.Repositories[i].URL)
	}
	h, err := NewHTTP(name, url, opts)
	if err != nil {
		return err
	}
	data, err := h.FetchIndex(ctx)
	if err != nil {
		return err
	}
	if err := bundle.WriteFileAtomic(cachePath(c.cacheDir, name), data); err != nil {
		return err
	}
	e := Entry{Name: name, URL: url}
	if opts.Auth != nil {
		pw, err := c.passwords()
		if err != nil {
			return err
		}
		pw[name] = opts.Auth.Password
		if err := c.savePasswords(pw); err != nil {
			return err
		}
		e.Username, e.PlainHTTPCredentials = opts.Auth.Username, opts.Auth.PlainHTTP
	}
	c.Repositories = append(c.Repositories, e)
	return c.save()
}

// Remove forgets a repository and its cached index.
func (c *Config) Remove(name string) error {
	i := c.find(name)
	if i < 0 {
		return errdefs.Fixable(errdefs.ErrNotFound, []errdefs.Fix{{See: []string{"repo", "list"}}}, "no repository named %q", name)
	}
	hadAuth := c.Repositories[i].Username != ""
	c.Repositories = append(c.Repositories[:i], c.Repositories[i+1:]...)
	os.Remove(cachePath(c.cacheDir, name))
	if err := c.save(); err != nil {
		return err
	}
	if !hadAuth {
		return nil
	}
	pw, err := c.passwords()
	if err != nil {
		return err
	}
	delete(pw, name)
	return c.savePasswords(pw)
}

// Update fetches every repository's index into the cache.
func (c *Config) Update(ctx context.Context, opts HTTPOptions) error {
	pw, err := c.passwords()
	if err != nil {
		return err
	}
	var failed []error
	for _, e := range c.Repositories {
		o := opts
		o.Auth = e.auth(pw)
		h, err := NewHTTP(e.Name, e.URL, o)
		if err == nil {
			var data []byte
			if data, err = h.FetchIndex(ctx); err == nil {
				err = bundle.WriteFileAtomic(cachePath(c.cacheDir, e.Name), data)
			}
		}
		if err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// Set returns the built-in catalog plus the configured repositories, which
// read their cached indexes (no network until a bundle is downloaded).
func (c *Config) Set(opts SetOptions) (*Set, error) {
	pw, err := c.passwords()
	if err != nil {
		return nil, err
	}
	extra := map[string]Repository{}
	for _, e := range c.Repositories {
		o := opts.HTTP
		o.IndexFile = cachePath(c.cacheDir, e.Name)
		o.Auth = e.auth(pw)
		h, err := NewHTTP(e.Name, e.URL, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.path, err)
		}
		extra[e.Name] = h
	}
	return NewSetWith(extra, opts), nil
}

// Options say where a command's repositories are configured and how to
// reach them.
type Options struct {
	// ConfigFile is repositories.yaml; CacheDir holds the indexes
	// (DefaultPaths gives the usual ones).
	ConfigFile, CacheDir string
	SetOptions
}

// Open reads the configured repositories and returns the set a command
// uses: the stable catalog, every configured repository, and repositories
// named by address (https://, oci://) as requirements name them.
func Open(opts Options) (*Set, error) {
	cfg, err := LoadConfig(opts.ConfigFile, opts.CacheDir)
	if err != nil {
		return nil, err
	}
	return cfg.Set(opts.SetOptions)
}
