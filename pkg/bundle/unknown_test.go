package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

const closedSchema = `{"type": "object", "additionalProperties": false,
 "properties": {
  "replicaCount": {"type": "integer"},
  "image": {"type": "object", "additionalProperties": false, "properties": {"tag": {"type": "string"}, "repository": {"type": "string"}}},
  "extra": {"type": "object"},
  "labels": {"type": "object", "additionalProperties": false, "patternProperties": {"^x-": {"type": "string"}}}
 }}`

func TestCheckValues(t *testing.T) {
	dir := t.TempDir()
	prod := filepath.Join(dir, "prod.yaml")
	os.WriteFile(prod, []byte("replicaCount: 2\nimage:\n  tag: v1\n  tga: v2\n"), 0o644)
	tests := []struct {
		name   string
		schema string
		o      ValuesOptions
		want   string
	}{
		{"--set, misspelt", closedSchema, ValuesOptions{Set: []string{"replicaCont=3"}},
			"--set replicaCont=3: replicaCont is not a value of app (did you mean replicaCount?)"},
		{"a file, nested, its line", closedSchema, ValuesOptions{Files: []string{prod}},
			prod + ":4: image.tga is not a value of app (did you mean image.tag?)"},
		{"a setting wins over the file", closedSchema, ValuesOptions{Files: []string{prod}, SetString: []string{"image.tga=v3"}},
			"--set-string image.tga=v3: image.tga is not a value of app (did you mean image.tag?)"},
		{"nothing near", closedSchema, ValuesOptions{SetJSON: []string{`zzzzzzzz={}`}},
			"--set-json zzzzzzzz={}: zzzzzzzz is not a value of app (bundle show values app lists them)"},
		{"stdin", closedSchema, ValuesOptions{Files: []string{StdinFile}, Stdin: []byte("replicaCount: 1\nimage: {repositry: x}\n")},
			StdinName + ":2: image.repositry is not a value of app (did you mean image.repository?)"},
		{"a requirement instance", closedSchema, ValuesOptions{Set: []string{"database.auth.x=1", "global.a=1"}}, ""},
		{"an open object", closedSchema, ValuesOptions{Set: []string{"extra.anything=1"}}, ""},
		{"a pattern", closedSchema, ValuesOptions{Set: []string{"labels.x-team=a"}}, ""},
		{"a pattern missed", closedSchema, ValuesOptions{Set: []string{"labels.team=a"}}, "--set labels.team=a: labels.team is not a value of app (bundle show values app lists them)"},
		{"an open schema", `{"properties": {"a": {}}}`, ValuesOptions{Set: []string{"b=1"}}, ""},
		{"no schema", "", ValuesOptions{Set: []string{"b=1"}}, ""},
		{"a schema that does not parse is Helm's", "{", ValuesOptions{Set: []string{"b=1"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := tt.o.Merge()
			if err != nil {
				t.Fatal(err)
			}
			err = CheckValues("app", []byte(tt.schema), vals, tt.o, []string{"database", "global"})
			if tt.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n got  %v\n want %s", err, tt.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("%v is not ErrInvalid", err)
			}
		})
	}
}

func FuzzKeyLine(f *testing.F) {
	f.Add([]byte("a:\n  b: 1\n"), "a", "b")
	f.Add([]byte("- a\n"), "a", "")
	f.Add([]byte("a: &x {b: 1}\nc: *x\n"), "c", "b")
	f.Fuzz(func(t *testing.T, data []byte, k1, k2 string) {
		path := []string{k1}
		if k2 != "" {
			path = append(path, k2)
		}
		if n := keyLine(data, path); n < 0 || n > len(data)+1 {
			t.Errorf("line %d of %d bytes", n, len(data))
		}
	})
}
