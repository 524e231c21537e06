package apply

// The take-over in a dry run. Before its first server-side apply to an
// object written client-side, the applier converts the fields the
// client-side managers own into bundle's applied set (csaupgrade), so that
// the apply removes those the target leaves out. One dry run cannot build
// on another, so Diff asks the API server for the apply alone and removes
// here, from what it answers, the fields the take-over would have handed
// to the apply for removal: those the client-side managers own (their
// Update entries) or bundle's former Apply entry (FormerFieldManager's),
// that the apply does not set and that no other manager owns.

import (
	"bytes"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// TakenBack removes from stored, the API server's answer to a dry-run
// apply as FieldManager, the fields only the client-side managers and
// FormerFieldManager's Apply entry own, which the take-over
// (TakeOverPatch) gives to bundle and the apply then removes. It reports
// how many fields it removed.
func TakenBack(stored *unstructured.Unstructured, managers sets.Set[string]) (int, error) {
	csa, applied, others := &fieldpath.Set{}, &fieldpath.Set{}, &fieldpath.Set{}
	for _, e := range stored.GetManagedFields() {
		if e.FieldsV1 == nil || e.FieldsType != "FieldsV1" {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			return 0, fmt.Errorf("reading the fields of manager %s: %w", e.Manager, err)
		}
		switch {
		case e.Subresource == "" && e.Operation == metav1.ManagedFieldsOperationUpdate && managers.Has(e.Manager),
			e.Subresource == "" && e.Operation == metav1.ManagedFieldsOperationApply && e.Manager == FormerFieldManager:
			csa = csa.Union(s)
		case e.Subresource == "" && e.Operation == metav1.ManagedFieldsOperationApply && e.Manager == FieldManager:
			applied = applied.Union(s)
		default:
			others = others.Union(s)
		}
	}
	kept := applied.Union(others)
	stale := csa.Difference(kept)
	n := 0
	stale.Iterate(func(p fieldpath.Path) {
		// A map or list element a client-side write owns as a whole
		// ("." in its fields) stays while fields under it are kept.
		if !keptUnder(kept, p) && kubeobj.RemovePath(stored.Object, p) {
			n++
		}
	})
	return n, nil
}

// keptUnder reports whether kept has a field under p.
func keptUnder(kept *fieldpath.Set, p fieldpath.Path) bool {
	s := kept
	for _, pe := range p {
		child, ok := s.Children.Get(pe)
		if !ok {
			return false
		}
		s = child
	}
	return !s.Empty()
}
