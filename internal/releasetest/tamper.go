package releasetest

import (
	"testing"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
)

// Tamper rewrites the last stored revision of release name in namespace
// ns with edit, as someone who may write the release's Secrets could.
func (f *Fixture) Tamper(t testing.TB, ns, name string, edit func(*helmrelease.Release)) {
	t.Helper()
	store := f.ConfigFor(ns).Releases
	r, err := RecordsOf(f.ConfigFor(ns)).Last(name)
	if err != nil {
		t.Fatal(err)
	}
	edit(r)
	if err := store.Update(r); err != nil {
		t.Fatal(err)
	}
}
