package bundle

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestParseFileValid(t *testing.T) {
	src := `apiVersion: bundle/v1
kind: Bundle
requires:
  database:
    bundle: mariadb
    version: ^1.0.0
    values: {auth: {database: wiki, username: wiki}}
    outputs: [host, port]
  cache:
    bundle: redis
    repository: oci://registry.example.com/bundles
    version: ~7.2
    condition: cache.enabled
outputs:
  url: 'http://{{ .Release.Name }}'
`
	f, err := ParseFile("bundle.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Requires) != 2 {
		t.Fatalf("got %d requirements, want 2", len(f.Requires))
	}
	// Sorted by instance name.
	cache, db := f.Requires[0], f.Requires[1]
	if cache.Name != "cache" || db.Name != "database" {
		t.Fatalf("order: %s, %s", cache.Name, db.Name)
	}
	if db.Repository != DefaultRepository || db.Bundle != "mariadb" || db.Version != "^1.0.0" || db.Line != 4 {
		t.Errorf("database = %+v", db)
	}
	if got := db.Values["auth"].(map[string]any)["database"]; got != "wiki" {
		t.Errorf("database values: auth.database = %v", got)
	}
	if strings.Join(db.Outputs, ",") != "host,port" {
		t.Errorf("outputs = %v", db.Outputs)
	}
	if cache.Repository != "oci://registry.example.com/bundles" || cache.Condition != "cache.enabled" {
		t.Errorf("cache = %+v", cache)
	}
	if !cache.Constraint.Check(semver.MustParse("7.2.5")) || cache.Constraint.Check(semver.MustParse("7.3.0")) {
		t.Errorf("cache constraint %s misbehaves", cache.Constraint)
	}
	if len(f.Outputs) != 1 || f.Outputs[0].Name != "url" || f.Outputs[0].Line != 15 {
		t.Errorf("outputs = %+v", f.Outputs)
	}
}

