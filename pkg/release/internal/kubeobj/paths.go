package kubeobj

// Field paths (structured-merge-diff's fieldpath.Path, as managedFields
// name fields) in an object's unstructured form: the value at a path,
// set, removed.

import (
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// GetPath is the value at p in obj.
func GetPath(obj map[string]any, p fieldpath.Path) (any, bool) {
	var node any = obj
	for _, pe := range p {
		c, _, ok := child(node, pe)
		if !ok {
			return nil, false
		}
		node = c
	}
	return node, true
}

// child is the value path element pe names in node: a map's field, or a
// list's element (i, its index; -1 for a field).
func child(node any, pe fieldpath.PathElement) (c any, i int, ok bool) {
	switch n := node.(type) {
	case map[string]any:
		if pe.FieldName == nil {
			return nil, -1, false
		}
		c, ok = n[*pe.FieldName]
		return c, -1, ok
	case []any:
		if i = elementIndex(n, pe); i >= 0 {
			return n[i], i, true
		}
	}
	return nil, -1, false
}

// SetPath sets the value at p in obj to v (a deep copy). Where obj lacks
// a map or list element on the way, it takes from's, whole.
func SetPath(obj, from map[string]any, p fieldpath.Path, v any) {
	var set func(node, src any, p fieldpath.Path) any
	set = func(node, src any, p fieldpath.Path) any {
		if len(p) == 0 {
			return runtime.DeepCopyJSONValue(v)
		}
		pe := p[0]
		switch s := src.(type) {
		case map[string]any:
			n, ok := node.(map[string]any)
			if !ok || pe.FieldName == nil {
				return runtime.DeepCopyJSONValue(src)
			}
			c, ok := n[*pe.FieldName]
			if !ok {
				n[*pe.FieldName] = runtime.DeepCopyJSONValue(s[*pe.FieldName])
				return n
			}
			n[*pe.FieldName] = set(c, s[*pe.FieldName], p[1:])
			return n
		case []any:
			n, ok := node.([]any)
			if !ok {
				return runtime.DeepCopyJSONValue(src)
			}
			si := elementIndex(s, pe)
			if si < 0 {
				return n
			}
			i := elementIndex(n, pe)
			if i < 0 || pe.Index != nil && len(n) != len(s) {
				if pe.Index != nil {
					return runtime.DeepCopyJSONValue(src) // an atomic list: whole
				}
				return append(n, runtime.DeepCopyJSONValue(s[si]))
			}
			n[i] = set(n[i], s[si], p[1:])
			return n
		}
		return runtime.DeepCopyJSONValue(v)
	}
	set(obj, from, p)
}

// RemovePath removes the field or list element at p from obj, and the maps
// and lists the removal leaves empty. It reports whether p was there.
func RemovePath(obj map[string]any, p fieldpath.Path) bool {
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
