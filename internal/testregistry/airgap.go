package testregistry

import (
	"fmt"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// AirGap is the source of the air-gapped round trips: registry A with two
// images, and, in directories, two bundles that run them and are to be
// pushed to Source.
type AirGap struct {
	A *Server
	// DBIndex is the digest of A/img/db:1.0, an index of linux/amd64 and
	// linux/arm64; WebDigest that of A/img/web:2.0, a single image.
	DBIndex, WebDigest string
	// Source is oci://A/bundles.
	Source string
	// DB is bundle db 1.0.0, a Deployment of img/db that gives output
	// host; App is bundle app 0.1.0, a Deployment of img/web that
	// requires db from Source.
	DB, App string
}

// StartAirGap starts registry A, pushes its images and writes the two
// bundles (not pushed yet).
func StartAirGap(t testing.TB) *AirGap {
	t.Helper()
	a := StartServer(t)
	g := &AirGap{
		A:         a,
		DBIndex:   Index(t, a.Host, "img/db", "1.0", "linux/amd64", "linux/arm64"),
		WebDigest: Image(t, a.Host, "img/web", "2.0"),
		Source:    "oci://" + a.Host + "/bundles",
	}
	g.DB = testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: db\nversion: 1.0.0\n",
		"bundle.yaml":           "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Release.Name }}-db'\n",
		"templates/deploy.yaml": airGapDeployment("db", a.Host+"/img/db:1.0"),
	})
	g.App = testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"bundle.yaml":           "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: db, repository: " + g.Source + ", version: ^1, outputs: [host]}\n",
		"templates/deploy.yaml": airGapDeployment("web", a.Host+"/img/web:2.0"),
	})
	return g
}

// airGapDeployment is a Deployment RELEASE-name of one container running
// image.
func airGapDeployment(name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: "{{ .Release.Name }}-%s"}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
        - name: main
          image: %s
`, name, name, name, image)
}
