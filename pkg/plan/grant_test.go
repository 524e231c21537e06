package plan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

const goodGrant = `{"provider":{"release":"team-db","namespace":"data","bundle":"mariadb","version":"1.2.0","repository":"stable","digest":"sha256:ab","outputs":{"host":"h"}},` +
	`"consumer":{"namespace":"web","release":"wiki","instance":"database"},"claim":{"id":"wiki_database_1a2b3c4d","secret":"wiki-database-1a2b3c4d"}}`

func TestParseGrantRecord(t *testing.T) {
	r, err := ParseGrantRecord("cm", []byte(goodGrant))
	if err != nil || r.Provider.Release != "team-db" || r.Consumer.String() != "web/wiki/database" || r.Claim.Secret != "wiki-database-1a2b3c4d" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"empty", ``, "not readable"},
		{"not JSON", `provider: x`, "not readable"},
		{"an unknown field", strings.Replace(goodGrant, `"claim"`, `"extra":1,"claim"`, 1), `unknown field "extra"`},
		{"two values", goodGrant + goodGrant, "more than one JSON value"},
		{"no provider", strings.Replace(goodGrant, `"release":"team-db",`, ``, 1), "names no provider"},
		{"no digest", strings.Replace(goodGrant, `"digest":"sha256:ab",`, ``, 1), "no digest"},
		{"no repository", strings.Replace(goodGrant, `"repository":"stable",`, ``, 1), "no repository"},
		{"a bad version", strings.Replace(goodGrant, `"1.2.0"`, `"1.2"`, 1), `version "1.2"`},
		{"a bad consumer namespace", strings.Replace(goodGrant, `"namespace":"web"`, `"namespace":"Web/x"`, 1), "not a Kubernetes namespace name"},
		{"a bad consumer release", strings.Replace(goodGrant, `"release":"wiki"`, `"release":"-wiki"`, 1), "not a release name"},
		{"a claim without its Secret", strings.Replace(goodGrant, `,"secret":"wiki-database-1a2b3c4d"`, ``, 1), "without its id or Secret"},
		{"too big", `{"provider":{"release":"` + strings.Repeat("x", MaxGrantRecord) + `"}}`, "more than"},
	} {
		_, err := ParseGrantRecord("ConfigMap data/x-grant", []byte(tc.data))
		if err == nil || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") ||
			!strings.HasPrefix(err.Error(), "ConfigMap data/x-grant: ") {
			t.Errorf("%s: %v, want one line with %q", tc.name, err, tc.want)
		}
	}
}

func TestParseConsumer(t *testing.T) {
	if c, err := ParseConsumer("web/wiki/database"); err != nil || c != (Consumer{"web", "wiki", "database"}) {
		t.Fatalf("%+v %v", c, err)
	}
	for _, s := range []string{"", "web/wiki", "web/wiki/", "/wiki/db", "web/wiki/db/x", "Web/wiki/db", "web/Wiki/db", "web/wiki/d b"} {
		if _, err := ParseConsumer(s); err == nil || !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// FuzzParseGrantRecord: whatever a ConfigMap holds, the parser returns a
// whole record or an invalid-input error, and a record it accepts
// survives a round trip.
func FuzzParseGrantRecord(f *testing.F) {
	f.Add([]byte(goodGrant))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"provider":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseGrantRecord("fuzz", data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseGrantRecord("again", again); err != nil {
			t.Fatalf("a record it accepted does not read back: %v\n%s", err, again)
		}
	})
}
