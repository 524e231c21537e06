// Package diff compares the objects of a release before and after an
// operation and says, per object, what the operation would do: create,
// delete, change or leave it unchanged, with a unified, field-level diff of
// its YAML. It is pure: the release layer reads the objects before (live in
// the cluster) and after (what the API server would store, from a
// server-side dry run) and hands them here.
//
// Fields nobody should read in a diff are dropped first (managedFields,
// resourceVersion, generation, uid, creationTimestamp, status, kubectl's
// last-applied annotation), and a Secret's values never leave this package:
// its data and stringData are compared here, and only the key names with
// "added", "removed", "changed" or "unchanged" are reported.
package diff

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/plan"
)

// Action is what an operation does with one object.
type Action string

// The actions, as -o json says them.
const (
	Create    Action = "create"
	Delete    Action = "delete"
	Change    Action = "change"
	Unchanged Action = "unchanged"
	// Keep is what an uninstall does with a claim, and a Secret its data
	// was initialised with, without --delete-data.
	Keep Action = "keep"
)

// DefaultContext is the number of lines of context around a change, as
// diff -u's.
const DefaultContext = 3

// Options tune Compute.
type Options struct {
	// Context is the number of unchanged lines shown around each change
	// (--context); negative means DefaultContext.
	Context int
}

// Plan is what an operation would do: the bundle and requirement versions
// it moves, and each object.
type Plan struct {
	// Bundle is the root bundle before and after (Instance empty).
	Bundle Resolution `json:"bundle"`
	// Requirements are the requirement instances, in the order of the
	// new resolution, then those it drops.
	Requirements []Resolution `json:"requirements"`
	// Objects are the release's objects in install order (Helm's order of
	// kinds; within a kind, the manifest's order, then those deleted).
	Objects []Object `json:"objects"`
	// Claims are the release's persistent volume claims (its data) an
	// uninstall keeps, or deletes with --delete-data.
	Claims []Claim `json:"claims,omitempty"`
	// DataSecrets are the release's Secrets its data was initialised
	// with (labelled bundle.sh/kept-with-data): an uninstall keeps them
	// with the claims, or deletes them with --delete-data.
	DataSecrets []DataSecret `json:"dataSecrets,omitempty"`
	// Consumers are the releases bound to this one
	// ("NAMESPACE/RELEASE (INSTANCE)"): an uninstall would leave them
	// without what they require.
	Consumers []string `json:"consumers,omitempty"`
	// Providers are the installed releases this one is bound to
	// ("INSTANCE: NAMESPACE/RELEASE").
	Providers []string `json:"providers,omitempty"`
	// Wiring are the requirements' outputs whose values the operation
	// creates, changes or deletes, and the bundles that use them (see
	// Wiring).
	Wiring []Wire `json:"wiring,omitempty"`
	// Elsewhere are the objects the release would hold outside its own
	// namespace, by namespace (see Outside): a binding's claim in the
	// provider's namespace, say, or a bundle's cluster-wide objects.
	Elsewhere []Elsewhere `json:"elsewhere,omitempty"`
}

// Elsewhere is what a release holds outside its own namespace: its
// objects and hooks of one other namespace, or its cluster-scoped ones
// (Namespace empty), each "KIND NAME" (KIND.GROUP outside the core group),
// sorted.
type Elsewhere struct {
	Namespace string   `json:"namespace,omitempty"`
	Objects   []string `json:"objects,omitempty"`
	Hooks     []string `json:"hooks,omitempty"`
}

