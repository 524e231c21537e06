package bundle

import (
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/strvals"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// ValuesOptions are the values a user gives on the command line, with
// Helm's flags and Helm's order of precedence (helm's values.Options):
// files first (later files win), then --set-json, --set, --set-string,
// --set-file and --set-literal, each in the order given; a later setting
// wins over an earlier one.
type ValuesOptions struct {
	// Files are values files (-f/--values FILE), later ones winning; the
	// name StdinFile stands for Stdin.
	Files []string
	// Stdin is the values file StdinFile names in Files (-f -): standard
	// input, read once by the caller, which bounds it by
	// MaxValuesFileSize as a file is. Errors name it StdinName.
	Stdin []byte
	// SetJSON are key=JSON settings (--set-json): the value is a JSON
	// scalar, array or object; empty means null.
	SetJSON []string
	// Set are key=value[,key=value] settings (--set): values are typed
	// (true, 3 and null are a bool, an integer and null).
	Set []string
	// SetString are --set-string settings: every value is a string.
	SetString []string
	// SetFile are key=PATH settings (--set-file): the value is the file's
	// content, as a string.
	SetFile []string
	// SetLiteral are --set-literal settings: key=VALUE, where VALUE is
	// taken as one string, commas, braces and backslashes included.
	SetLiteral []string
}

// StdinFile is the name of a values file that stands for standard input
// (-f -), as in helm; StdinName is how errors name it.
const (
	StdinFile = "-"
	StdinName = "<stdin>"
)

// Merge reads the files and applies the settings, returning the merged
// values. Errors are one line naming the file (with its line), or an
// *errdefs.OptionError naming the setting's field (Set, SetFile, ...) and
// its argument, e.g. `SetFile "cfg=nginx.conf": open nginx.conf: no such
// file or directory`.
func (o ValuesOptions) Merge() (map[string]any, error) {
	out := map[string]any{}
	for _, f := range o.Files {
		name, data := f, o.Stdin
		if f == StdinFile {
			name = StdinName
		} else {
			var err error
			data, err = userfile.Read("values file", f, MaxValuesFileSize)
			if errors.Is(err, errdefs.ErrInvalid) {
				return nil, err // says which file
			}
			if err != nil {
				return nil, fmt.Errorf("values file %s: %w", f, err)
			}
		}
		v, err := ParseValues(name, data)
		if err != nil {
			return nil, err
		}
		out = MergeMaps(out, v)
	}
	settings := []struct {
		option, hint string
		args         []string
		parse        func(string, map[string]any) error
	}{
		{"SetJSON", `write key=JSON, e.g. 'ports=[80,443]'`, o.SetJSON, strvals.ParseJSON},
		{"Set", "write key=value, e.g. wiki.name=Docs", o.Set, strvals.ParseInto},
		{"SetString", "write key=value, e.g. build=0123", o.SetString, strvals.ParseIntoString},
		{"SetFile", "write key=path, e.g. config=app.conf", o.SetFile, func(s string, dest map[string]any) error {
			return strvals.ParseIntoFile(s, dest, readValueFile)
		}},
		{"SetLiteral", "write key=value, e.g. 'motd=a,b'", o.SetLiteral, strvals.ParseLiteralInto},
	}
	for _, set := range settings {
		for _, s := range set.args {
			if err := set.parse(s, out); err != nil {
				if fe := (*fileError)(nil); errors.As(err, &fe) {
					return nil, &errdefs.OptionError{Option: set.option, Value: s, Msg: errdefs.OneLine(fe.err.Error()), Err: fe.err}
				}
				return nil, &errdefs.OptionError{Option: set.option, Value: s, Msg: fmt.Sprintf("%s (%s)", errdefs.OneLine(err.Error()), set.hint)}
			}
		}
	}
	return out, nil
}

// fileError is an unreadable --set-file file; its message says enough.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }

func readValueFile(path []rune) (any, error) {
	data, err := userfile.Read("", string(path), MaxValuesFileSize)
	if err != nil {
		return nil, &fileError{err}
	}
	return string(data), nil
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
	if err := noDuplicateKeys(name, root, ""); err != nil {
		return nil, err
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
