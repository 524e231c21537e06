package bundle

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	yaml "go.yaml.in/yaml/v3"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Names of the files a bundle is made of, and the version of the format.
const (
	FileName          = "bundle.yaml"
	ChartFileName     = "Chart.yaml"
	ValuesFileName    = "values.yaml"
	APIVersion        = "bundle/v1"
	Kind              = "Bundle"
	DefaultRepository = "stable"
	// RequiresKey is the top-level values key under which the composition
	// hands each requirement's outputs to the app:
	// .Values.requires.INSTANCE.OUTPUT. Charts may not use it themselves.
	RequiresKey = "requires"
)

// File is a parsed bundle.yaml.
type File struct {
	// Requires lists the bundles this one needs, sorted by instance name.
	Requires []Requirement
	// Outputs lists what this bundle offers to the apps that require it,
	// sorted by name.
	Outputs []Output
	// Claims is what each app bound to a release of this bundle gets of
	// its own (its database, user and password); nil when the bundle
	// offers none.
	Claims *Claims
	// Backup says how a release of this data bundle is dumped and
	// restored; nil when it is not.
	Backup *Backup
}

// Claims is claims: in bundle.yaml: what a provider gives each consumer of
// its own. When an app's requirement is bound to a release of this bundle
// (--bind), the templates are rendered in the app's release, with the
// consumer's identity under .Values.claim, and the outputs, rendered with
// the same, replace the provider's outputs of the same name for that app.
type Claims struct {
	// Templates are Helm templates by file name (NAME.yaml), sorted by
	// name: written in bundle.yaml, or, with Dir, the chart's files
	// DIR/NAME.yaml, read when the bundle is loaded (their Line is 0).
	Templates []Output
	// Dir, when claims.templates names a directory of the chart
	// (claims/), is that directory, ending in "/": its NAME.yaml files
	// are the claim templates, its other files the claim chart's files
	// (.Files.Get "claims/claim.sh"). Helm never renders them as the
	// chart's own: they are not under templates/.
	Dir string
	// DirLine is where claims.templates names Dir.
	DirLine int
	// Outputs are templates like outputs:, each the name of one of the
	// bundle's outputs, sorted by name.
	Outputs []Output
	// Line is where claims: starts in bundle.yaml.
	Line int
}

// Output returns the claim output named name, if any.
func (c *Claims) Output(name string) (Output, bool) {
	if c != nil {
		for _, o := range c.Outputs {
			if o.Name == name {
				return o, true
			}
		}
	}
	return Output{}, false
}

// Requirement is one entry under requires: in bundle.yaml.
type Requirement struct {
	// Name is the instance name: the key under requires:, the key its values
	// live under in the app's values, and the subchart alias.
	Name string
	// Bundle is the name of the required bundle.
	Bundle string
	// Repository says where the bundle comes from: "stable" (the built-in
	// catalog, the default), the name of a configured repository, or an
	// https:// or oci:// address.
	Repository string
	// Version is the semver constraint as written; Constraint is it parsed.
	Version    string
	Constraint *semver.Constraints
	// Values are default values handed to the instance.
	Values map[string]any
	// Condition is a values path (e.g. cache.enabled) that, when false,
	// disables the requirement. Empty means always enabled.
	Condition string
	// Outputs names the outputs the app needs from this requirement; each
	// must be offered by the bundle and render non-empty.
	Outputs []string
	// Line is where the requirement starts in bundle.yaml.
	Line int
}

// Output is one entry under outputs: in bundle.yaml: a Go template evaluated
// with the bundle's own values and release, like a template in templates/.
type Output struct {
	Name     string
	Template string
	Line     int
}

