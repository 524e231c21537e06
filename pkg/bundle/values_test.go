package bundle

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

func TestValuesMerge(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"a.yaml": "wiki:\n  name: A\n  language: en\nreplicaCount: 1\n",
		"b.yaml": "wiki:\n  name: B\n",
	})
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
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

// Each kind of setting in Helm's order: files, --set-json, --set,
// --set-string, --set-file, --set-literal; a later kind wins for the same
// key, and each is typed as Helm types it.
func TestValuesPrecedence(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"v.yaml":   "a: file\nb: file\nc: file\nd: file\ne: file\nkeep: {x: 1}\n",
		"motd.txt": "hello, {world}\n",
	})
	file, content := filepath.Join(dir, "v.yaml"), filepath.Join(dir, "motd.txt")
	all := ValuesOptions{
		Files:      []string{file},
		SetJSON:    []string{`a="json",b="json",c="json",d="json",e="json"`, `keep.y=[1,"two",{"three":3}]`, "nulled=null"},
		Set:        []string{"b=set,c=set,d=set,e=set", "n=3", "t=true"},
		SetString:  []string{"c=string,d=string,e=string", "s=3", "u=true"},
		SetFile:    []string{"d=" + content},
		SetLiteral: []string{"e=a,b={c}\\d"},
	}
	got, err := all.Merge()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "json", "b": "set", "c": "string", "d": "hello, {world}\n", "e": `a,b={c}\d`,
		"keep":   map[string]any{"x": float64(1), "y": []any{float64(1), "two", map[string]any{"three": float64(3)}}},
		"nulled": nil,
		"n":      int64(3), "t": true, "s": "3", "u": "true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	// Within one flag, the later setting wins.
	tests := []struct {
		name string
		opts ValuesOptions
		want any
	}{
		{"--set", ValuesOptions{Set: []string{"k=1", "k=2"}}, int64(2)},
		{"--set-string", ValuesOptions{SetString: []string{"k=1", "k=2"}}, "2"},
		{"--set-json", ValuesOptions{SetJSON: []string{`k={"a":1}`, `k.b=2`}}, map[string]any{"a": float64(1), "b": float64(2)}},
		{"--set-literal", ValuesOptions{SetLiteral: []string{"k=1", "k=2,3"}}, "2,3"},
		{"--set list", ValuesOptions{Set: []string{"k={a,b}"}}, []any{"a", "b"}},
		{"--set escaped comma", ValuesOptions{Set: []string{`k=a\,b`}}, "a,b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.Merge()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got["k"], tt.want) {
				t.Errorf("k = %#v, want %#v", got["k"], tt.want)
			}
		})
	}
}

func TestValuesInvalid(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"bad.yaml": "wiki:\n  name: [unclosed\n", "list.yaml": "- a\n"})
	bad, list := filepath.Join(dir, "bad.yaml"), filepath.Join(dir, "list.yaml")
	tests := []struct {
		name string
		opts ValuesOptions
		want string
	}{
		{"malformed file", ValuesOptions{Files: []string{bad}}, bad + ":1: invalid YAML"},
		{"not a mapping", ValuesOptions{Files: []string{list}}, bad[:len(bad)-len("bad.yaml")] + "list.yaml:1: the file must be a mapping, not a list"},
		{"missing file", ValuesOptions{Files: []string{filepath.Join(dir, "nope.yaml")}}, "values file " + filepath.Join(dir, "nope.yaml") + ": open"},
		{"bad --set", ValuesOptions{Set: []string{"a.b"}}, `Set "a.b": key "b" has no value (write key=value, e.g. wiki.name=Docs)`},
		{"bad --set-string", ValuesOptions{SetString: []string{"a[x]=1"}}, `SetString "a[x]=1": `},
		{"bad --set-json", ValuesOptions{SetJSON: []string{`a={"b":}`}}, `SetJSON "a={\"b\":}": `},
		{"--set-json without a value", ValuesOptions{SetJSON: []string{`a`}}, `SetJSON "a": key "a" has no value (write key=JSON, e.g. 'ports=[80,443]')`},
		{"missing --set-file file", ValuesOptions{SetFile: []string{"cfg=" + filepath.Join(dir, "nope.conf")}},
			`SetFile "cfg=` + filepath.Join(dir, "nope.conf") + `": open ` + filepath.Join(dir, "nope.conf") + `: no such file or directory`},
		{"--set-file without a path", ValuesOptions{SetFile: []string{"cfg"}}, `SetFile "cfg": key "cfg" has no value (write key=path, e.g. config=app.conf)`},
		{"--set-literal without a value", ValuesOptions{SetLiteral: []string{"a"}}, `SetLiteral "a": key "a" has no value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.Merge()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
		})
	}
}

// Values files (-f) and --set-file files are read only when they are
// regular files, up to MaxValuesFileSize: a directory, a named pipe or
// /dev/zero is refused in one line naming it, at once.
func TestValuesFilesBounded(t *testing.T) {
	for _, bad := range testutil.BadFiles(t, MaxValuesFileSize) {
		t.Run(bad.Name, func(t *testing.T) {
			for _, tt := range []struct {
				opts ValuesOptions
				want string
			}{
				{ValuesOptions{Files: []string{bad.Path}}, "values file " + bad.Path},
				{ValuesOptions{SetFile: []string{"cfg=" + bad.Path}}, `SetFile "cfg=` + bad.Path + `": ` + bad.Path},
			} {
				var err error
				testutil.Within(t, 10*time.Second, func() { _, err = tt.opts.Merge() })
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), bad.Want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%+v: got %v, want one line %s ... %s", tt.opts, err, tt.want, bad.Want)
				}
			}
		})
	}
}

// FuzzValuesSettings feeds one argument to every --set flavour: none may
// panic or return a multi-line error.
func FuzzValuesSettings(f *testing.F) {
	for _, s := range []string{"a=1", "a.b[0]=x,c={1,2}", `a={"b":[1,null]}`, "a[-1]=x", "a[999999]=1", `a\,b=c\\`, "=", "a.=b", "{}", "a[0].b[1]=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, o := range []ValuesOptions{{Set: []string{s}}, {SetString: []string{s}}, {SetJSON: []string{s}}, {SetLiteral: []string{s}}} {
			v, err := o.Merge()
			checkValues(t, v, err)
		}
	})
}

func FuzzParseValues(f *testing.F) {
	for _, s := range []string{"a: 1\nb: {c: [1, 2]}\n", "", "? [a]\n: b\n", "a:\n  b: 1\n  b: 2\n", "a: [{b: 1, c: {d: 1, d: 2}}]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseValues("values.yaml", data)
		if err == nil && duplicated(data) {
			t.Fatalf("accepted a key given twice: %q", data)
		}
		checkValues(t, v, err)
	})
}

// checkValues fails the test on a multi-line error, or on neither values
// nor an error.
func checkValues(t *testing.T, v map[string]any, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("multi-line error: %q", err)
	}
	if err == nil && v == nil {
		t.Fatal("nil values without error")
	}
}
