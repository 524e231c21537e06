package bundle

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/strvals"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// UnknownValueError is a value no schema allows: a key set at a level of
// the values where the bundle's values.schema.json lists the keys
// (additionalProperties: false) and not this one.
type UnknownValueError struct {
	// Bundle is the bundle whose schema refuses it; Path the key's path
	// (image.tag); Origin where it was given: FILE:LINE of a values
	// file, or the flag and its argument (--set replicaCont=3); empty
	// when not found.
	Bundle, Path, Origin string
	// Suggest is the allowed key nearest the misspelt one, if any is
	// near.
	Suggest string
}

func (e *UnknownValueError) Error() string {
	msg := fmt.Sprintf("%s is not a value of %s", e.Path, e.Bundle)
	if e.Origin != "" {
		msg = e.Origin + ": " + msg
	}
	if e.Suggest != "" {
		return msg + fmt.Sprintf(" (did you mean %s?)", e.Suggest)
	}
	return msg + " (bundle show values " + e.Bundle + " lists them)"
}

// Unwrap makes it an errdefs.ErrInvalid.
func (e *UnknownValueError) Unwrap() error { return errdefs.ErrInvalid }

// CheckValues refuses the first key of vals (in path order) that schema
// (a values.schema.json) does not allow, saying where o gave it. allowed
// are top-level keys allowed besides the schema's (a bundle's
// requirement instances, global). A schema that does not parse is
// Helm's to report: nothing is refused here.
func CheckValues(bundle string, schema []byte, vals map[string]any, o ValuesOptions, allowed []string) error {
	if len(schema) == 0 || len(vals) == 0 {
		return nil
	}
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil
	}
	path, suggest, ok := unknownKey(s, vals, nil, allowed)
	if !ok {
		return nil
	}
	return &UnknownValueError{Bundle: bundle, Path: strings.Join(path, "."), Origin: o.origin(path), Suggest: suggest}
}

// unknownKey finds the first key of vals under path that schema s does
// not allow, and the allowed key nearest it.
func unknownKey(s, vals map[string]any, path, extra []string) ([]string, string, bool) {
	props, _ := s["properties"].(map[string]any)
	closed := s["additionalProperties"] == false
	patterns, _ := s["patternProperties"].(map[string]any)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		here := append(slices.Clone(path), k)
		if sub, ok := props[k].(map[string]any); ok {
			if m, ok := vals[k].(map[string]any); ok {
				if p, sug, ok := unknownKey(sub, m, here, nil); ok {
					return p, sug, true
				}
			}
			continue
		}
		if !closed || slices.Contains(extra, k) || matchesPattern(patterns, k) {
			continue
		}
		names := slices.Clone(extra)
		for name := range props {
			names = append(names, name)
		}
		sug := nearest(k, names)
		if sug != "" {
			sug = strings.Join(append(slices.Clone(path), sug), ".")
		}
		return here, sug, true
	}
	return nil, "", false
}

func matchesPattern(patterns map[string]any, k string) bool {
	for p := range patterns {
		if re, err := regexp.Compile(p); err == nil && re.MatchString(k) {
			return true
		}
	}
	return false
}

// nearest is the name nearest k by edit distance (case aside), if near
// enough to be a misspelling: at most a third of k's length, at least 1,
// at most 3.
func nearest(k string, names []string) string {
	sort.Strings(names)
	best, bestD := "", min(3, max(1, len(k)/3))+1
	for _, n := range names {
		if d := editDistance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the edit distance between a and b, by rune: insertions,
// deletions, substitutions and transpositions of neighbours (optimal
// string alignment).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // a transposition
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// origin says where o gives the value at path: the last setting that
// sets it (settings win over files), or FILE:LINE of the last values file
// that does; "" when none is found.
func (o ValuesOptions) origin(path []string) string {
	settings := []struct {
		flag  string
		args  []string
		parse func(string, map[string]any) error
	}{
		{"--set-literal", o.SetLiteral, strvals.ParseLiteralInto},
		{"--set-file", o.SetFile, func(s string, dest map[string]any) error {
			return strvals.ParseIntoFile(s, dest, func([]rune) (any, error) { return "", nil })
		}},
		{"--set-string", o.SetString, strvals.ParseIntoString},
		{"--set", o.Set, strvals.ParseInto},
		{"--set-json", o.SetJSON, strvals.ParseJSON},
	}
	for _, set := range settings {
		for i := len(set.args) - 1; i >= 0; i-- {
			m := map[string]any{}
			if set.parse(set.args[i], m) == nil && hasPath(m, path) {
				return set.flag + " " + set.args[i]
			}
		}
	}
	for i := len(o.Files) - 1; i >= 0; i-- {
		name, data := o.Files[i], o.Stdin
		if name == StdinFile {
			name = StdinName
		} else {
			var err error
			if data, err = readValueFileBytes(name); err != nil {
				continue
			}
		}
		if line := keyLine(data, path); line > 0 {
			return fmt.Sprintf("%s:%d", name, line)
		}
	}
	return ""
}

func hasPath(m map[string]any, path []string) bool {
	for i, k := range path {
		v, ok := m[k]
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if m, ok = v.(map[string]any); !ok {
			return false
		}
	}
	return false
}

// keyLine is the line of the key at path in YAML data; 0 when absent.
func keyLine(data []byte, path []string) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	n := doc.Content[0]
	for depth, k := range path {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		line := 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next, line = n.Content[i+1], n.Content[i].Line
			}
		}
		if next == nil {
			return 0
		}
		if depth == len(path)-1 {
			return line
		}
		n = next
	}
	return 0
}

func readValueFileBytes(name string) ([]byte, error) {
	return userfile.Read("values file", name, MaxValuesFileSize)
}