var (
	instanceRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	bundleRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	repoNameRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)
	valuePathRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_-]*(\.[a-zA-Z_][a-zA-Z0-9_-]*)*$`)
	yamlLineRE  = regexp.MustCompile(`line (\d+): (.*)$`)
)

// ParseFile parses and validates the bytes of a bundle.yaml. name is the path
// used in error messages.
func ParseFile(name string, data []byte) (*File, error) {
	f := &File{}
	doc := document{name: name, kind: Kind, fields: []string{"requires", "outputs", "claims", "backup"}}
	err := doc.parse(data, func(k, v *yaml.Node) (err error) {
		switch k.Value {
		case "requires":
			f.Requires, err = parseRequires(name, v)
		case "outputs":
			f.Outputs, err = parseOutputs(name, v, "outputs")
		case "claims":
			f.Claims, err = parseClaims(name, k, v)
		case "backup":
			f.Backup, err = parseBackup(name, k, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.Claims != nil {
		// Each claim output stands for an output of the bundle's.
		for _, o := range f.Claims.Outputs {
			if !slices.ContainsFunc(f.Outputs, func(p Output) bool { return p.Name == o.Name }) {
				return nil, &FileError{File: name, Line: o.Line, Field: "claims.outputs." + o.Name, Msg: "not an output of the bundle", Hint: "a claim output replaces one of outputs: for the consumer; add " + o.Name + " to outputs: or remove it here"}
			}
		}
	}
	if err := checkBackup(name, f); err != nil {
		return nil, err
	}
	return f, nil
}

// document is a top-level YAML mapping with apiVersion and kind, as
// bundle.yaml and bundle.lock are.
type document struct {
	name     string   // the file's name, for errors
	kind     string   // the kind it must have
	fields   []string // its other fields
	required bool     // whether each of fields must be there
	optional []string // fields that may be left out even when required
}

// parse checks the header and the field names and calls field for each of
// d.fields present, in the file's order.
func (d document) parse(data []byte, field func(k, v *yaml.Node) error) error {
	header := "apiVersion: " + APIVersion + " and kind: " + d.kind
	m, err := parseMapping(d.name, data, "start it with "+header)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		seen[k.Value] = true
		switch {
		case k.Value == "apiVersion" || k.Value == "kind":
			err = checkHeader(d.name, k.Value, v, d.kind, "")
		case slices.Contains(d.fields, k.Value):
			err = field(k, v)
		default:
			err = unknownField(d.name, k, "", strings.Join(append([]string{"apiVersion", "kind"}, d.fields...), ", "))
		}
		if err != nil {
			return err
		}
	}
	want := []string{"apiVersion", "kind"}
	if d.required {
		want = append(want, d.fields...)
	}
	for _, w := range want {
		if !seen[w] && !slices.Contains(d.optional, w) {
			hint := "add " + header
			if w != "apiVersion" && w != "kind" {
				hint = ""
			}
			return &FileError{File: d.name, Line: 1, Field: w, Msg: "missing", Hint: hint}
		}
	}
	return nil
}

func parseRequires(file string, n *yaml.Node) ([]Requirement, error) {
	m, err := mapping(file, n, "requires")
	if err != nil {
		return nil, err
	}
	var reqs []Requirement
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		field := "requires." + k.Value
		if !instanceRE.MatchString(k.Value) {
			return nil, &FileError{File: file, Line: k.Line, Field: field, Msg: fmt.Sprintf("invalid instance name %q", k.Value), Hint: "use letters, digits and _, starting with a letter, so templates can say .Values." + "NAME"}
		}
		if k.Value == RequiresKey {
			return nil, &FileError{File: file, Line: k.Line, Field: field, Msg: fmt.Sprintf("instance name %q is reserved", k.Value), Hint: "choose another instance name"}
		}
		r := Requirement{Name: k.Value, Repository: DefaultRepository, Line: k.Line}
		rm, err := mapping(file, v, field)
		if err != nil {
			return nil, err
		}
		for j := 0; j < len(rm.Content); j += 2 {
			fk, fv := rm.Content[j], rm.Content[j+1]
			ff := field + "." + fk.Value
			switch fk.Value {
			case "bundle":
				if r.Bundle, err = scalar(file, fv, ff); err != nil {
					return nil, err
				}
				if !bundleRE.MatchString(r.Bundle) {
					return nil, &FileError{File: file, Line: fv.Line, Field: ff, Msg: fmt.Sprintf("invalid bundle name %q", r.Bundle), Hint: "bundle names are lower case letters, digits and -"}
				}
			case "repository":
				if r.Repository, err = scalar(file, fv, ff); err != nil {
					return nil, err
				}
				if clean, had := StripCredentials(r.Repository); had {
					r.Repository = clean
					return nil, &FileError{File: file, Line: fv.Line, Field: ff, Msg: fmt.Sprintf("the address %s holds a user name or password", clean),
						Hint:  "drop them, and name the repository here once it is added with its credentials kept apart",
						Fixes: []errdefs.Fix{{Run: []string{"repo", "add", "NAME", clean}, Options: []string{"username", "password-stdin"}, Use: true}}}
				}
				if err := checkRepository(r.Repository); err != nil {
					return nil, &FileError{File: file, Line: fv.Line, Field: ff, Msg: err.Error(), Hint: "use stable, a configured repository name, https://HOST/PATH or oci://HOST/NAMESPACE"}
				}
			case "version":
				if r.Version, err = scalar(file, fv, ff); err != nil {
					return nil, err
				}
				c, err := ParseConstraint(r.Version)
				if err != nil {
					return nil, &FileError{File: file, Line: fv.Line, Field: ff, Msg: err.Error(), Hint: "write a semver range such as ^11.4.0, ~1.2 or >=1.0.0 <2.0.0", Err: err}
				}
				r.Constraint = c
			case "values":
				if r.Values, err = decodeMap(file, fv, ff); err != nil {
					return nil, err
				}
			case "condition":
				if r.Condition, err = scalar(file, fv, ff); err != nil {
					return nil, err
				}
				if !valuePathRE.MatchString(r.Condition) {
					return nil, &FileError{File: file, Line: fv.Line, Field: ff, Msg: fmt.Sprintf("invalid condition %q", r.Condition), Hint: "use a values path such as " + r.Name + ".enabled"}
				}
			case "outputs":
				if fv.Kind != yaml.SequenceNode {
					return nil, &FileError{File: file, Line: fv.Line, Field: ff, Msg: "must be a list of output names", Hint: "for example [host, port]"}
				}
				for _, o := range fv.Content {
					s, err := scalar(file, o, ff)
					if err != nil {
						return nil, err
					}
					r.Outputs = append(r.Outputs, s)
				}
			default:
				return nil, unknownField(file, fk, field+".", "bundle, repository, version, values, condition, outputs")
			}
		}
		if r.Bundle == "" {
			return nil, &FileError{File: file, Line: k.Line, Field: field + ".bundle", Msg: "missing", Hint: "name the bundle this instance needs, e.g. bundle: mariadb"}
		}
		if r.Constraint == nil {
			return nil, &FileError{File: file, Line: k.Line, Field: field + ".version", Msg: "missing", Hint: "give a semver constraint, e.g. version: ^1.0.0"}
		}
		reqs = append(reqs, r)
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Name < reqs[j].Name })
	return reqs, nil
}

var claimTemplateRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9_-])?\.yaml$`)

