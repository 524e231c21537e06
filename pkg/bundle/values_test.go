package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValuesMerge(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	b := filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte("wiki:\n  name: A\n  language: en\nreplicaCount: 1\n"), 0o644)
	os.WriteFile(b, []byte("wiki:\n  name: B\n"), 0o644)
	got, err := ValuesOptions{Files: []string{a, b}, Set: []string{"replicaCount=3", "database.auth.username=x"}}.Merge()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"wiki":         map[string]any{"name": "B", "language": "en"},
		"replicaCount": int64(3),
		"database":     map[string]any{"auth": map[string]any{"username": "x"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestValuesInvalid(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("wiki:\n  name: [unclosed\n"), 0o644)
	list := filepath.Join(dir, "list.yaml")
	os.WriteFile(list, []byte("- a\n"), 0o644)
	tests := []struct {
		name string
		opts ValuesOptions
		want string
	}{
		{"malformed file", ValuesOptions{Files: []string{bad}}, bad + ":1: invalid YAML"},
		{"not a mapping", ValuesOptions{Files: []string{list}}, bad[:len(bad)-len("bad.yaml")] + "list.yaml:1: the file must be a mapping, not a list"},
		{"missing file", ValuesOptions{Files: []string{filepath.Join(dir, "nope.yaml")}}, "values file " + filepath.Join(dir, "nope.yaml") + ": open"},
		{"bad --set", ValuesOptions{Set: []string{"a.b"}}, `--set "a.b": key "b" has no value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.Merge()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func FuzzParseValues(f *testing.F) {
	f.Add([]byte("a: 1\nb: {c: [1, 2]}\n"))
	f.Add([]byte(""))
	f.Add([]byte("? [a]\n: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseValues("values.yaml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if v == nil {
			t.Fatal("nil values without error")
		}
	})
}
