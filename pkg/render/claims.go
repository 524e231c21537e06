package render

// Claims (bundle.yaml claims:): a requirement bound to a provider release
// that offers claims gets, in the consumer's release, the provider's claim
// templates (its own credentials Secret, the Job that makes its database
// and user on the server) as a subchart aliased to the instance name, and
// the claim's outputs in place of the provider's. Both see the consumer's
// identity under .Values.claim (ClaimValues).

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	common "helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
)

// ClaimKey is the key, under the values of a claimed instance, that holds
// the consumer's identity: .Values.claim in the claim's templates.
const ClaimKey = "claim"

var (
	nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)
	nonSQL = regexp.MustCompile(`[^a-z0-9_]+`)
)

// ClaimName is a claim's Kubernetes name: RELEASE-INSTANCE, lower case,
// at most 40 characters (longer ones are cut and end in a hash), so that
// objects can add suffixes to it.
func ClaimName(release, instance string) string {
	n := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(release+"-"+strings.ReplaceAll(instance, "_", "-")), "-"), "-")
	if len(n) <= 40 {
		return n
	}
	return strings.TrimRight(n[:31], "-") + "-" + shortHash(release+"/"+instance)
}

// ClaimID is a claim's database and user name: RELEASE_INSTANCE_HASH in
// lower case letters, digits and _, at most 32 characters (MySQL's limit
// of a user name). The hash, of NAMESPACE/RELEASE/INSTANCE, keeps two
// consumers apart whatever their names.
func ClaimID(namespace, release, instance string) string {
	base := strings.Trim(nonSQL.ReplaceAllString(strings.ToLower(strings.ReplaceAll(release, "-", "_")+"_"+instance), "_"), "_")
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "c_" + base
	}
	if len(base) > 23 {
		base = strings.TrimRight(base[:23], "_")
	}
	return base + "_" + shortHash(namespace+"/"+release+"/"+instance)
}