// parseClaims parses claims: {templates: {NAME.yaml: TEMPLATE} or DIR,
// outputs: {OUTPUT: TEMPLATE}}.
func parseClaims(file string, k, n *yaml.Node) (*Claims, error) {
	m, err := mapping(file, n, "claims")
	if err != nil {
		return nil, err
	}
	c := &Claims{Line: k.Line}
	for i := 0; i < len(m.Content); i += 2 {
		fk, fv := m.Content[i], m.Content[i+1]
		switch fk.Value {
		case "templates":
			if fv.Kind == yaml.ScalarNode && fv.Tag != "!!null" {
				if c.Dir, err = parseClaimDir(file, fv); err != nil {
					return nil, err
				}
				c.DirLine = fv.Line
			} else if c.Templates, err = parseTemplates(file, fv, "claims.templates", claimTemplateNames); err != nil {
				return nil, err
			}
		case "outputs":
			if c.Outputs, err = parseOutputs(file, fv, "claims.outputs"); err != nil {
				return nil, err
			}
		default:
			return nil, unknownField(file, fk, "claims.", "templates, outputs")
		}
	}
	if len(c.Outputs) == 0 {
		return nil, &FileError{File: file, Line: k.Line, Field: "claims.outputs", Msg: "missing", Hint: "say what the consumer gets instead of the provider's outputs, e.g. username: '{{ .Values.claim.id }}'"}
	}
	return c, nil
}

// parseClaimDir parses claims.templates naming a directory of the chart:
// a relative path, clean, outside templates/ (Helm would render its files
// as the chart's own) and charts/ (subcharts); returned ending in "/".
func parseClaimDir(file string, n *yaml.Node) (string, error) {
	dir := strings.TrimSuffix(n.Value, "/")
	top, _, _ := strings.Cut(dir, "/")
	if dir == "" || path.IsAbs(dir) || path.Clean(dir) != dir || dir == "." || top == ".." || top == "templates" || top == "charts" || strings.ContainsAny(dir, "\\\x00") {
		return "", &FileError{File: file, Line: n.Line, Field: "claims.templates", Msg: fmt.Sprintf("invalid directory %q", n.Value),
			Hint: "name a directory of the chart outside templates/ and charts/, such as claims/, or give the templates by name"}
	}
	return dir + "/", nil
}

