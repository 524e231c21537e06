package sign

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

var testPub []byte

func init() {
	var err error
	if _, testPub, err = GenerateKeyPair(nil); err != nil {
		panic(err)
	}
}

func readTestKey(name string) ([]byte, error) {
	switch name {
	case "team.pub", "ops.pub":
		return testPub, nil
	case "junk.pub":
		return []byte("not a key"), nil
	}
	return nil, os.ErrNotExist
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", []byte(`repositories:
  - prefix: oci://reg.example.com/team
    keys: [team.pub]
  - prefix: oci://reg.example.com/team/infra/
    keys:
      - team.pub
      - ops.pub
`), readTestKey)
	if err != nil {
		t.Fatal(err)
	}
	for repo, want := range map[string]string{
		"reg.example.com/team/shop":           "reg.example.com/team",
		"oci://reg.example.com/team/shop":     "reg.example.com/team",
		"reg.example.com/team/infra/db":       "reg.example.com/team/infra",
		"reg.example.com/teams/shop":          "",
		"reg.example.com/other/shop":          "",
		"other.example.com/team/shop":         "",
		"reg.example.com/team/infra-2/shop":   "reg.example.com/team",
		"reg.example.com/team/infra/deep/one": "reg.example.com/team/infra",
	} {
		r := p.For(repo)
		got := ""
		if r != nil {
			got = r.Prefix
		}
		if got != want {
			t.Errorf("For(%s) = %q, want %q", repo, got, want)
		}
	}
	if r := p.For("reg.example.com/team/infra/db"); len(r.Keys) != 2 || r.Where(p) != "policy.yaml:4" {
		t.Errorf("rule: %d keys at %s", len(r.Keys), r.Where(p))
	}
	var none *Policy
	if none.For("reg.example.com/team/shop") != nil {
		t.Error("a nil policy has a rule")
	}
}

func TestParsePolicyInvalid(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", ``, "policy.yaml: empty policy"},
		{"not yaml", "repositories: [\n", "policy.yaml:1: not YAML: did not find expected node content"},
		{"scalar", `hello`, "policy.yaml:1: want a mapping"},
		{"unknown top", "repos: []\n", "policy.yaml:1: repos: unknown field"},
		{"no repositories", "{}\n", "policy.yaml:1: repositories: missing"},
		{"repositories not list", "repositories: {a: b}\n", "policy.yaml:1: repositories: want a list"},
		{"entry not map", "repositories:\n  - oci://x/y\n", "policy.yaml:2: repositories[0]: want {prefix"},
		{"unknown field", "repositories:\n  - prefix: oci://x/y\n    key: team.pub\n", "policy.yaml:3: repositories[0].key: unknown field"},
		{"no prefix", "repositories:\n  - keys: [team.pub]\n", "policy.yaml:2: repositories[0].prefix: missing"},
		{"prefix not string", "repositories:\n  - prefix: [a]\n    keys: [team.pub]\n", "policy.yaml:2: repositories[0].prefix: want a string"},
		{"prefix without oci", "repositories:\n  - prefix: reg.example.com/team\n    keys: [team.pub]\n", `policy.yaml:2: repositories[0].prefix: "reg.example.com/team" is not oci://HOST[/PATH]`},
		{"prefix empty host", "repositories:\n  - prefix: oci://\n    keys: [team.pub]\n", "is not oci://HOST[/PATH]"},
		{"prefix digest", "repositories:\n  - prefix: oci://x/y@sha256:00\n    keys: [team.pub]\n", "is not oci://HOST[/PATH]"},
		{"duplicate", "repositories:\n  - prefix: oci://x/y\n    keys: [team.pub]\n  - prefix: oci://x/y/\n    keys: [ops.pub]\n", "policy.yaml:4: repositories[1].prefix: oci://x/y is already listed at line 2"},
		{"no keys", "repositories:\n  - prefix: oci://x/y\n", "policy.yaml:2: repositories[0].keys: missing"},
		{"empty keys", "repositories:\n  - prefix: oci://x/y\n    keys: []\n", "policy.yaml:3: repositories[0].keys: want a non-empty list"},
		{"keys not list", "repositories:\n  - prefix: oci://x/y\n    keys: team.pub\n", "policy.yaml:3: repositories[0].keys: want a non-empty list"},
		{"key not string", "repositories:\n  - prefix: oci://x/y\n    keys: [{a: b}]\n", "policy.yaml:3: repositories[0].keys[0]: want a public key file name"},
		{"missing key file", "repositories:\n  - prefix: oci://x/y\n    keys:\n      - gone.pub\n", "policy.yaml:4: repositories[0].keys[0]: file does not exist"},
		{"bad key file", "repositories:\n  - prefix: oci://x/y\n    keys: [junk.pub]\n", "policy.yaml:3: repositories[0].keys[0]: junk.pub: not a PEM public key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicy("policy.yaml", []byte(c.text), readTestKey)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("more than one line: %q", err)
			}
		})
	}
}