// ClaimJobName names a claim's objects in the provider's namespace (its
// ConfigMap and Jobs, and the copy of its Secret they read): ClaimName
// when the app is of that namespace, else ClaimName cut to 31 characters
// and a hash of the app's namespace, release and instance, so that apps of
// two namespaces with one name do not meet there.
func ClaimJobName(namespace, release, instance, providerNamespace string) string {
	n := ClaimName(release, instance)
	if namespace == providerNamespace {
		return n
	}
	if len(n) > 31 {
		n = strings.TrimRight(n[:31], "-")
	}
	return n + "-" + shortHash(namespace+"/"+release+"/"+instance)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// ClaimValues is what a claim's templates and outputs see as
// .Values.claim: the consumer's release, namespace and instance, the
// claim's name and id, where its Jobs run (jobNamespace, jobName), and the
// provider (release, namespace, bundle, and its outputs). The release is
// b.ClaimHolder when it is set (a blue/green app's name for both its
// colours), else rel's.
func ClaimValues(b *plan.Binding, instance string, rel ReleaseOptions) map[string]any {
	if b.ClaimHolder != "" {
		rel.Name = b.ClaimHolder
	}
	outs := map[string]any{}
	for k, v := range b.Outputs {
		outs[k] = v
	}
	cv := map[string]any{
		"release":   rel.Name,
		"namespace": rel.Namespace,
		"instance":  instance,
		"name":      ClaimName(rel.Name, instance),
		"id":        ClaimID(rel.Namespace, rel.Name, instance),
		// Where the claim's Jobs run: the provider's namespace, whose
		// administrator Secret they read.
		"jobNamespace": b.Namespace,
		"jobName":      ClaimJobName(rel.Namespace, rel.Name, instance, b.Namespace),
		"provider": map[string]any{
			"release":   b.Release,
			"namespace": b.Namespace,
			"bundle":    b.Provider.Name,
			"version":   b.Provider.Version.String(),
			"outputs":   outs,
		},
	}
	if g := b.Grant; g != nil {
		// Granted (another namespace's provider): the Secret the
		// claim's credentials are copied from.
		cv["grant"] = map[string]any{"namespace": g.Namespace, "name": g.Name}
	}
	return cv
}

// claimed returns the paths of the plan's bindings that use a claim,
// sorted: with own, only those whose objects the consumer's release holds
// (no ClaimHolder).
func claimed(p *plan.Plan, own bool) []string {
	var out []string
	for path, b := range p.Bound {
		if b.Claims() != nil && (!own || b.ClaimHolder == "") {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}

// addClaims adds to the composed root chart c one subchart per claimed
// binding its release holds: the provider's claim templates, aliased to
// the instance.
func addClaims(p *plan.Plan, c *chart.Chart) {
	for _, path := range claimed(p, true) {
		var cond, repo string
		for _, child := range p.Root.Requires {
			if child.Path == path {
				cond, repo = child.Requirement.Condition, child.Requirement.Repository
			}
		}
		addClaim(c, p.Bound[path], path, cond, repo)
	}
}

// addClaim adds to c the claim templates of binding b as a subchart
// aliased to instance path.
func addClaim(c *chart.Chart, b *plan.Binding, path, cond, repo string) {
	addSubchart(c, claimTemplates(b), path, cond, repo)
}

// claimTemplates is the chart of binding b's claim templates; for a
// granted claim, the one template that copies the grant's password into
// the consumer's own Secret (GrantChart made the rest, in the provider's
// namespace).
func claimTemplates(b *plan.Binding) *chart.Chart {
	sub := claimChart(b)
	if b.Grant != nil {
		sub.Templates = append(sub.Templates, &common.File{Name: "templates/granted-secret.yaml", Data: []byte(grantCopyTemplate)})
		return sub
	}
	addClaimTemplates(sub, b)
	return sub
}

// addClaimTemplates adds binding b's claim templates to c, each as
// templates/NAME.
func addClaimTemplates(c *chart.Chart, b *plan.Binding) {
	for _, t := range b.Claims().Templates {
		c.Templates = append(c.Templates, &common.File{Name: "templates/" + t.Name, Data: []byte(t.Template)})
	}
}

// addSubchart adds sub to c as a dependency aliased to path.
func addSubchart(c *chart.Chart, sub *chart.Chart, path, cond, repo string) {
	c.Metadata.Dependencies = append(c.Metadata.Dependencies, &chart.Dependency{
		Name: sub.Metadata.Name, Version: sub.Metadata.Version, Repository: repo, Alias: path, Condition: cond,
	})
	if c.Values == nil {
		c.Values = map[string]any{}
	}
	if c.Values[path] == nil {
		c.Values[path] = map[string]any{}
	}
	c.AddDependency(sub)
}

// HeldClaim is a claim as the release that holds it for others (a
// blue/green app's router, for its colours) carries it: the provider's
// claim templates as a chart, the values that render them (the claim's
// identity and provider under claim), and the content digest of the
// provider's bundle they were taken from (plan.Binding.Digest). A holder
// reading it back renders the templates of that bundle as its repository
// serves it, and takes of the values only the provider's outputs
// (HeldOutputs): the rest is made again (HeldClaims).
type HeldClaim struct {
	Chart  *chart.Chart   `json:"chart"`
	Values map[string]any `json:"values"`
	Digest string         `json:"digest,omitempty"`
}

// HeldOutputs are the provider's outputs a held claim was made with.
func (h HeldClaim) HeldOutputs() map[string]string {
	claim, _ := h.Values[ClaimKey].(map[string]any)
	prov, _ := claim["provider"].(map[string]any)
	outs, _ := prov["outputs"].(map[string]any)
	out := map[string]string{}
	for k, v := range outs {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// HeldClaims are the claims of the bindings of bound that use one, made
// for release rel (its name is the claims' identity), by instance.
func HeldClaims(bound map[string]*plan.Binding, rel ReleaseOptions) map[string]HeldClaim {
	out := map[string]HeldClaim{}
	for path, b := range bound {
		if b == nil || b.Claims() == nil {
			continue
		}
		held := *b
		held.ClaimHolder = rel.Name
		out[path] = HeldClaim{Chart: claimTemplates(&held), Values: map[string]any{ClaimKey: ClaimValues(&held, path, rel)}, Digest: b.Digest}
	}
	return out
}

// AddHeldClaims adds to c one subchart per claim, aliased to its
// instance, and returns the values that render them: each instance's
// under INSTANCE.
func AddHeldClaims(c *chart.Chart, claims map[string]HeldClaim) map[string]any {
	vals := map[string]any{}
	for _, path := range slices.Sorted(maps.Keys(claims)) {
		addSubchart(c, claims[path].Chart, path, "", "")
		vals[path] = claims[path].Values
	}
	return vals
}

// claimChart is the chart binding b's claim templates and outputs render
// in, named for the provider's bundle, with what the provider's chart
// gives them (addClaimParts) but its claim templates.
func claimChart(b *plan.Binding) *chart.Chart {
	c := &chart.Chart{
		Metadata: &chart.Metadata{
			APIVersion:  chart.APIVersionV2,
			Name:        b.Provider.Name,
			Version:     b.Provider.Version.String(),
			AppVersion:  b.Provider.AppVersion,
			Type:        "application",
			Description: "the claims of " + b.Provider.Name,
		},
		Values: map[string]any{},
	}
	addClaimParts(c, b, ClaimKey)
	return c
}

// addClaimParts gives c, a chart binding b's claim templates render in,
// what a template of the provider's chart sees besides its release: the
// chart's values.yaml as values, less the keys reserved (c's own values
// fill them: the claim's identity), its helper templates (templates/_*),
// its library charts (such as common), and the files of its claims
// directory (.Files.Get "claims/claim.sh"). The provider's chart is the
// bundle as its repository serves it (plan.Binding.Provider).
func addClaimParts(c *chart.Chart, b *plan.Binding, reserved ...string) {
	pc := b.Provider.Chart
	if pc == nil {
		return
	}
	if v := deepCopyMap(pc.Values); v != nil {
		for _, k := range reserved {
			delete(v, k)
		}
		c.Values = v
	}
	for _, t := range pc.Templates {
		if strings.HasPrefix(path.Base(t.Name), "_") {
			c.Templates = append(c.Templates, t)
		}
	}
	addLibraries(c, pc)
	if cl := b.Claims(); cl != nil && cl.Dir != "" {
		dir := cl.Dir
		for _, f := range pc.Files {
			if strings.HasPrefix(f.Name, dir) {
				c.Files = append(c.Files, f)
			}
		}
	}
}

// addLibraries adds to c a copy of each library chart src depends on
// (and of theirs), helpers only.
func addLibraries(c, src *chart.Chart) {
	for _, d := range src.Dependencies() {
		if d.Metadata.Type != bundle.TypeLibrary {
			continue
		}
		lib := copyChart(d, true)
		addLibraries(lib, d)
		c.Metadata.Dependencies = append(c.Metadata.Dependencies, &chart.Dependency{Name: d.Name(), Version: d.Metadata.Version})
		c.AddDependency(lib)
	}
}

// claimOutputs renders the claim outputs of binding b for the consumer
// (instance of release rel) and returns the provider's outputs with them
// in place.
func claimOutputs(b *plan.Binding, instance string, rel ReleaseOptions) (map[string]string, error) {
	return renderClaimOutputs(b, ClaimValues(b, instance, rel), rel)
}

// renderClaimOutputs renders binding b's claim outputs with claim values
// cv, for release rel.
func renderClaimOutputs(b *plan.Binding, cv map[string]any, rel ReleaseOptions) (map[string]string, error) {
	instance, _ := cv["instance"].(string)
	c := claimChart(b)
	for _, o := range b.Claims().Outputs {
		c.Templates = append(c.Templates, &common.File{Name: outputsDir + o.Name, Data: []byte(o.Template)})
	}
	vals := map[string]any{ClaimKey: cv}
	opts := common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: max(rel.Revision, 1), IsInstall: !rel.IsUpgrade, IsUpgrade: rel.IsUpgrade}
	rv, err := commonutil.ToRenderValues(c, vals, opts, defaultCapabilities())
	if err != nil {
		return nil, fmt.Errorf("the claim of %s on %s: %w", instance, b.Target(), err)
	}
	files, err := engine.Render(c, rv)
	if err != nil {
		return nil, fmt.Errorf("rendering the claim outputs of %s (bound to %s, %s): %w", instance, b.Target(), b.Provider, err)
	}
	out := map[string]string{}
	for k, v := range b.Outputs {
		out[k] = v
	}
	for name, text := range files {
		if dir, base := path.Split(name); strings.HasSuffix(dir, "/"+outputsDir) {
			out[base] = strings.TrimSpace(text)
		}
	}
	return out, nil
}

// Claim renders the claim binding b gives the consumer (instance of
// release rel) on its own, without a cluster (lookup finds nothing): its
// outputs (the provider's with the claim's in place) and its templates'
// objects, as Manifests whose Source is claims.templates/NAME, or the
// file DIR/NAME of a bundle whose claims.templates names a directory.
func Claim(b *plan.Binding, instance string, rel ReleaseOptions) (map[string]string, []Manifest, error) {
	if b.Claims() == nil {
		return nil, nil, fmt.Errorf("%s offers no claims", b.Provider)
	}
	outs, err := claimOutputs(b, instance, rel)
	if err != nil {
		return nil, nil, err
	}
	c := claimChart(b)
	addClaimTemplates(c, b)
	opts := common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: max(rel.Revision, 1), IsInstall: !rel.IsUpgrade, IsUpgrade: rel.IsUpgrade}
	rv, err := commonutil.ToRenderValues(c, map[string]any{ClaimKey: ClaimValues(b, instance, rel)}, opts, defaultCapabilities())
	if err != nil {
		return nil, nil, err
	}
	source := "claims.templates/"
	if cl := b.Claims(); cl != nil && cl.Dir != "" {
		dir := cl.Dir
		source = dir
	}
	files, err := engine.Render(c, rv)
	if err != nil {
		if source != "claims.templates/" {
			// Name the chart's own files: claims/job.yaml:12, not the
			// templates/job.yaml of the claim's chart.
			err = errors.New(strings.ReplaceAll(err.Error(), c.Name()+"/templates/", source))
		}
		return nil, nil, fmt.Errorf("rendering the claim templates of %s: %w", b.Provider, err)
	}
	var ms []Manifest
	for _, n := range slices.Sorted(maps.Keys(files)) {
		var sb strings.Builder
		docs := releaseutil.SplitManifests(files[n])
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			sb.WriteString("---\n# Source: " + source + path.Base(n) + "\n" + docs[k] + "\n")
		}
		m, err := (&Rendered{Manifest: sb.String()}).Manifests()
		if err != nil {
			at := source + path.Base(n)
			if b.Claims().Dir == "" {
				at = "claims.templates." + path.Base(n)
			}
			return nil, nil, fmt.Errorf("%s: %w", at, err)
		}
		ms = append(ms, m...)
	}
	return outs, ms, nil
}