// loadClaimTemplates reads c's templates from the files of chart ch when
// c names a directory (Dir): each DIR/NAME.yaml, sorted by name. file is
// bundle.yaml's path in messages, where names a file of the chart for
// them. A Claims without Dir, or nil, is left as it is.
func loadClaimTemplates(c *Claims, ch *chart.Chart, file string, where func(string) string) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	c.Templates = nil
	for _, f := range ch.Files {
		base, ok := strings.CutPrefix(f.Name, c.Dir)
		if !ok || strings.Contains(base, "/") || !strings.HasSuffix(base, ".yaml") {
			continue
		}
		if !claimTemplateRE.MatchString(base) {
			return &FileError{File: where(f.Name), Msg: fmt.Sprintf("invalid claim template name %q", base), Hint: claimTemplateNames.nameHint}
		}
		if strings.TrimSpace(string(f.Data)) == "" {
			return &FileError{File: where(f.Name), Msg: "empty claim template", Hint: claimTemplateNames.emptyHint}
		}
		c.Templates = append(c.Templates, Output{Name: base, Template: string(f.Data)})
	}
	if len(c.Templates) == 0 {
		return &FileError{File: file, Line: c.DirLine, Field: "claims.templates", Msg: "no claim templates in " + c.Dir,
			Hint: "add the objects each consumer gets as " + c.Dir + "NAME.yaml, such as its Secret"}
	}
	sort.Slice(c.Templates, func(i, j int) bool { return c.Templates[i].Name < c.Templates[j].Name })
	return nil
}

func parseOutputs(file string, n *yaml.Node, at string) ([]Output, error) {
	return parseTemplates(file, n, at, outputNames)
}

// templateNames says which keys name templates of a mapping, and what to
// write in each.
type templateNames struct {
	re        *regexp.Regexp
	what      string // "output name"
	nameHint  string
	emptyHint string
}

var (
	outputNames = templateNames{instanceRE, "output name", "use letters, digits and _, starting with a letter",
		"give a template such as '{{ .Values.service.port }}'"}
	claimTemplateNames = templateNames{claimTemplateRE, "template name", "name it like a file of templates/: lower case letters, digits, -, _ and ., ending in .yaml",
		"give the objects each consumer gets, such as its Secret"}
)

// parseTemplates parses mapping n (field at) of names to templates, each
// name as names says and no template empty, sorted by name.
func parseTemplates(file string, n *yaml.Node, at string, names templateNames) ([]Output, error) {
	m, err := mapping(file, n, at)
	if err != nil {
		return nil, err
	}
	var outs []Output
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		field := at + "." + k.Value
		if !names.re.MatchString(k.Value) {
			return nil, &FileError{File: file, Line: k.Line, Field: field, Msg: fmt.Sprintf("invalid %s %q", names.what, k.Value), Hint: names.nameHint}
		}
		t, err := scalar(file, v, field)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(t) == "" {
			return nil, &FileError{File: file, Line: v.Line, Field: field, Msg: "empty template", Hint: names.emptyHint}
		}
		outs = append(outs, Output{Name: k.Value, Template: t, Line: k.Line})
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i].Name < outs[j].Name })
	return outs, nil
}

// ParseConstraint parses a semver constraint in Masterminds/semver v3
// syntax. The empty string is refused: say "*" to accept any version.
func ParseConstraint(s string) (*semver.Constraints, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty version constraint")
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return nil, fmt.Errorf("invalid version constraint %q: %v", s, err)
	}
	return c, nil
}

func checkRepository(s string) error {
	if scheme, _, ok := strings.Cut(s, "://"); ok {
		switch scheme {
		case "https", "http", "oci":
			return nil
		}
		return fmt.Errorf("unsupported repository scheme %q in %q", scheme, s)
	}
	if !repoNameRE.MatchString(s) {
		return fmt.Errorf("invalid repository %q", s)
	}
	return nil
}

// parseMapping parses a file that must be one non-empty YAML mapping;
// emptyHint says how to fix an empty file.
func parseMapping(name string, data []byte, emptyHint string) (*yaml.Node, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &FileError{File: name, Msg: "file is empty", Hint: emptyHint, Err: ErrInvalid}
	}
	if err := noDuplicateKeys(name, root, ""); err != nil {
		return nil, err
	}
	return mapping(name, root, "")
}

