package bundle

import (
	"errors"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// A key given twice is refused at every depth of the files bundle reads
// strictly (-f values files, bundle.yaml, bundle.lock), with the file, the
// line, the path of the key and where it was first given.
func TestDuplicateKeysAtEveryDepth(t *testing.T) {
	const head = "apiVersion: bundle/v1\nkind: Bundle\n"
	lock := "apiVersion: bundle/v1\nkind: Lock\nrequires: sha256:35676ae428e345a34e8d778fc76cbcf9aa071c887f3828e2c3b4a4bb7e945d2a\nbundles:\n"
	parsers := map[string]func(string, []byte) error{
		"values.yaml": func(n string, d []byte) error { _, err := ParseValues(n, d); return err },
		"bundle.yaml": func(n string, d []byte) error { _, err := ParseFile(n, d); return err },
		"bundle.lock": func(n string, d []byte) error { _, err := ParseLock(n, d); return err },
	}
	tests := []struct {
		name, file, src, want string
	}{
		{"top level", "values.yaml", "a: 1\nb: 2\na: 3\n", "values.yaml:3: a: duplicate key (first at line 1) (keep one)"},
		{"second level", "values.yaml", "a:\n  b: 1\n  b: 2\n", "values.yaml:3: a.b: duplicate key (first at line 2) (keep one)"},
		{"deep", "values.yaml", "a:\n  b:\n    c:\n      d: 1\n      e: 2\n      d: 3\n", "values.yaml:6: a.b.c.d: duplicate key (first at line 4) (keep one)"},
		{"in a list", "values.yaml", "ports:\n- name: http\n  port: 80\n  port: 8080\n", "values.yaml:4: ports[0].port: duplicate key (first at line 3) (keep one)"},
		{"flow mapping", "values.yaml", "a: {b: 1, b: 2}\n", "values.yaml:1: a.b: duplicate key (first at line 1) (keep one)"},
		{"quoted and plain", "values.yaml", "a:\n  b: 1\n  \"b\": 2\n", "values.yaml:3: a.b: duplicate key (first at line 2) (keep one)"},
		{"same number written twice", "values.yaml", "a:\n  1: x\n  0x1: y\n", "values.yaml:3: a.0x1: duplicate key (first at line 2) (keep one)"},
		{"same boolean as string", "values.yaml", "a:\n  true: x\n  \"true\": y\n", "values.yaml:3: a.true: duplicate key (first at line 2) (keep one)"},
		{"requirement field", "bundle.yaml", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    bundle: redis\n", "bundle.yaml:7: requires.db.bundle: duplicate key (first at line 5) (keep one)"},
		{"requirement values", "bundle.yaml", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    values:\n      auth:\n        user: a\n        user: b\n", "bundle.yaml:10: requires.db.values.auth.user: duplicate key (first at line 9) (keep one)"},
		{"instance", "bundle.yaml", head + "requires:\n  db: {bundle: a, version: ^1}\n  db: {bundle: b, version: ^1}\n", "bundle.yaml:5: requires.db: duplicate key (first at line 4) (keep one)"},
		{"output", "bundle.yaml", head + "outputs:\n  host: a\n  host: b\n", "bundle.yaml:5: outputs.host: duplicate key (first at line 4) (keep one)"},
		{"locked entry", "bundle.lock", lock + "  - name: a\n    name: b\n", "bundle.lock:6: bundles[0].name: duplicate key (first at line 5) (keep one)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parsers[tt.file](tt.file, []byte(tt.src))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got  %v\n want %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("does not match ErrInvalid: %v", err)
			}
		})
	}
}

// What is not a duplicate stays accepted: the same key in sibling
// mappings, in list items, and an anchor used twice.
func TestDuplicateKeysNotConfused(t *testing.T) {
	for _, src := range []string{
		"a:\n  name: x\nb:\n  name: y\n",
		"list:\n- name: x\n- name: y\n",
		"base: &b {name: x}\none: *b\ntwo: *b\n",
		"a:\n  b: 1\n  B: 2\n  \"1\": 3\n  \"01\": 4\n",
	} {
		if _, err := ParseValues("values.yaml", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// Chart.yaml and a chart's own values.yaml accept duplicates, the later
// winning, as Helm does.
func TestChartFilesKeepHelmsDuplicates(t *testing.T) {
	b, err := LoadDir(writeBundle(t, map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 1.0.0\nversion: 1.0.1\n",
		"values.yaml": "a:\n  b: 1\n  b: 2\n",
	}))
	if err != nil {
		t.Fatalf("Helm accepts duplicate keys in a chart's own files: %v", err)
	}
	if b.Version.String() != "1.0.1" {
		t.Errorf("version %s, want the later key's 1.0.1", b.Version)
	}
}

// duplicated reports whether yaml.v3, decoding into Go values, finds a key
// given twice: an oracle for the fuzz target below.
func duplicated(data []byte) bool {
	var v any
	err := yaml.Unmarshal(data, &v)
	return err != nil && strings.Contains(err.Error(), "already defined")
}