// Outside groups the objects and hooks of a release of namespace ns that
// are not in ns (those Delete is not done to), cluster-scoped ones first,
// then by namespace.
func Outside(ns string, objects, hooks []Object) []Elsewhere {
	by := map[string]*Elsewhere{}
	var order []string
	add := func(o Object, hook bool) {
		if o.Namespace == ns || o.Action == Delete {
			return
		}
		e, ok := by[o.Namespace]
		if !ok {
			e = &Elsewhere{Namespace: o.Namespace}
			by[o.Namespace] = e
			order = append(order, o.Namespace)
		}
		what := o.Kind
		if o.Group != "" {
			what += "." + o.Group
		}
		what += " " + o.Name
		if hook {
			e.Hooks = append(e.Hooks, what)
		} else {
			e.Objects = append(e.Objects, what)
		}
	}
	for _, o := range objects {
		add(o, false)
	}
	for _, o := range hooks {
		add(o, true)
	}
	sort.Strings(order)
	out := make([]Elsewhere, 0, len(order))
	for _, n := range order {
		e := by[n]
		sort.Strings(e.Objects)
		sort.Strings(e.Hooks)
		out = append(out, *e)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Claim is a persistent volume claim of a release and what an uninstall
// does with it (Keep or Delete).
type Claim struct {
	Action    Action `json:"action"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// StatefulSet made the claim from a volumeClaimTemplate; empty for a
	// claim of the manifest.
	StatefulSet string `json:"statefulSet,omitempty"`
}

// DataSecret is a Secret a release's data was initialised with and what
// an uninstall does with it (Keep or Delete).
type DataSecret struct {
	Action    Action `json:"action"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Changed reports whether the operation changes anything: an object, or
// a bundle or requirement version.
func (p *Plan) Changed() bool {
	if p.Bundle.Action != Unchanged || len(p.Wiring) > 0 {
		return true
	}
	for _, r := range p.Requirements {
		if r.Action != Unchanged {
			return true
		}
	}
	for _, o := range p.Objects {
		if o.Action != Unchanged {
			return true
		}
	}
	for _, c := range p.Claims {
		if c.Action == Delete {
			return true
		}
	}
	for _, s := range p.DataSecrets {
		if s.Action == Delete {
			return true
		}
	}
	return false
}

// Object is one object of the release and what the operation does with it.
type Object struct {
	Action    Action `json:"action"`
	Group     string `json:"group"` // "" for the core group
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"` // "" for cluster-scoped objects
	Name      string `json:"name"`
	// Diff is the unified diff (hunks only, no file header) of the
	// object's YAML before and after, without the dropped fields and,
	// for a Secret, without data and stringData: see SecretKeys. Empty
	// when unchanged.
	Diff string `json:"diff,omitempty"`
	// SecretKeys are a Secret's data and stringData keys (stringData
	// counts as data: the API server stores it there), sorted, with
	// what happens to each value.
	SecretKeys []SecretKey `json:"secretKeys,omitempty"`
}

// String is "Deployment web" or "Deployment ns/web".
func (o Object) String() string {
	kind := o.Kind
	if o.Group != "" {
		kind += "." + o.Group
	}
	if o.Namespace == "" {
		return kind + " " + o.Name
	}
	return kind + " " + o.Namespace + "/" + o.Name
}

// KeyState is what happens to one value of a Secret.
type KeyState string

// The states of a Secret's key.
const (
	KeyAdded     KeyState = "added"
	KeyRemoved   KeyState = "removed"
	KeyChanged   KeyState = "changed"
	KeyUnchanged KeyState = "unchanged"
)

// SecretKey is a key of a Secret and the state of its value, never the
// value.
type SecretKey struct {
	Key   string   `json:"key"`
	State KeyState `json:"state"`
}

// key identifies an object across API versions.
type key struct{ group, kind, namespace, name string }

func keyOf(u *unstructured.Unstructured) key {
	gvk := u.GroupVersionKind()
	return key{gvk.Group, gvk.Kind, u.GetNamespace(), u.GetName()}
}

// Compute compares before (the objects as they are: live, or absent) with
// after (as the operation would leave them) by group, kind, namespace and
// name. An object only in after is created, one only in before deleted.
func Compute(before, after []*unstructured.Unstructured, opts Options) (*Plan, error) {
	if opts.Context < 0 {
		opts.Context = DefaultContext
	}
	type pair struct {
		before, after *unstructured.Unstructured
	}
	var order []key
	pairs := map[key]*pair{}
	add := func(u *unstructured.Unstructured, isAfter bool) error {
		if u == nil {
			return nil
		}
		k := keyOf(u)
		if k.kind == "" || k.name == "" {
			return fmt.Errorf("an object without kind or name: %s %q", u.GetKind(), u.GetName())
		}
		p, ok := pairs[k]
		if !ok {
			p = &pair{}
			pairs[k] = p
			order = append(order, k)
		}
		if isAfter {
			if p.after != nil {
				return fmt.Errorf("%s %s appears twice", k.kind, k.name)
			}
			p.after = u
		} else {
			if p.before != nil {
				return fmt.Errorf("%s %s appears twice", k.kind, k.name)
			}
			p.before = u
		}
		return nil
	}
	for _, u := range after {
		if err := add(u, true); err != nil {
			return nil, err
		}
	}
	for _, u := range before {
		if err := add(u, false); err != nil {
			return nil, err
		}
	}
	out := &Plan{Objects: make([]Object, 0, len(order))}
	for _, k := range order {
		p := pairs[k]
		o, err := compare(k, p.before, p.after, opts.Context)
		if err != nil {
			return nil, err
		}
		out.Objects = append(out.Objects, o)
	}
	sortInstallOrder(out.Objects)
	return out, nil
}

// sortInstallOrder sorts objects by Helm's install order of kinds (others
// last), keeping the order within a kind.
func sortInstallOrder(objs []Object) {
	rank := map[string]int{}
	for i, k := range releaseutil.InstallOrder {
		rank[k] = i
	}
	rankOf := func(kind string) int {
		if r, ok := rank[kind]; ok {
			return r
		}
		return len(rank)
	}
	sort.SliceStable(objs, func(i, j int) bool { return rankOf(objs[i].Kind) < rankOf(objs[j].Kind) })
}

// compare says what happens to the object k, before and after (either may
// be nil).
func compare(k key, before, after *unstructured.Unstructured, context int) (Object, error) {
	o := Object{Group: k.group, Kind: k.kind, Namespace: k.namespace, Name: k.name}
	switch {
	case before == nil:
		o.Action = Create
		o.Version = after.GroupVersionKind().Version
	case after == nil:
		o.Action = Delete
		o.Version = before.GroupVersionKind().Version
	default:
		o.Action = Change
		o.Version = after.GroupVersionKind().Version
	}
	b, a := Clean(before), Clean(after)
	if k.group == "" && k.kind == "Secret" {
		o.SecretKeys = secretKeys(b, a)
		for _, m := range []map[string]any{b, a} {
			if m != nil {
				delete(m, "data")
				delete(m, "stringData")
			}
		}
	}
	if o.Action == Change && reflect.DeepEqual(b, a) && !keysChanged(o.SecretKeys) {
		// Equal as values is equal as text: most objects of a drift or
		// a diff are unchanged, and need no YAML.
		o.Action = Unchanged
		return o, nil
	}
	by, err := toYAML(b)
	if err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	ay, err := toYAML(a)
	if err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	if o.Diff, err = Unified(by, ay, context); err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	if o.Action == Change && o.Diff == "" && !keysChanged(o.SecretKeys) {
		o.Action = Unchanged
	}
	return o, nil
}

func keysChanged(keys []SecretKey) bool {
	for _, k := range keys {
		if k.State != KeyUnchanged {
			return true
		}
	}
	return false
}

// toYAML is m as YAML, apiVersion, kind and metadata first (as kubectl
// prints objects), then the other fields, keys sorted.
func toYAML(m map[string]any) (string, error) {
	if m == nil {
		return "", nil
	}
	first := []string{"apiVersion", "kind", "metadata"}
	rest := map[string]any{}
	for k, v := range m {
		rest[k] = v
	}
	var b strings.Builder
	for _, k := range first {
		v, ok := rest[k]
		if !ok {
			continue
		}
		delete(rest, k)
		y, err := yaml.Marshal(map[string]any{k: v})
		if err != nil {
			return "", err
		}
		b.Write(y)
	}
	if len(rest) > 0 {
		y, err := yaml.Marshal(rest)
		if err != nil {
			return "", err
		}
		b.Write(y)
	}
	return b.String(), nil
}

// Unified is the unified diff of a and b, hunks only (no file header),
// with context lines of context; "" when they are equal.
//
// Lines are matched by diff-match-patch's Myers diff in line mode, which
// gives up refining after matchTimeout (the diff is then correct, if not
// minimal), so that no document makes it slow.
func Unified(a, b string, context int) (string, error) {
	if a == b {
		return "", nil
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = matchTimeout
	ra, rb, index := dmp.DiffLinesToRunes(a, b)
	type op struct {
		kind byte // ' ', '-' or '+'
		line string
	}
	var ops []op
	var changed []int // indices in ops
	for _, d := range dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), index) {
		kind := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = '-'
		case diffmatchpatch.DiffInsert:
			kind = '+'
		}
		for _, l := range lines(d.Text) {
			if kind != ' ' {
				changed = append(changed, len(ops))
			}
			ops = append(ops, op{kind, l})
		}
	}
	var buf bytes.Buffer
	// Lines of a and b before ops[i].
	aLine, bLine := make([]int, len(ops)+1), make([]int, len(ops)+1)
	for i, o := range ops {
		aLine[i+1], bLine[i+1] = aLine[i], bLine[i]
		if o.kind != '+' {
			aLine[i+1]++
		}
		if o.kind != '-' {
			bLine[i+1]++
		}
	}
	for i := 0; i < len(changed); {
		// A hunk: changes no more than 2*context equal lines apart.
		j := i
		for j+1 < len(changed) && changed[j+1]-changed[j]-1 <= 2*context {
			j++
		}
		from, to := max(changed[i]-context, 0), min(changed[j]+context+1, len(ops))
		fmt.Fprintf(&buf, "@@ -%s +%s @@\n", hunkRange(aLine[from], aLine[to]), hunkRange(bLine[from], bLine[to]))
		for _, o := range ops[from:to] {
			buf.WriteByte(o.kind)
			buf.WriteString(o.line)
		}
		i = j + 1
	}
	return buf.String(), nil
}

// matchTimeout bounds the refinement of one object's line diff.
const matchTimeout = 2 * time.Second

// hunkRange is a hunk header's range of lines start..stop (0-based,
// exclusive), as diff -u writes it: "3" for one line, "3,4", "2,0" for
// none (the line before).
func hunkRange(start, stop int) string {
	begin, n := start+1, stop-start
	switch n {
	case 1:
		return fmt.Sprint(begin)
	case 0:
		begin--
	}
	return fmt.Sprintf("%d,%d", begin, n)
}

// lines splits s after each newline; a last line without one gets one.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	} else {
		out[len(out)-1] += "\n"
	}
	return out
}

