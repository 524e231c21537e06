package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"

	"github.com/bundlesh/bundle/internal/testutil"
)

// writeBundle writes files (path -> content) under a new directory.
func writeBundle(t *testing.T, files map[string]string) string {
	t.Helper()
	return testutil.WriteTree(t, t.TempDir(), files)
}

const chartYAML = "apiVersion: v2\nname: app\nversion: 1.2.3\nappVersion: \"9.0\"\ndescription: An app.\n"

// appFiles are a small bundle without requirements: app 1.2.3 with a
// value and a template.
var appFiles = map[string]string{
	"Chart.yaml":        chartYAML,
	"values.yaml":       "a: 1\n",
	"templates/cm.yaml": "kind: ConfigMap\n",
	"bundle.yaml":       "apiVersion: bundle/v1\nkind: Bundle\n",
}

func TestLoadDir(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"Chart.yaml":             chartYAML,
		"values.yaml":            "replicas: 1\n",
		"templates/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		"bundle.yaml":            "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1}\n",
		"ignored/secret.txt":     "x",
		".helmignore":            "ignored/\n",
		"templates/_helpers.tpl": "{{/* */}}",
	})
	b, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "app" || b.Version.String() != "1.2.3" || b.AppVersion != "9.0" || b.Description != "An app." {
		t.Errorf("metadata: %+v", b)
	}
	if len(b.File.Requires) != 1 || b.File.Requires[0].Bundle != "mariadb" {
		t.Errorf("requires: %+v", b.File.Requires)
	}
	for _, f := range b.Chart.Files {
		if strings.HasPrefix(f.Name, "ignored/") {
			t.Errorf("%s should have been ignored", f.Name)
		}
	}
	reqs := b.Requirements()
	if len(reqs) != 1 || reqs[0].Name != "mariadb" || reqs[0].Repository != "stable" || reqs[0].Instance != "db" || reqs[0].By != "app 1.2.3" {
		t.Errorf("solver requirements: %+v", reqs)
	}
}

