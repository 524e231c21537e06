package bundle

import (
	"fmt"
	"os"
	"strings"

	"helm.sh/helm/v3/pkg/strvals"
)

// ValuesOptions are the values a user gives on the command line, in Helm's
// order of precedence: files first (later files win), then --set (later
// settings win).
type ValuesOptions struct {
	Files []string // -f/--values
	Set   []string // --set key=value[,key=value]
}

// Merge reads the files and applies the settings, returning the merged
// values. Errors name the file (with its line) or the --set argument.
func (o ValuesOptions) Merge() (map[string]any, error) {
	out := map[string]any{}
	for _, f := range o.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		v, err := ParseValues(f, data)
		if err != nil {
			return nil, err
		}
		out = MergeMaps(out, v)
	}
	for _, s := range o.Set {
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, fmt.Errorf("--set %q: %v (write key=value, e.g. --set wiki.name=Docs)", s, err)
		}
	}
	return out, nil
}

// ParseValues parses a values file: a YAML mapping (or nothing).
func ParseValues(name string, data []byte) (map[string]any, error) {
	if strings.TrimSpace(string(data)) == "" {
		return map[string]any{}, nil
	}
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return map[string]any{}, nil
	}
	n, err := mapping(name, root, "")
	if err != nil {
		return nil, err
	}
	return decodeMap(name, n, "")
}

// MergeMaps merges b into a, recursively for nested maps; b wins. a is
// modified and returned.
func MergeMaps(a, b map[string]any) map[string]any {
	if a == nil {
		a = map[string]any{}
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := a[k].(map[string]any); ok {
				a[k] = MergeMaps(am, bm)
				continue
			}
		}
		a[k] = v
	}
	return a
}