// keyID is what a scalar key becomes once values are decoded: 1, 0x1 and
// "1" are the same key there, and so are true and "true".
func keyID(k *yaml.Node) string {
	if k.Tag == "!!str" || k.Tag == "" {
		return k.Value
	}
	var v any
	if err := k.Decode(&v); err != nil {
		return k.Value
	}
	return fmt.Sprint(v)
}

// noDuplicateKeys refuses a key given twice in any mapping of the tree
// under n, naming the field by its path (a.b, list[2].c) and both lines.
// Aliases are not followed: the anchored node is checked where it is
// written, and following them could take exponential time.
func noDuplicateKeys(file string, n *yaml.Node, field string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := noDuplicateKeys(file, c, field); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := noDuplicateKeys(file, c, fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode {
				id := keyID(k)
				if prev, dup := seen[id]; dup {
					return &FileError{File: file, Line: k.Line, Field: join(field, k.Value), Msg: fmt.Sprintf("duplicate key (first at line %d)", prev), Hint: "keep one"}
				}
				seen[id] = k.Line
			}
			if err := noDuplicateKeys(file, v, join(field, k.Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseYAML parses one YAML document into its root node (nil when empty),
// refusing multi-document files and reporting syntax errors with a line.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return nil, nil
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FileError{File: file, Line: extra.Line, Msg: "more than one YAML document", Hint: "remove the --- separator and what follows"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &FileError{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}

func mapping(file string, n *yaml.Node, field string) (*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if field != "" {
			what = field
		}
		return nil, &FileError{File: file, Line: n.Line, Field: field, Msg: fmt.Sprintf("%s must be a mapping, not %s", what, kindName(n))}
	}
	seen := map[string]int{}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, &FileError{File: file, Line: k.Line, Field: field, Msg: "keys must be strings"}
		}
		if prev, dup := seen[k.Value]; dup {
			return nil, &FileError{File: file, Line: k.Line, Field: join(field, k.Value), Msg: fmt.Sprintf("duplicate key (first at line %d)", prev), Hint: "keep one"}
		}
		seen[k.Value] = k.Line
	}
	return n, nil
}

// scalarFields calls set with each key of mapping m (at field) whose
// values must all be strings, in order: the key and value nodes, the
// value's field path and its text. The first error stops it.
func scalarFields(file string, m *yaml.Node, field string, set func(k, v *yaml.Node, f, s string) error) error {
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		f := field + "." + k.Value
		s, err := scalar(file, v, f)
		if err != nil {
			return err
		}
		if err := set(k, v, f, s); err != nil {
			return err
		}
	}
	return nil
}

func scalar(file string, n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", &FileError{File: file, Line: n.Line, Field: field, Msg: fmt.Sprintf("must be a string, not %s", kindName(n))}
	}
	return n.Value, nil
}

// decodeMap turns a YAML mapping into JSON-compatible values (the types
// Helm's values use).
func decodeMap(file string, n *yaml.Node, field string) (map[string]any, error) {
	if _, err := mapping(file, n, field); err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return nil, &FileError{File: file, Line: n.Line, Field: field, Msg: err.Error()}
	}
	var v map[string]any
	if err := sigsyaml.Unmarshal(b, &v); err != nil {
		return nil, &FileError{File: file, Line: n.Line, Field: field, Msg: "cannot use as values: " + err.Error()}
	}
	return v, nil
}

func unknownField(file string, k *yaml.Node, prefix, known string) error {
	return &FileError{File: file, Line: k.Line, Field: prefix + k.Value, Msg: "unknown field", Hint: "known fields: " + known}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	}
	return "an alias"
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// checkHeader checks the apiVersion or kind field of one of our files.
func checkHeader(file, field string, v *yaml.Node, kind, hint string) error {
	want := APIVersion
	if field == "kind" {
		want = kind
	}
	if v.Kind == yaml.ScalarNode && v.Value == want {
		return nil
	}
	return &FileError{File: file, Line: v.Line, Field: field, Msg: fmt.Sprintf("unsupported %s %q", field, v.Value), Hint: "use " + want + hint}
}

// StripCredentials returns a URL without the user name and password it may
// carry in its authority (https://user:pass@host/...), and whether it
// carried any. It works on the text, so that even an address too broken
// to parse never has its password printed.
func StripCredentials(raw string) (clean string, had bool) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw, false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw, false
	}
	return scheme + "://" + rest[at+1:], true
}
