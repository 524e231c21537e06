package diff

import (
	"reflect"
	"testing"
)

func TestWiring(t *testing.T) {
	wired := func(host, port string) map[string]any {
		return map[string]any{
			"wiki": map[string]any{"name": "Docs"},
			"requires": map[string]any{
				"database": map[string]any{"host": host, "port": port, "password": "s3cret-" + port},
				"cache":    map[string]any{"hosts": []any{"a", "b"}},
			},
			// cache's own requirement, wired into cache's values
			"cache": map[string]any{"requires": map[string]any{"sentinel": map[string]any{"host": "s-" + host}}},
		}
	}
	for _, tt := range []struct {
		name          string
		before, after map[string]any
		want          []Wire
	}{
		{"same wiring", wired("db", "3306"), wired("db", "3306"), nil},
		{"an output changes, seen by the root", wired("db", "3306"), wired("db", "3307"), []Wire{
			{Action: Change, Consumer: "", Instance: "database", Output: "password", Hidden: true},
			{Action: Change, Consumer: "", Instance: "database", Output: "port", Before: "3306", After: "3307"},
		}},
		{"a nested requirement's output, seen by its parent", wired("db", "1"), map[string]any{
			"requires": wired("db", "1")["requires"],
			"cache":    map[string]any{"requires": map[string]any{"sentinel": map[string]any{"host": "elsewhere"}}},
		}, []Wire{
			{Action: Change, Consumer: "cache", Instance: "cache.sentinel", Output: "host", Before: "s-db", After: "elsewhere"},
		}},
		{"install: everything is new", nil, map[string]any{"requires": map[string]any{"database": map[string]any{"host": "db"}}}, []Wire{
			{Action: Create, Instance: "database", Output: "host", After: "db"},
		}},
		{"a requirement dropped", map[string]any{"requires": map[string]any{"database": map[string]any{"host": "db", "passwordSecret": "db-auth"}}}, map[string]any{}, []Wire{
			{Action: Delete, Instance: "database", Output: "host", Before: "db"},
			{Action: Delete, Instance: "database", Output: "passwordSecret", Before: "db-auth"},
		}},
		{"lists compare as JSON", map[string]any{"requires": map[string]any{"cache": map[string]any{"hosts": []any{"a"}}}},
			map[string]any{"requires": map[string]any{"cache": map[string]any{"hosts": []any{"a", "b"}}}}, []Wire{
				{Action: Change, Instance: "cache", Output: "hosts", Before: `["a"]`, After: `["a","b"]`},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Wiring(tt.before, tt.after)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Wiring:\n got  %+v\n want %+v", got, tt.want)
			}
		})
	}
}

func TestWireString(t *testing.T) {
	if s := (Wire{Instance: "database", Output: "host"}).String(); s != "database.host (used by the root)" {
		t.Error(s)
	}
	if s := (Wire{Consumer: "cache", Instance: "cache.sentinel", Output: "host"}).String(); s != "cache.sentinel.host (used by cache)" {
		t.Error(s)
	}
}
