package release

// The take-over in a dry run. Before its first server-side apply to an
// object written client-side, the applier converts the fields the
// client-side managers own into bundle's applied set (csaupgrade), so that
// the apply removes those the target leaves out. One dry run cannot build
// on another, so Diff asks the API server for the apply alone and removes
// here, from what it answers, the fields the take-over would have handed
// to the apply for removal: those the client-side managers own (their
// Update entries), that the apply does not set and that no other manager
// owns.

import (
	"bytes"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// takenBack removes from stored, the API server's answer to a dry-run
// apply as FieldManager, the fields only the client-side managers own,
// which the take-over gives to bundle and the apply then removes. It
// reports how many fields it removed.
func takenBack(stored *unstructured.Unstructured, managers sets.Set[string]) (int, error) {
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
		case e.Subresource == "" && e.Operation == metav1.ManagedFieldsOperationUpdate && managers.Has(e.Manager):
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
		if !keptUnder(kept, p) && removePath(stored.Object, p) {
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

// removePath removes the field or list element at p from obj, and the maps
// and lists the removal leaves empty. It reports whether p was there.
func removePath(obj map[string]any, p fieldpath.Path) bool {
	if len(p) == 0 {
		return false
	}
	var remove func(node any, p fieldpath.Path) (any, bool)
	remove = func(node any, p fieldpath.Path) (any, bool) {
		c, i, ok := child(node, p[0])
		if !ok {
			return node, false
		}
		switch n := node.(type) {
		case map[string]any:
			name := *p[0].FieldName
			if len(p) == 1 {
				delete(n, name)
				return n, true
			}
			c, removed := remove(c, p[1:])
			if removed && empty(c) {
				delete(n, name)
			} else if removed {
				n[name] = c
			}
			return n, removed
		case []any:
			if len(p) == 1 {
				return append(n[:i:i], n[i+1:]...), true
			}
			c, removed := remove(c, p[1:])
			if removed {
				n[i] = c
			}
			return n, removed
		}
		return node, false
	}
	_, removed := remove(obj, p)
	return removed
}

func empty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// elementIndex is the index in list of the element pe selects (by key,
// value or index), -1 when none.
func elementIndex(list []any, pe fieldpath.PathElement) int {
	switch {
	case pe.Index != nil:
		if *pe.Index >= 0 && *pe.Index < len(list) {
			return *pe.Index
		}
	case pe.Value != nil:
		for i, v := range list {
			if value.Equals(value.NewValueInterface(v), *pe.Value) {
				return i
			}
		}
	case pe.Key != nil:
		for i, v := range list {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			match := true
			for _, f := range *pe.Key {
				got, ok := m[f.Name]
				if !ok || !value.Equals(value.NewValueInterface(got), f.Value) {
					match = false
					break
				}
			}
			if match {
				return i
			}
		}
	}
	return -1
}
