package lint_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/lint"
	"github.com/bundlesh/bundle/pkg/repo"
)

// TestCatalogLintsClean holds every stable bundle, and the library chart
// they depend on, to the standard: no finding at all, from Helm's linter or
// ours, with default values.
func TestCatalogLintsClean(t *testing.T) {
	ctx := context.Background()
	s := repo.NewSet(nil)
	names, err := repo.Stable().Names()
	if err != nil {
		t.Fatal(err)
	}
	libs, err := repo.Stable().Libraries()
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, libs...)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			ref, _ := repo.ParseReference("stable/" + name)
			b, err := s.LoadReference(ctx, ref, nil)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := lint.Bundle(ctx, s, b, lint.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				t.Error(f)
			}
		})
	}
}

const goodDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      containers:
        - name: app
          image: {{ .Values.image | quote }}
          resources: {requests: {cpu: 10m}}
          readinessProbe: {tcpSocket: {port: 80}}
          livenessProbe: {tcpSocket: {port: 80}}
`

const goodReadme = "# x\n\n| output | value |\n|---|---|\n| `host` | the Service |\n"

// writeBundle writes a small bundle with files overriding the defaults
// (an empty value removes a file) and loads it.
func writeBundle(t *testing.T, override map[string]string) *bundle.Bundle {
	t.Helper()
	files := map[string]string{
		"Chart.yaml":                "apiVersion: v2\nname: x\nversion: 1.0.0\ndescription: a test bundle\nicon: https://example.com/x.png\n",
		"values.yaml":               "image: docker.io/library/nginx:1.27.0\n",
		"values.schema.json":        `{"type": "object"}`,
		"README.md":                 goodReadme,
		"bundle.yaml":               "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Release.Name }}.svc'\n",
		"templates/NOTES.txt":       "installed\n",
		"templates/deployment.yaml": goodDeployment,
	}
	for k, v := range override {
		if v == "" {
			delete(files, k) // an override "" leaves the file out
		} else {
			files[k] = v
		}
	}
	b, err := bundle.LoadDir(testutil.WriteTree(t, t.TempDir(), files))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFindings(t *testing.T) {
	ctx := context.Background()
	s := repo.NewSet(nil)
	tests := []struct {
		name     string
		override map[string]string
		values   map[string]any
		want     string // the one finding, as printed
	}{
		{"clean", nil, nil, ""},
		{"latest image", nil, map[string]any{"image": "docker.io/library/nginx:latest"},
			`error: templates/deployment.yaml Deployment/x container app: image "docker.io/library/nginx:latest" is not pinned: use a version tag or a digest, not latest`},
		{"untagged image", nil, map[string]any{"image": "localhost:5000/nginx"},
			`error: templates/deployment.yaml Deployment/x container app: image "localhost:5000/nginx" has no tag: pin it (e.g. localhost:5000/nginx:1.2.3)`},
		{"digest is pinned", nil, map[string]any{"image": "nginx@sha256:" + strings.Repeat("ab", 32)}, ""},
		{"no requests", map[string]string{"templates/deployment.yaml": strings.Replace(goodDeployment, "          resources: {requests: {cpu: 10m}}\n", "", 1)}, nil,
			"warning: templates/deployment.yaml Deployment/x container app: no resources.requests: the scheduler cannot place it by what it needs"},
		{"no readiness probe", map[string]string{"templates/deployment.yaml": strings.Replace(goodDeployment, "          readinessProbe: {tcpSocket: {port: 80}}\n", "", 1)}, nil,
			"warning: templates/deployment.yaml Deployment/x container app: no readinessProbe: traffic and --wait cannot tell when it is ready"},
		{"no liveness probe", map[string]string{"templates/deployment.yaml": strings.Replace(goodDeployment, "          livenessProbe: {tcpSocket: {port: 80}}\n", "", 1)}, nil,
			"warning: templates/deployment.yaml Deployment/x container app: no livenessProbe: a hung process is never restarted"},
		{"root", map[string]string{"templates/deployment.yaml": strings.Replace(goodDeployment, "      securityContext: {runAsNonRoot: true, runAsUser: 1000}\n", "", 1)}, nil,
			"warning: templates/deployment.yaml Deployment/x container app: may run as root: set securityContext.runAsNonRoot (and runAsUser) where the image allows"},
		{"privileged", map[string]string{"templates/deployment.yaml": strings.Replace(goodDeployment, "          resources:", "          securityContext: {privileged: true}\n          resources:", 1)}, nil,
			"error: templates/deployment.yaml Deployment/x container app: runs privileged"},
		{"empty output", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Values.nothing }}'\n"}, nil,
			`error: bundle.yaml: output "host" renders empty with the default values`},
		{"empty claim output", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Values.nothing }}'\nclaims:\n  outputs:\n    host: '{{ .Values.nothing }}'\n"}, nil,
			`error: bundle.yaml: claim output "host" renders empty`},
		{"empty claim output", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\nclaims:\n  outputs:\n    host: '{{ .Values.claim.nothing }}'\n"}, nil,
			`error: bundle.yaml: claim output "host" renders empty`},
		{"claim Job as root", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\nclaims:\n  outputs:\n    host: '{{ .Values.claim.provider.outputs.host }}'\n  templates:\n    job.yaml: |\n" +
			"      apiVersion: batch/v1\n      kind: Job\n      metadata: {name: '{{ .Values.claim.name }}'}\n      spec:\n        template:\n          spec:\n            containers:\n              - {name: c, image: 'busybox:1.36', resources: {requests: {cpu: 10m}}}\n"}, nil,
			"warning: bundle.yaml claims.templates/job.yaml Job/consumer-database container c: may run as root: set securityContext.runAsNonRoot (and runAsUser) where the image allows"},
		{"claim Job of claims/ as root", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\nclaims:\n  outputs:\n    host: '{{ .Values.claim.provider.outputs.host }}'\n  templates: claims/\n",
			"templates/_claim.tpl": `{{ define "x.container" }}{name: c, image: {{ .Values.image | quote }}, resources: {requests: {cpu: 10m}}}{{ end }}`,
			"claims/job.yaml":      "apiVersion: batch/v1\nkind: Job\nmetadata: {name: '{{ .Values.claim.name }}'}\nspec:\n  template:\n    spec:\n      containers:\n        - {{ include \"x.container\" . }}\n"}, nil,
			"warning: claims/job.yaml Job/consumer-database container c: may run as root: set securityContext.runAsNonRoot (and runAsUser) where the image allows"},
		{"claim of claims/ with the chart's values", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\nclaims:\n  outputs:\n    host: '{{ .Values.claim.provider.outputs.host }}'\n  templates: claims/\n",
			"values.yaml":     "image: docker.io/library/nginx:latest\n",
			"claims/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: '{{ .Values.claim.name }}'}\nspec:\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true, runAsUser: 1000}\n      containers:\n        - {name: c, image: '{{ .Values.image }}', resources: {requests: {cpu: 10m}}}\n"},
			map[string]any{"image": "docker.io/library/nginx:1.27.0"},
			`error: claims/job.yaml Job/consumer-database container c: image "docker.io/library/nginx:latest" is not pinned`},
		{"broken claim of claims/", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\nclaims:\n  outputs:\n    host: '{{ .Values.claim.provider.outputs.host }}'\n  templates: claims/\n",
			"claims/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Values.claim.name }\n"}, nil,
			`error: bundle.yaml: claims: rendering the claim templates of x 1.0.0: parse error at (claims/job.yaml:4): unexpected "}" in operand`},
		{"undocumented output", map[string]string{"README.md": "# x\n"}, nil,
			"warning: README.md: output \"host\" is not documented (write it as `host`)"},
		{"no schema", map[string]string{"values.schema.json": ""}, nil,
			"warning: values.schema.json: missing: a schema lets install refuse bad values before anything reaches the cluster"},
		{"no notes", map[string]string{"templates/NOTES.txt": ""}, nil,
			"warning: templates/NOTES.txt: missing: tell users how to reach what they installed"},
		{"no readme", map[string]string{"README.md": ""}, nil,
			"warning: README.md: missing: document the bundle's values and outputs"},
		{"helm lint", map[string]string{"templates/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  a: {{ .Values.image }\n"}, nil,
			"error: templates/: does not render: rendering x 1.0.0: parse error at (x/templates/broken.yaml:6): unexpected \"}\" in operand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := writeBundle(t, tt.override)
			fs, err := lint.Bundle(ctx, s, b, lint.Options{Values: tt.values})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.String())
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("findings on a clean bundle:\n%s", strings.Join(got, "\n"))
			case tt.want != "" && (len(got) == 0 || !strings.HasPrefix(got[0], tt.want)):
				t.Errorf("findings:\n%s\nwant first:\n%s", strings.Join(got, "\n"), tt.want)
			case tt.want != "" && !strings.HasPrefix(tt.name, "helm") && len(got) != 1:
				t.Errorf("want one finding, got:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}
