package sign

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// Limits of the files a policy is read from: far more than any policy or
// PEM key needs, so that only a path to the wrong file is refused.
const (
	MaxPolicyFileSize = 1 << 20
	MaxKeyFileSize    = 64 << 10
)

// Policy says which public keys must have signed the bundles of which
// OCI repositories (see docs/signing.md). A file reads
//
//	repositories:
//	  - prefix: oci://registry.example.com/team
//	    keys: [team.pub]          # files, relative to the policy file
//
// A bundle oci://HOST/NS/NAME is under the rule with the longest prefix
// that is it or one of its parents (whole path segments); a bundle under
// no rule is not checked.
type Policy struct {
	File  string
	Rules []Rule
}

// Rule is one entry of repositories:.
type Rule struct {
	Prefix string // HOST/PATH, without oci://
	Keys   []Key
	Line   int // of the entry in File
}

// Where names the rule in messages: FILE:LINE.
func (r *Rule) Where(p *Policy) string { return fmt.Sprintf("%s:%d", p.File, r.Line) }

// For returns the rule a repository (HOST/NS/NAME, with or without
// oci://) is under, or nil. A nil policy has no rules.
func (p *Policy) For(repository string) *Rule {
	if p == nil {
		return nil
	}
	repository = strings.TrimPrefix(repository, "oci://")
	var best *Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		if repository == r.Prefix || strings.HasPrefix(repository, r.Prefix+"/") {
			if best == nil || len(r.Prefix) > len(best.Prefix) {
				best = r
			}
		}
	}
	return best
}

// DefaultPolicyFile is $BUNDLE_CONFIG_HOME/policy.yaml, else
// $XDG_CONFIG_HOME/bundle/policy.yaml, else
// $HOME/.config/bundle/policy.yaml (as repositories.yaml).
func DefaultPolicyFile(getenv func(string) string) string {
	if d := getenv("BUNDLE_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "policy.yaml")
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "bundle", "policy.yaml")
	}
	return filepath.Join(getenv("HOME"), ".config", "bundle", "policy.yaml")
}

// LoadPolicy reads a policy file and its keys. With optional, a missing
// file is no policy (nil, nil): the default location.
func LoadPolicy(file string, optional bool) (*Policy, error) {
	data, err := userfile.Read("signature policy", file, MaxPolicyFileSize)
	switch {
	case errors.Is(err, errdefs.ErrInvalid):
		return nil, err // says which file
	case optional && errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, errdefs.Wrap(errdefs.ErrInvalid, err, "signature policy: %v", err)
	}
	dir := filepath.Dir(file)
	return ParsePolicy(file, data, func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return ReadKeyFile("key file", name)
	})
}

// ReadKeyFile reads a key file (PEM) named in errors as what, e.g.
// "--key": only a regular file, of at most MaxKeyFileSize bytes.
func ReadKeyFile(what, name string) ([]byte, error) {
	return userfile.Read(what, name, MaxKeyFileSize)
}

// ParsePolicy parses a policy file's content; readKey reads a key file
// it names. Errors are *errdefs.FileError, FILE:LINE: FIELD: PROBLEM.
func ParsePolicy(file string, data []byte, readKey func(string) ([]byte, error)) (*Policy, error) {
	bad := func(n *yaml.Node, field, format string, args ...any) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &errdefs.FileError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
			msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		}
		return nil, &errdefs.FileError{File: file, Line: line, Msg: "not YAML: " + msg}
	}
	p := &Policy{File: file}
	if len(doc.Content) == 0 {
		return nil, bad(nil, "", "empty policy: list repositories: with their keys (see docs/signing.md)")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, bad(top, "", "want a mapping with repositories:")
	}
	var repos *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "repositories":
			repos = v
		default:
			return nil, bad(k, k.Value, "unknown field (want repositories)")
		}
	}
	if repos == nil {
		return nil, bad(top, "repositories", "missing: list the repositories whose bundles must be signed")
	}
	if repos.Kind != yaml.SequenceNode {
		return nil, bad(repos, "repositories", "want a list of {prefix, keys}")
	}
	seen := map[string]int{}
	for i, e := range repos.Content {
		field := fmt.Sprintf("repositories[%d]", i)
		if e.Kind != yaml.MappingNode {
			return nil, bad(e, field, "want {prefix: oci://HOST/PATH, keys: [FILE]}")
		}
		r := Rule{Line: e.Line}
		var prefixNode, keysNode *yaml.Node
		for j := 0; j+1 < len(e.Content); j += 2 {
			k, v := e.Content[j], e.Content[j+1]
			switch k.Value {
			case "prefix":
				prefixNode = v
			case "keys":
				keysNode = v
			default:
				return nil, bad(k, field+"."+k.Value, "unknown field (want prefix, keys)")
			}
		}
		if prefixNode == nil {
			return nil, bad(e, field+".prefix", "missing: the oci://HOST/PATH whose bundles must be signed")
		}
		if prefixNode.Kind != yaml.ScalarNode {
			return nil, bad(prefixNode, field+".prefix", "want a string oci://HOST/PATH")
		}
		pre, ok := strings.CutPrefix(prefixNode.Value, "oci://")
		pre = strings.TrimSuffix(pre, "/")
		host, _, _ := strings.Cut(pre, "/")
		if !ok || host == "" || strings.ContainsAny(pre, "@ \t") || strings.Contains(pre, "//") {
			return nil, bad(prefixNode, field+".prefix", "%q is not oci://HOST[/PATH]", prefixNode.Value)
		}
		if l, dup := seen[pre]; dup {
			return nil, bad(prefixNode, field+".prefix", "oci://%s is already listed at line %d", pre, l)
		}
		seen[pre] = prefixNode.Line
		r.Prefix = pre
		if keysNode == nil {
			return nil, bad(e, field+".keys", "missing: the public key files (cosign.pub) of the trusted signers")
		}
		if keysNode.Kind != yaml.SequenceNode || len(keysNode.Content) == 0 {
			return nil, bad(keysNode, field+".keys", "want a non-empty list of public key files")
		}
		for j, kn := range keysNode.Content {
			kf := fmt.Sprintf("%s.keys[%d]", field, j)
			if kn.Kind != yaml.ScalarNode || kn.Value == "" {
				return nil, bad(kn, kf, "want a public key file name")
			}
			data, err := readKey(kn.Value)
			if err != nil {
				return nil, bad(kn, kf, "%v", err)
			}
			k, err := LoadPublicKey(kn.Value, data)
			if err != nil {
				return nil, bad(kn, kf, "%v", err)
			}
			r.Keys = append(r.Keys, Key{Name: kn.Value, Key: k})
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}