func TestDefaultPolicyFile(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOME": "/h"}, "/h/.config/bundle/policy.yaml"},
		{map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x"}, "/x/bundle/policy.yaml"},
		{map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x", "BUNDLE_CONFIG_HOME": "/b"}, "/b/policy.yaml"},
	} {
		if got := DefaultPolicyFile(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %s, want %s", c.env, got, c.want)
		}
	}
}

func TestLoadPolicyOptional(t *testing.T) {
	if p, err := LoadPolicy(t.TempDir()+"/policy.yaml", true); p != nil || err != nil {
		t.Fatalf("missing default policy: %v %v", p, err)
	}
	if _, err := LoadPolicy(t.TempDir()+"/policy.yaml", false); err == nil {
		t.Fatal("a missing --policy file was accepted")
	}
	dir := t.TempDir()
	os.WriteFile(dir+"/team.pub", testPub, 0o644)
	os.WriteFile(dir+"/policy.yaml", []byte("repositories:\n  - prefix: oci://x/y\n    keys: [team.pub]\n"), 0o644)
	p, err := LoadPolicy(dir+"/policy.yaml", false)
	if err != nil || p.For("x/y/z") == nil {
		t.Fatalf("keys relative to the policy file: %v", err)
	}
}

// A policy file, and the key files it names, are read only when they are
// regular files within their limits: a directory, a named pipe, /dev/zero
// or a huge file is refused in one line naming it, at once.
func TestLoadPolicyBoundedFiles(t *testing.T) {
	for _, bad := range testutil.BadFiles(t, MaxPolicyFileSize) {
		t.Run("policy "+bad.Name, func(t *testing.T) {
			var err error
			testutil.Within(t, 10*time.Second, func() { _, err = LoadPolicy(bad.Path, true) })
			if err == nil || !strings.HasPrefix(err.Error(), "signature policy "+bad.Path) || !strings.Contains(err.Error(), bad.Want) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("got %v, want signature policy %s ... %s", err, bad.Path, bad.Want)
			}
		})
	}
	for _, bad := range testutil.BadFiles(t, MaxKeyFileSize) {
		t.Run("key "+bad.Name, func(t *testing.T) {
			policy := filepath.Join(t.TempDir(), "policy.yaml")
			os.WriteFile(policy, []byte("repositories:\n  - prefix: oci://x/y\n    keys: ["+bad.Path+"]\n"), 0o644)
			var err error
			testutil.Within(t, 10*time.Second, func() { _, err = LoadPolicy(policy, false) })
			want := policy + ":3: repositories[0].keys[0]: key file " + bad.Path
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), bad.Want) {
				t.Errorf("got %v, want %s ... %s", err, want, bad.Want)
			}
		})
	}
}

// FuzzParsePolicy: any input gives a policy or one FILE:LINE error line,
// never a panic; every rule of a policy has keys and a clean prefix.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("repositories:\n  - prefix: oci://x/y\n    keys: [team.pub]\n"))
	f.Add([]byte("repositories:\n  - prefix: oci://x\n    keys: [team.pub, ops.pub]\n  - prefix: oci://x/y/z\n    keys: [junk.pub]\n"))
	f.Add([]byte("repositories: [{prefix: 'oci://a/b', keys: [gone.pub]}]"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("policy.yaml", data, readTestKey)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy.yaml") || !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("error %q: not FILE[:LINE]: ... or not ErrInvalid", err)
			}
			return
		}
		for _, r := range p.Rules {
			if len(r.Keys) == 0 || r.Prefix == "" || strings.HasPrefix(r.Prefix, "oci://") || strings.HasSuffix(r.Prefix, "/") {
				t.Fatalf("rule %+v", r)
			}
			if p.For(r.Prefix) == nil {
				t.Fatalf("rule %q does not cover its own prefix", r.Prefix)
			}
		}
	})
}