func TestLoadPlainChart(t *testing.T) {
	dir := writeBundle(t, map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\n"})
	b, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.File == nil || len(b.File.Requires) != 0 {
		t.Errorf("a plain chart is a bundle with no requirements, got %+v", b.File)
	}
}

func TestLoadInvalid(t *testing.T) {
	req := "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: mariadb, version: ^1}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  string // after the directory
	}{
		{"missing Chart.yaml", map[string]string{"values.yaml": ""}, "Chart.yaml: not found (a bundle is a Helm chart directory"},
		{"chart without name", map[string]string{"Chart.yaml": "apiVersion: v2\nversion: 1.0.0\n"}, "Chart.yaml:1: name: missing"},
		{"chart null name", map[string]string{"Chart.yaml": "apiVersion: v2\nname:\nversion: 1.0.0\n"}, "Chart.yaml:1: name: missing"},
		{"chart without version", map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\n"}, "Chart.yaml:1: version: missing"},
		{"chart bad version", map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: one\n"}, `Chart.yaml:3: version: invalid version "one"`},
		{"chart name with slash", map[string]string{"Chart.yaml": "apiVersion: v2\nname: a/b\nversion: 1.0.0\n"}, `Chart.yaml:2: name: invalid chart name "a/b"`},
		{"chart name dot dot", map[string]string{"Chart.yaml": "apiVersion: v2\nname: ..\nversion: 1.0.0\n"}, `Chart.yaml:2: name: invalid chart name ".."`},
		{"chart bad type", map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\ntype: plugin\n"}, `Chart.yaml:4: type: unknown chart type "plugin" (use application or library)`},
		{"duplicate dependency", map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- {name: a, version: 1.0.0}\n- {name: a, version: 1.0.0}\n"}, `Chart.yaml: more than one dependency with name or alias "a"`},
		{"bad requirements.yaml", map[string]string{"Chart.yaml": "apiVersion: v1\nname: app\nversion: 1.0.0\n", "requirements.yaml": "dependencies: {a: 1}\n"}, "requirements.yaml: error unmarshaling JSON"},
		{"bad bundle.yaml", map[string]string{"Chart.yaml": chartYAML, "bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nextra: 1\n"}, "bundle.yaml:3: extra: unknown field"},
		{"clash with values key", map[string]string{"Chart.yaml": chartYAML, "bundle.yaml": req, "values.yaml": "replicas: 1\ndatabase:\n  host: x\n"},
			`bundle.yaml:4: requires.database: instance name clashes with key "database" the chart already uses (`},
		{"clash with chart dependency", map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- name: database\n  version: 1.0.0\n", "bundle.yaml": req},
			`bundle.yaml:4: requires.database: instance name clashes with a dependency named "database" in Chart.yaml`},
		{"reserved values key", map[string]string{"Chart.yaml": chartYAML, "values.yaml": "a: 1\nrequires: {}\n"}, "values.yaml:2: requires: key is reserved"},
		{"malformed values.yaml", map[string]string{"Chart.yaml": chartYAML, "values.yaml": "a: [\n"}, "values.yaml:1: invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeBundle(t, tt.files)
			_, err := LoadDir(dir)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			want := filepath.Join(dir, tt.want)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n got  %s\n want %s...", err, want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("does not match ErrInvalid: %v", err)
			}
		})
	}
}

// Everything Helm 3 loads is a bundle: apiVersion v1 (and none, read as
// v1), dependencies from requirements.yaml and requirements.lock, names and
// versions Helm accepts, library charts (refused only for install).
func TestLoadHelmCharts(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		api      string
		version  string
		deps     []string
		library  bool
		original string
	}{
		{"apiVersion v1", map[string]string{"Chart.yaml": "apiVersion: v1\nname: app\nversion: 1.0.0\n"}, "v1", "1.0.0", nil, false, "1.0.0"},
		{"no apiVersion", map[string]string{"Chart.yaml": "name: app\nversion: 0.1.0\n"}, "v1", "0.1.0", nil, false, "0.1.0"},
		{"v1 with requirements", map[string]string{
			"Chart.yaml":                 "apiVersion: v1\nname: app\nversion: 1.0.0\n",
			"requirements.yaml":          "dependencies:\n- name: db\n  version: 1.x\n  repository: https://example.com\n",
			"requirements.lock":          "dependencies:\n- name: db\n  version: 1.2.0\n  repository: https://example.com\ndigest: sha256:x\ngenerated: \"2019-01-01T00:00:00Z\"\n",
			"charts/db/Chart.yaml":       "apiVersion: v1\nname: db\nversion: 1.2.0\n",
			"charts/db/templates/x.yaml": "kind: ConfigMap\n",
		}, "v1", "1.0.0", []string{"db"}, false, "1.0.0"},
		{"v1 with a bundle.yaml", map[string]string{"Chart.yaml": "apiVersion: v1\nname: app\nversion: 1.0.0\n", "bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1}\n"}, "v1", "1.0.0", nil, false, "1.0.0"},
		{"name Helm allows", map[string]string{"Chart.yaml": "apiVersion: v2\nname: My_App\nversion: 1.0.0\n"}, "v2", "1.0.0", nil, false, "1.0.0"},
		{"loose version", map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: v1.2\n"}, "v2", "1.2.0", nil, false, "v1.2"},
		{"library", map[string]string{"Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n"}, "v2", "1.0.0", nil, true, "1.0.0"},
		{"version written as a number", map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0\n"}, "v2", "1.0.0", nil, false, "1"}, // as Helm reads it
		{"byte order mark", map[string]string{"Chart.yaml": "\ufeffapiVersion: v2\nname: app\nversion: 1.0.0\n"}, "v2", "1.0.0", nil, false, "1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := LoadDir(writeBundle(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			md := b.Chart.Metadata
			if md.APIVersion != tt.api || b.Version.String() != tt.version || md.Version != tt.original || b.IsLibrary() != tt.library {
				t.Errorf("got apiVersion %q version %s (Chart.yaml %q) library %v", md.APIVersion, b.Version, md.Version, b.IsLibrary())
			}
			var deps []string
			for _, d := range md.Dependencies {
				deps = append(deps, d.Name)
			}
			if strings.Join(deps, ",") != strings.Join(tt.deps, ",") {
				t.Errorf("dependencies %v, want %v", deps, tt.deps)
			}
		})
	}
}

func TestCheckInstallable(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // "" for installable
	}{
		{"application", map[string]string{"Chart.yaml": chartYAML}, ""},
		{"library", map[string]string{"Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n"}, "library charts are not installable"},
		{"missing dependency", map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- {name: db, version: 1.0.0}\n- {name: cache, version: 1.0.0}\n"}, "Chart.yaml: dependencies missing in charts/: db, cache (vendor them with helm dependency build)"},
		{"v1 missing requirement", map[string]string{"Chart.yaml": "apiVersion: v1\nname: app\nversion: 1.0.0\n", "requirements.yaml": "dependencies:\n- {name: db, version: 1.0.0}\n"}, "requirements.yaml: dependencies missing in charts/: db"},
		{"vendored dependency", map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- {name: db, version: 1.0.0}\n", "charts/db/Chart.yaml": "apiVersion: v2\nname: db\nversion: 1.0.0\n"}, ""},
		{"v1", map[string]string{"Chart.yaml": "apiVersion: v1\nname: app\nversion: 1.0.0\n"}, ""},
		{"chart v3", map[string]string{"Chart.yaml": "apiVersion: v3\nname: app\nversion: 1.0.0\n"}, "Chart.yaml: chart apiVersion v3 (Helm 4's experimental chart format) cannot be installed or rendered (helm 4.3 refuses it too, with or without HELM_EXPERIMENTAL_CHART_V3: use apiVersion: v2)"},
		{"unknown apiVersion", map[string]string{"Chart.yaml": "apiVersion: v9\nname: app\nversion: 1.0.0\n"}, `Chart.yaml: invalid chart apiVersion "v9" (use apiVersion: v2, or v1 for Helm 2's charts)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := LoadDir(writeBundle(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			err = b.CheckInstallable()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// A FIFO or a device in a bundle is refused before anything is read: reading
// one would block or never end.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	for _, name := range []string{".helmignore", "Chart.yaml", "templates/x.yaml"} {
		t.Run(name, func(t *testing.T) {
			dir := writeBundle(t, map[string]string{"Chart.yaml": chartYAML, "templates/keep": ""})
			p := filepath.Join(dir, name)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("cannot make a FIFO here:", err)
			}
			done := make(chan error, 1)
			go func() { _, err := LoadDir(dir); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Fatalf("error = %v, want a refusal of the FIFO", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("LoadDir blocked on a FIFO")
			}
		})
	}
}

func TestLoadRefusesSymlinks(t *testing.T) {
	dir := writeBundle(t, map[string]string{"Chart.yaml": chartYAML})
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
		t.Skip("cannot make symlinks here:", err)
	}
	_, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "symbolic links are not allowed") {
		t.Fatalf("error = %v, want a refusal of the symlink", err)
	}
}

func TestLoadRefusesHugeFiles(t *testing.T) {
	dir := writeBundle(t, map[string]string{"Chart.yaml": chartYAML, "big.bin": strings.Repeat("x", MaxFileSize+1)})
	_, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "over the 5242880-byte limit") {
		t.Fatalf("error = %v, want a size refusal", err)
	}
}

func TestLoadDirNotADirectory(t *testing.T) {
	_, err := LoadDir(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Fatalf("error = %v", err)
	}
}

// A Chart.yaml dependency on file://PATH that charts/ does not vendor is
// vendored from PATH as charts/NAME/, as helm dependency build would:
// the bundle installs and its package carries the dependency. A chart
// already vendored is kept; a directory that is not the chart, or not a
// version the constraint allows, is refused.
func TestLoadDirBuildingDepsVendorsLocalDependencies(t *testing.T) {
	app := "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: ^1.0.0\n    repository: file://../lib\n"
	lib := "apiVersion: v2\nname: lib\nversion: 1.2.0\ntype: library\n"
	helper := `{{- define "lib.name" -}}x{{- end -}}`
	tests := []struct {
		name  string
		files map[string]string
		want  string // error, "" for none
		// the vendored file's content, when want is ""
		helper string
	}{
		{"vendored from the sibling", map[string]string{"app/Chart.yaml": app, "lib/Chart.yaml": lib, "lib/templates/_h.tpl": helper, "lib/.helmignore": "notes.txt\n", "lib/notes.txt": "left out"}, "", helper},
		{"already vendored", map[string]string{"app/Chart.yaml": app, "app/charts/lib/Chart.yaml": lib, "app/charts/lib/templates/_h.tpl": "old", "lib/Chart.yaml": lib, "lib/templates/_h.tpl": helper}, "", "old"},
		{"missing directory", map[string]string{"app/Chart.yaml": app}, "Chart.yaml: dependencies.lib: repository file://../lib: no such directory", ""},
		{"another chart", map[string]string{"app/Chart.yaml": app, "lib/Chart.yaml": strings.Replace(lib, "name: lib", "name: other", 1)}, `Chart.yaml: dependencies.lib: repository file://../lib holds chart "other", not "lib"`, ""},
		{"version not allowed", map[string]string{"app/Chart.yaml": app, "lib/Chart.yaml": strings.Replace(lib, "1.2.0", "2.0.0", 1)}, "Chart.yaml: dependencies.lib: file://../lib is lib 2.0.0, which does not satisfy ^1.0.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeBundle(t, tt.files)
			b, err := LoadDirBuildingDeps(filepath.Join(root, "app"))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := b.CheckInstallable(); err != nil {
				t.Fatal(err)
			}
			if got, _ := b.ReadFile("charts/lib/templates/_h.tpl"); string(got) != tt.helper {
				t.Errorf("charts/lib/templates/_h.tpl = %q, want %q", got, tt.helper)
			}
			if _, ok := b.ReadFile("charts/lib/notes.txt"); ok {
				t.Error("vendored a file the dependency's .helmignore leaves out")
			}
			pkg, err := b.Package()
			if err != nil {
				t.Fatal(err)
			}
			back, err := LoadArchive(pkg, "app.tgz")
			if err != nil {
				t.Fatal(err)
			}
			if err := back.CheckInstallable(); err != nil {
				t.Errorf("the package lacks the dependency: %v", err)
			}
		})
	}
}

// An archive must carry its dependencies, as a Helm chart archive does:
// nothing is vendored from beside it.
func TestLoadArchiveVendorsNothing(t *testing.T) {
	app := "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: ^1.0.0\n    repository: file://../lib\n"
	pkg, err := packageFiles("app", []*archive.BufferedFile{{Name: "Chart.yaml", Data: []byte(app)}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadArchive(pkg, "app.tgz")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CheckInstallable(); err == nil || !strings.Contains(err.Error(), "dependencies missing in charts/: lib") {
		t.Errorf("CheckInstallable = %v, want the missing dependency", err)
	}
}

// Loading a directory to install or render it takes it as Helm does: a
// file:// dependency not vendored under charts/ is refused, as helm install
// and helm template refuse it (bundle package and push build it).
func TestLoadDirLeavesLocalDependenciesToHelm(t *testing.T) {
	root := t.TempDir()
	for p, content := range map[string]string{
		"lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n",
		"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- {name: lib, version: ^1.0.0, repository: file://../lib}\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(content), 0o644)
	}
	b, err := LoadDir(filepath.Join(root, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CheckInstallable(); err == nil || !strings.Contains(err.Error(), "dependencies missing in charts/: lib") {
		t.Errorf("CheckInstallable: %v", err)
	}
	built, err := LoadDirBuildingDeps(filepath.Join(root, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if err := built.CheckInstallable(); err != nil {
		t.Errorf("after building the dependency: %v", err)
	}
}

// A bundle whose claims.templates names a directory has the directory's
// NAME.yaml files as its claim templates, sorted; its other files (and
// those of its subdirectories) are not templates. A directory without
// templates, a template badly named or empty, is refused naming the file.
func TestLoadClaimDir(t *testing.T) {
	files := func(more map[string]string) map[string]string {
		m := map[string]string{
			"Chart.yaml":  chartYAML,
			"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: x}\nclaims:\n  outputs: {host: y}\n  templates: claims/\n",
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	b, err := LoadDir(writeBundle(t, files(map[string]string{
		"claims/secret.yaml": "kind: Secret\n", "claims/job.yaml": "kind: Job\n",
		"claims/claim.sh": "#!/bin/sh\n", "claims/more/x.yaml": "kind: X\n", "templates/cm.yaml": "kind: ConfigMap\n",
	})))
	if err != nil {
		t.Fatal(err)
	}
	c := b.File.Claims
	if len(c.Templates) != 2 || c.Templates[0].Name != "job.yaml" || c.Templates[0].Template != "kind: Job\n" || c.Templates[1].Name != "secret.yaml" {
		t.Errorf("claim templates: %+v", c.Templates)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no templates", map[string]string{"claims/claim.sh": "x"}, "bundle.yaml:6: claims.templates: no claim templates in claims/ (add the objects each consumer gets as claims/NAME.yaml, such as its Secret)"},
		{"no directory", nil, "bundle.yaml:6: claims.templates: no claim templates in claims/"},
		{"bad name", map[string]string{"claims/Job.yaml": "kind: Job"}, `claims/Job.yaml: invalid claim template name "Job.yaml"`},
		{"empty", map[string]string{"claims/job.yaml": " \n"}, "claims/job.yaml: empty claim template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeBundle(t, files(tc.files))
			_, err := LoadDir(dir)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), filepath.Join(dir, tc.want)) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want %s...", err, filepath.Join(dir, tc.want))
			}
		})
	}
}

// A bundle with backup: has its scripts' text once loaded; a script that
// is not a file of the chart, or is empty, is refused at its line.
func TestLoadBackupScripts(t *testing.T) {
	files := func(more map[string]string) map[string]string {
		m := map[string]string{
			"Chart.yaml":  chartYAML,
			"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs: {host: h, port: p, passwordSecret: s}\n" + backup(""),
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	b, err := LoadDir(writeBundle(t, files(map[string]string{"backup/dump.sh": "dump {{ .Release.Name }}\n", "backup/restore.sh": "restore\n"})))
	if err != nil {
		t.Fatal(err)
	}
	if bk := b.File.Backup; bk.DumpScript != "dump {{ .Release.Name }}\n" || bk.RestoreScript != "restore\n" {
		t.Errorf("scripts: %q, %q", bk.DumpScript, bk.RestoreScript)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no restore", map[string]string{"backup/dump.sh": "x"}, "bundle.yaml:8: backup.restore: no such file in the chart: backup/restore.sh (add the restore script to the chart as backup/restore.sh)"},
		{"no scripts", nil, "bundle.yaml:7: backup.dump: no such file in the chart: backup/dump.sh"},
		{"empty dump", map[string]string{"backup/dump.sh": " \n", "backup/restore.sh": "x"}, "bundle.yaml:7: backup.dump: the script is empty: backup/dump.sh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeBundle(t, files(tc.files))
			_, err := LoadDir(dir)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), filepath.Join(dir, tc.want)) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want %s...", err, filepath.Join(dir, tc.want))
			}
		})
	}
}