func TestParseFileInvalid(t *testing.T) {
	const head = "apiVersion: bundle/v1\nkind: Bundle\n"
	// A data bundle's outputs (lines 3-5), and its backup: (from line 6).
	const db = "outputs:\n  {host: h, port: p, passwordSecret: s,\n   database: d}\n"
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", "bundle.yaml: file is empty (start it with apiVersion: bundle/v1 and kind: Bundle)"},
		{"not a mapping", "- a\n- b\n", "bundle.yaml:1: the file must be a mapping, not a list"},
		{"syntax", "apiVersion: [\n", "bundle.yaml:1: invalid YAML: did not find expected node content"},
		{"tab indentation", "apiVersion: bundle/v1\nrequires:\n\tdb: {}\n", "bundle.yaml:3: invalid YAML: found character that cannot start any token"},
		{"two documents", head + "---\nfoo: bar\n", "bundle.yaml:3: more than one YAML document (remove the --- separator and what follows)"},
		{"missing apiVersion", "kind: Bundle\n", "bundle.yaml:1: apiVersion: missing"},
		{"wrong apiVersion", "apiVersion: bundle/v2\nkind: Bundle\n", `bundle.yaml:1: apiVersion: unsupported apiVersion "bundle/v2" (use bundle/v1)`},
		{"wrong kind", "apiVersion: bundle/v1\nkind: Chart\n", `bundle.yaml:2: kind: unsupported kind "Chart" (use Bundle)`},
		{"unknown top field", head + "require: {}\n", "bundle.yaml:3: require: unknown field (known fields: apiVersion, kind, requires, outputs, claims, backup)"},
		{"duplicate key", head + "kind: Bundle\n", "bundle.yaml:3: kind: duplicate key (first at line 2)"},
		{"requires not a map", head + "requires: [a]\n", "bundle.yaml:3: requires: requires must be a mapping, not a list"},
		{"bad instance name", head + "requires:\n  my-db: {bundle: mariadb, version: ^1}\n", `bundle.yaml:4: requires.my-db: invalid instance name "my-db"`},
		{"reserved instance name", head + "requires:\n  requires: {bundle: mariadb, version: ^1}\n", `bundle.yaml:4: requires.requires: instance name "requires" is reserved`},
		{"unknown requirement field", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    chart: x\n", "bundle.yaml:7: requires.db.chart: unknown field"},
		{"missing bundle", head + "requires:\n  db:\n    version: ^1\n", "bundle.yaml:4: requires.db.bundle: missing"},
		{"missing version", head + "requires:\n  db:\n    bundle: mariadb\n", "bundle.yaml:4: requires.db.version: missing"},
		{"bad constraint", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^^1\n", `bundle.yaml:6: requires.db.version: invalid version constraint "^^1"`},
		{"empty constraint", head + "requires:\n  db:\n    bundle: mariadb\n    version: ''\n", "bundle.yaml:6: requires.db.version: empty version constraint"},
		{"bad bundle name", head + "requires:\n  db:\n    bundle: MariaDB\n    version: ^1\n", `bundle.yaml:5: requires.db.bundle: invalid bundle name "MariaDB"`},
		{"bad repository scheme", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    repository: ftp://x\n", `bundle.yaml:7: requires.db.repository: unsupported repository scheme "ftp"`},
		{"values not a map", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    values: [1]\n", "bundle.yaml:7: requires.db.values: requires.db.values must be a mapping, not a list"},
		{"version not a string", head + "requires:\n  db:\n    bundle: mariadb\n    version: {a: 1}\n", "bundle.yaml:6: requires.db.version: must be a string, not a mapping"},
		{"bad condition", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    condition: 'a..b'\n", `bundle.yaml:7: requires.db.condition: invalid condition "a..b"`},
		{"outputs not a list", head + "requires:\n  db:\n    bundle: mariadb\n    version: ^1\n    outputs: host\n", "bundle.yaml:7: requires.db.outputs: must be a list of output names"},
		{"empty output template", head + "outputs:\n  host: ''\n", "bundle.yaml:4: outputs.host: empty template"},
		{"bad output name", head + "outputs:\n  1host: x\n", `bundle.yaml:4: outputs.1host: invalid output name "1host"`},
		{"claims not a map", head + "claims: [a]\n", "bundle.yaml:3: claims: claims must be a mapping, not a list"},
		{"unknown claims field", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  secrets: {}\n", "bundle.yaml:6: claims.secrets: unknown field (known fields: templates, outputs)"},
		{"claims without outputs", head + "claims:\n  templates: {secret.yaml: x}\n", "bundle.yaml:3: claims.outputs: missing"},
		{"claim output not an output", head + "outputs: {host: x}\nclaims:\n  outputs:\n    username: y\n", "bundle.yaml:6: claims.outputs.username: not an output of the bundle"},
		{"empty claim output", head + "outputs: {username: x}\nclaims:\n  outputs:\n    username: ' '\n", "bundle.yaml:6: claims.outputs.username: empty template"},
		{"bad claim template name", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates:\n    ../secret.yaml: x\n", `bundle.yaml:7: claims.templates.../secret.yaml: invalid template name "../secret.yaml"`},
		{"claim template not yaml", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates:\n    job.sh: x\n", `bundle.yaml:7: claims.templates.job.sh: invalid template name "job.sh"`},
		{"empty claim template", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates:\n    job.yaml: ''\n", "bundle.yaml:7: claims.templates.job.yaml: empty template"},
		{"claim template not a string", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates:\n    job.yaml: {a: 1}\n", "bundle.yaml:7: claims.templates.job.yaml: must be a string, not a mapping"},
		{"claim directory above the chart", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: ../claims/\n", "bundle.yaml:6: claims.templates: invalid directory \"../claims/\""},
		{"claim directory absolute", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: /claims\n", "bundle.yaml:6: claims.templates: invalid directory \"/claims\""},
		{"claim directory not clean", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: claims/../x\n", "bundle.yaml:6: claims.templates: invalid directory \"claims/../x\""},
		{"claim directory the chart", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: '.'\n", "bundle.yaml:6: claims.templates: invalid directory \".\""},
		{"claim directory empty", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: ''\n", "bundle.yaml:6: claims.templates: invalid directory \"\""},
		{"claim directory in templates", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: templates/claims/\n", "bundle.yaml:6: claims.templates: invalid directory \"templates/claims/\""},
		{"claim directory in charts", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: charts/\n", "bundle.yaml:6: claims.templates: invalid directory \"charts/\""},
		{"claim templates a list", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: [claims/job.yaml]\n", "bundle.yaml:6: claims.templates: claims.templates must be a mapping, not a list"},
		{"claim templates null", head + "outputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: ~\n", "bundle.yaml:6: claims.templates: claims.templates must be a mapping, not null"},
		{"backup not a map", head + "backup: sql\n", "bundle.yaml:3: backup: backup must be a mapping, not a scalar"},
		{"unknown backup field", head + db + "backup:\n  format: sql\n  scope: all\n", "bundle.yaml:8: backup.scope: unknown field (known fields: format, image, dump, restore, adminKey, claims)"},
		{"unknown backup format", head + db + "backup:\n  format: tar\n", `bundle.yaml:7: backup.format: unknown format "tar" (use sql (a logical SQL dump) or rdb (a Redis RDB snapshot))`},
		{"backup format not a string", head + db + "backup:\n  format: [sql]\n", "bundle.yaml:7: backup.format: must be a string, not a list"},
		{"backup without format", head + db + "backup:\n  image: x\n  dump: d.sh\n  restore: r.sh\n  adminKey: k\n", "bundle.yaml:6: backup.format: missing"},
		{"backup without image", head + db + "backup:\n  format: sql\n  dump: d.sh\n  restore: r.sh\n  adminKey: k\n", "bundle.yaml:6: backup.image: missing"},
		{"backup empty image", head + db + "backup:\n  image: ' '\n", "bundle.yaml:7: backup.image: empty"},
		{"backup without dump", head + db + "backup:\n  format: sql\n  image: x\n  restore: r.sh\n  adminKey: k\n", "bundle.yaml:6: backup.dump: missing"},
		{"backup without restore", head + db + "backup:\n  format: sql\n  image: x\n  dump: d.sh\n  adminKey: k\n", "bundle.yaml:6: backup.restore: missing"},
		{"backup without adminKey", head + db + "backup:\n  format: sql\n  image: x\n  dump: d.sh\n  restore: r.sh\n", "bundle.yaml:6: backup.adminKey: missing"},
		{"backup bad adminKey", head + db + "backup:\n  adminKey: 'a b'\n", `bundle.yaml:7: backup.adminKey: invalid Secret key "a b"`},
		{"backup script above the chart", head + db + "backup:\n  dump: ../dump.sh\n", `bundle.yaml:7: backup.dump: invalid script path "../dump.sh"`},
		{"backup script absolute", head + db + "backup:\n  restore: /bin/sh\n", `bundle.yaml:7: backup.restore: invalid script path "/bin/sh"`},
		{"backup script in templates", head + db + "backup:\n  dump: templates/dump.sh\n", `bundle.yaml:7: backup.dump: invalid script path "templates/dump.sh"`},
		{"backup script in charts", head + db + "backup:\n  dump: charts/common/dump.sh\n", `bundle.yaml:7: backup.dump: invalid script path "charts/common/dump.sh"`},
		{"backup script not clean", head + db + "backup:\n  dump: backup//dump.sh\n", `bundle.yaml:7: backup.dump: invalid script path "backup//dump.sh"`},
		{"backup same script twice", head + db + backup("") + "  restore: backup/dump.sh\n", "bundle.yaml:12: backup.restore: duplicate key (first at line 10)"},
		{"backup restore is dump", head + db + "backup:\n  format: sql\n  image: x\n  dump: d.sh\n  restore: d.sh\n  adminKey: k\n", "bundle.yaml:10: backup.restore: the same script as dump"},
		{"backup bad claims scope", head + db + "backup:\n  claims: tables\n", `bundle.yaml:7: backup.claims: cannot scope a claim's backup by "tables"`},
		{"backup without host", head + "outputs: {port: x, passwordSecret: s}\n" + backup(""), "bundle.yaml:4: backup: the bundle has no output host"},
		{"backup without passwordSecret", head + "outputs: {host: x, port: x}\n" + backup(""), "bundle.yaml:4: backup: the bundle has no output passwordSecret"},
		{"backup claims without claims", head + db + backup("database"), "bundle.yaml:6: backup.claims: no claim output database (add database to claims.outputs, or leave backup.claims out)"},
		{"backup claims not a claim output", head + db + "claims:\n  outputs: {host: y}\n" + backup("database"), "bundle.yaml:8: backup.claims: no claim output database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("bundle.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got  %s\n want %s...", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1, values: {a: 1}}\n"))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: x}\n"))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\noutputs: {username: x}\nclaims:\n  templates: {secret.yaml: 'kind: Secret'}\n  outputs: {username: '{{ .Values.claim.id }}'}\n"))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\nclaims: {outputs: {host: x}, templates: []}\n"))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: x}\nclaims: {outputs: {host: x}, templates: claims/}\n"))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: h, port: p, passwordSecret: s, database: d}\nclaims: {outputs: {database: x}, templates: claims/}\n" + backup("database")))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: h}\nbackup: {format: rdb, dump: ../x, restore: x, claims: keyPrefix}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("requires: {db: {version: '>= 1, < 2 || 3.x'}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("bundle.yaml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		for _, r := range file.Requires {
			if r.Constraint == nil || r.Bundle == "" || r.Name == "" {
				t.Fatalf("accepted an incomplete requirement: %+v", r)
			}
		}
		if b := file.Backup; b != nil {
			for _, p := range []string{b.Dump, b.Restore} {
				if p == "" || strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") || strings.HasPrefix(p, "templates/") || strings.HasPrefix(p, "charts/") {
					t.Fatalf("accepted backup script %q", p)
				}
			}
			if b.Format == "" || b.Image == "" || b.AdminKey == "" || b.Dump == b.Restore {
				t.Fatalf("accepted an incomplete backup: %+v", b)
			}
		}
		if c := file.Claims; c != nil && c.Dir != "" && (!strings.HasSuffix(c.Dir, "/") || strings.HasPrefix(c.Dir, "/") || strings.Contains("/"+c.Dir, "/../") || strings.HasPrefix(c.Dir, "templates/")) {
			t.Fatalf("accepted claim directory %q", c.Dir)
		}
	})
}

func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{"^1.0.0", "~1.2", ">= 1, < 2 || 3.x", "*", "1.2.3-beta.1", "", "^^", "x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConstraint(s)
		if err == nil && c == nil {
			t.Fatal("nil constraint without error")
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error: %q", err)
		}
	})
}