// LastAppliedAnnotation is kubectl's copy of the last applied object: it
// holds the whole object again, a Secret's values too.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// droppedMetadata are the metadata fields the API server or controllers
// maintain, which a diff leaves out.
var droppedMetadata = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// Clean returns a deep copy of u's content without the fields nobody
// should read in a diff: metadata.managedFields, resourceVersion,
// generation, uid, creationTimestamp and selfLink, status, and the
// last-applied annotation. Nil for nil.
func Clean(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	m := u.DeepCopy().Object
	delete(m, "status")
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		return m
	}
	for _, f := range droppedMetadata {
		delete(md, f)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, LastAppliedAnnotation)
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	return m
}

// secretKeys compares the values of two Secrets' contents (either may be
// nil), data and stringData merged as the API server merges them.
func secretKeys(before, after map[string]any) []SecretKey {
	b, a := secretValues(before), secretValues(after)
	var out []SecretKey
	for k, bv := range b {
		av, ok := a[k]
		switch {
		case !ok:
			out = append(out, SecretKey{k, KeyRemoved})
		case bytes.Equal(av, bv):
			out = append(out, SecretKey{k, KeyUnchanged})
		default:
			out = append(out, SecretKey{k, KeyChanged})
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, SecretKey{k, KeyAdded})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// secretValues are a Secret's values by key: data decoded, stringData
// over it. A value that is not valid base64 is compared as it is.
func secretValues(m map[string]any) map[string][]byte {
	out := map[string][]byte{}
	if m == nil {
		return out
	}
	if data, ok := m["data"].(map[string]any); ok {
		for k, v := range data {
			s := fmt.Sprint(v)
			if v == nil {
				s = ""
			}
			if d, err := base64.StdEncoding.DecodeString(s); err == nil {
				out[k] = d
			} else {
				out[k] = []byte(s)
			}
		}
	}
	if sd, ok := m["stringData"].(map[string]any); ok {
		for k, v := range sd {
			if v == nil {
				out[k] = nil
				continue
			}
			out[k] = []byte(fmt.Sprint(v))
		}
	}
	return out
}

// Resolution is one bundle of the release, the root or a requirement
// instance, before and after the operation.
type Resolution struct {
	// Instance is the requirement's instance path (database,
	// database.metrics); empty for the root bundle.
	Instance string         `json:"instance,omitempty"`
	Action   Action         `json:"action"`
	Before   *plan.Resolved `json:"before,omitempty"`
	After    *plan.Resolved `json:"after,omitempty"`
	// Why, for a requirement the resolver moved, says why (set by the
	// release layer, which knows what the operation keeps).
	Why string `json:"why,omitempty"`
}

// Root compares the root bundle before (nil on install) and after.
func Root(before, after *plan.Resolved) Resolution {
	return resolution("", before, after)
}

func resolution(instance string, before, after *plan.Resolved) Resolution {
	r := Resolution{Instance: instance, Before: before, After: after}
	switch {
	case before == nil:
		r.Action = Create
	case after == nil:
		r.Action = Delete
	case before.Bundle == after.Bundle && before.Version == after.Version && before.Repository == after.Repository && before.Bound == after.Bound:
		r.Action = Unchanged
	default:
		r.Action = Change
	}
	return r
}

// Requirements compares the requirement instances of two resolutions (the
// release's recorded one and the new plan's): those of after in its order,
// then those only in before.
func Requirements(before, after []plan.Resolved) []Resolution {
	old := map[string]*plan.Resolved{}
	for i := range before {
		old[before[i].Instance] = &before[i]
	}
	out := make([]Resolution, 0, len(after))
	seen := map[string]bool{}
	for i := range after {
		a := after[i]
		seen[a.Instance] = true
		out = append(out, resolution(a.Instance, old[a.Instance], &a))
	}
	for i := range before {
		if b := before[i]; !seen[b.Instance] {
			out = append(out, resolution(b.Instance, &b, nil))
		}
	}
	return out
}
