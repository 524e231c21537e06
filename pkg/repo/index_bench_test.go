package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	helmrepo "helm.sh/helm/v4/pkg/repo/v1"
)

// bigIndex writes a Bitnami-sized index.yaml: 150 charts x 100 versions =
// 15,000 entries of about 1 KB each (descriptions, keywords, maintainers,
// sources, dependencies, annotations), and its compact form.
func bigIndex(tb testing.TB) (yamlPath, compactPath string) {
	return writeIndex(tb, 150, 100)
}

// writeIndex writes an index.yaml of charts x versions entries as
// bigIndex describes, and its compact form.
func writeIndex(tb testing.TB, charts, versions int) (yamlPath, compactPath string) {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for c := 0; c < charts; c++ {
		name := fmt.Sprintf("chart-%03d", c)
		fmt.Fprintf(&b, "  %s:\n", name)
		for v := versions - 1; v >= 0; v-- {
			ver := fmt.Sprintf("%d.%d.%d", 1+v/20, v%20/5, v%5)
			fmt.Fprintf(&b, `  - annotations:
      category: Database
      images: |
        - name: %[1]s
          image: docker.io/bitnami/%[1]s:%[2]s-debian-12-r0
      licenses: Apache-2.0
    apiVersion: v2
    appVersion: %[2]s
    created: "2026-10-01T12:00:00.000000000Z"
    dependencies:
    - name: common
      repository: oci://registry-1.docker.io/bitnamicharts
      tags:
      - bitnami-common
      version: 2.x.x
    description: %[1]s is a production-grade component packaged for Kubernetes, with sensible defaults, metrics and backups.
    digest: %064[3]x
    home: https://bitnami.com
    icon: https://bitnami.com/assets/stacks/%[1]s/img/%[1]s-stack-220x234.png
    keywords:
    - %[1]s
    - database
    - cluster
    maintainers:
    - name: Broadcom, Inc. All Rights Reserved.
      url: https://github.com/bitnami/charts
    name: %[1]s
    sources:
    - https://github.com/bitnami/charts/tree/main/bitnami/%[1]s
    urls:
    - https://charts.bitnami.com/bitnami/%[1]s-%[2]s.tgz
    version: %[2]s
`, name, ver, c*1000+v)
		}
	}
	b.WriteString("generated: \"2026-10-01T12:00:00Z\"\n")
	yamlPath = filepath.Join(dir, "index.yaml")
	if err := os.WriteFile(yamlPath, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	idx, err := ParseIndex("index.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	compactPath = filepath.Join(dir, "index.compact")
	if err := os.WriteFile(compactPath, idx.Compact(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return yamlPath, compactPath
}

// The same question both ways: load the repository index, find chart-123
// and pick the newest version matching ^3.
func BenchmarkIndexLoadSearchResolve(b *testing.B) {
	yamlPath, compactPath := bigIndex(b)
	st, _ := os.Stat(yamlPath)
	b.Logf("index.yaml: %d bytes", st.Size())
	b.Run("helm-LoadIndexFile", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			idx, err := helmrepo.LoadIndexFile(yamlPath)
			if err != nil {
				b.Fatal(err)
			}
			cv, err := idx.Get("chart-123", "^3")
			if err != nil || cv.Version != "3.3.4" {
				b.Fatalf("%v %v", cv, err)
			}
		}
	})
	b.Run("bundle-compact", func(b *testing.B) {
		b.ReportAllocs()
		con, _ := semver.NewConstraint("^3")
		for i := 0; i < b.N; i++ {
			data, err := os.ReadFile(compactPath)
			if err != nil {
				b.Fatal(err)
			}
			c, err := loadCompact(data)
			if err != nil {
				b.Fatal(err)
			}
			var best *semver.Version
			for _, v := range c.versions("chart-123") {
				if con.Check(v) && (best == nil || v.GreaterThan(best)) {
					best = v
				}
			}
			if best == nil || best.String() != "3.3.4" {
				b.Fatalf("got %v", best)
			}
		}
	})
}

func TestCompactIndexAgreesWithIndex(t *testing.T) {
	yamlPath, compactPath := bigIndex(t)
	data, _ := os.ReadFile(yamlPath)
	idx, err := ParseIndex("index.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	cdata, _ := os.ReadFile(compactPath)
	c, err := loadCompact(cdata)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.names()) != len(idx.Entries) {
		t.Fatalf("%d names, want %d", len(c.names()), len(idx.Entries))
	}
	for name, list := range idx.Entries {
		got := c.entries(name)
		if len(got) != len(list) {
			t.Fatalf("%s: %d entries, want %d", name, len(got), len(list))
		}
		for i := range list {
			if got[i].Version != list[i].Version || got[i].Digest != list[i].Digest || got[i].URLs[0] != list[i].URLs[0] {
				t.Fatalf("%s[%d]: %+v, want %+v", name, i, got[i], list[i])
			}
		}
	}
}

// ParseIndex on a Bitnami-sized index.yaml: the piecewise parser against
// the whole-document one it falls back to.
func BenchmarkParseIndex(b *testing.B) {
	yamlPath, _ := bigIndex(b)
	data, err := os.ReadFile(yamlPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pieces", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, ok := parseIndexPieces(data); !ok {
				b.Fatal("not parsed in pieces")
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, err := parseIndexWhole("index.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