func TestParseFileClaims(t *testing.T) {
	src := `apiVersion: bundle/v1
kind: Bundle
outputs:
  host: h
  username: u
claims:
  templates:
    secret.yaml: 'kind: Secret'
    job.yaml: 'kind: Job'
  outputs:
    username: '{{ .Values.claim.id }}'
`
	f, err := ParseFile("bundle.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Claims
	if c == nil || c.Line != 6 || len(c.Templates) != 2 || c.Templates[0].Name != "job.yaml" || c.Templates[1].Line != 8 {
		t.Fatalf("claims = %+v", c)
	}
	if o, ok := c.Output("username"); !ok || o.Template != "{{ .Values.claim.id }}" || o.Line != 11 {
		t.Errorf("claim output username = %+v, %v", o, ok)
	}
	if _, ok := c.Output("host"); ok {
		t.Error("host is not claimed")
	}
}

// claims.templates may name a directory of the chart instead of giving
// the templates: its NAME.yaml files are the templates, read when the
// bundle loads.
func TestParseFileClaimDir(t *testing.T) {
	for _, tc := range []struct{ src, dir string }{{"claims/", "claims/"}, {"claims", "claims/"}, {"bundle/claims/", "bundle/claims/"}} {
		f, err := ParseFile("bundle.yaml", []byte("apiVersion: bundle/v1\nkind: Bundle\noutputs: {username: x}\nclaims:\n  outputs: {username: y}\n  templates: "+tc.src+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c := f.Claims; c.Dir != tc.dir || c.DirLine != 6 || c.Templates != nil {
			t.Errorf("templates: %s: claims = %+v", tc.src, c)
		}
	}
}

// backup is a complete backup: section (6 lines), scoped for claims by
// claims unless empty.
func backup(claims string) string {
	s := "backup:\n  format: sql\n  image: '{{ .Values.image.repository }}'\n  dump: backup/dump.sh\n  restore: backup/restore.sh\n  adminKey: root-password\n"
	if claims != "" {
		s += "  claims: " + claims + "\n"
	}
	return s
}

// backup: parses into its typed fields, with their lines.
func TestParseFileBackup(t *testing.T) {
	src := "apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: h, port: p, passwordSecret: s, database: d}\nclaims:\n  outputs: {database: x}\n" + backup("database")
	f, err := ParseFile("bundle.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Backup{Format: FormatSQL, Image: "{{ .Values.image.repository }}", Dump: "backup/dump.sh", Restore: "backup/restore.sh",
		AdminKey: "root-password", Claims: "database", Line: 6, DumpLine: 9, RestoreLine: 10}
	if f.Backup == nil || *f.Backup != want {
		t.Errorf("backup = %+v\nwant %+v", f.Backup, want)
	}
	if f, err := ParseFile("bundle.yaml", []byte("apiVersion: bundle/v1\nkind: Bundle\n")); err != nil || f.Backup != nil {
		t.Errorf("without backup: %+v, %v", f, err)
	}
}
