package releasetest

import (
	"testing"

	helmrelease "helm.sh/helm/v3/pkg/release"
)

// Tamper rewrites the last stored revision of release name in namespace
// ns with edit, as someone who may write the release's Secrets could.
func (f *Fixture) Tamper(t testing.TB, ns, name string, edit func(*helmrelease.Release)) {
	t.Helper()
	store := f.ConfigFor(ns).Releases
	r, err := store.Last(name)
	if err != nil {
		t.Fatal(err)
	}
	edit(r)
	if err := store.Update(r); err != nil {
		t.Fatal(err)
	}
}
