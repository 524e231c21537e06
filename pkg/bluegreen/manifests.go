package bluegreen

// What of a colour's manifests the router takes: its Ingresses and its
// Services, made stable.

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"
)

// askedOfCertManager reports whether an Ingress's metadata asks cert-manager's
// ingress-shim for its TLS certificates (the Secrets it then names).
func askedOfCertManager(meta map[string]any) bool {
	ann, _ := meta["annotations"].(map[string]any)
	for _, k := range []string{"cert-manager.io/issuer", "cert-manager.io/cluster-issuer", "kubernetes.io/tls-acme"} {
		if _, ok := ann[k]; ok {
			return true
		}
	}
	return false
}

// colorPost is the post-renderer of a colour: its Ingresses are taken out
// of its manifests, named and pointed at the stable Services
// (SplitIngresses), and kept in *ingresses for the router.
type colorPost struct {
	app, color string
	ingresses  *string
}

func (s colorPost) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	rest, ingresses, err := SplitIngresses(in.String(), s.app, s.color)
	if err != nil {
		return nil, err
	}
	*s.ingresses = ingresses
	return bytes.NewBufferString(rest), nil
}

// SplitIngresses takes the Ingresses out of manifests (a stream of YAML
// documents) of colour color of app name, and returns the other documents
// as they are and the Ingresses as the router installs them: each named
// as its stable self when named after the colour release (NAME-COLOR-web:
// NAME-web), labelled bundle.sh/color, and each backend Service named
// after the colour release named as its stable Service (NAME-COLOR: NAME),
// and so each TLS secret named after it that cert-manager issues for the
// Ingress (its ingress-shim annotations) and the colour does not make
// itself (a Secret or a Certificate of its manifest).
func SplitIngresses(manifests, name, color string) (rest, ingresses string, err error) {
	rel := ColorRelease(name, color)
	stableName := func(n string) string {
		if n == rel || strings.HasPrefix(n, rel+"-") {
			return name + strings.TrimPrefix(n, rel)
		}
		return n
	}
	backend := func(b any) {
		if bm, ok := b.(map[string]any); ok {
			if svc, ok := bm["service"].(map[string]any); ok {
				if n, ok := svc["name"].(string); ok {
					svc["name"] = stableName(n)
				}
			}
		}
	}
	// Secrets the colour makes itself keep their names in a TLS section;
	// others (cert-manager's, named by the Ingress) take the stable name,
	// so that a switch does not ask for a new certificate.
	own := map[string]bool{}
	for _, doc := range splitDocs(manifests) {
		var obj struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				SecretName string `json:"secretName"`
			}
		}
		if !strings.Contains(doc, "Secret") && !strings.Contains(doc, "Certificate") || yaml.Unmarshal([]byte(doc), &obj) != nil {
			continue
		}
		switch obj.Kind {
		case "Secret":
			own[obj.Metadata.Name] = true
		case "Certificate": // cert-manager's, made by the colour
			own[obj.Spec.SecretName] = true
		}
	}
	var kept, routed strings.Builder
	for _, doc := range splitDocs(manifests) {
		var obj map[string]any
		if !strings.Contains(doc, "Ingress") || yaml.Unmarshal([]byte(doc), &obj) != nil || obj == nil || obj["kind"] != "Ingress" {
			kept.WriteString("---\n")
			kept.WriteString(strings.TrimPrefix(doc, "\n"))
			if !strings.HasSuffix(doc, "\n") {
				kept.WriteString("\n")
			}
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		if n, ok := meta["name"].(string); ok {
			meta["name"] = stableName(n)
		}
		labels := map[string]any{}
		if l, ok := meta["labels"].(map[string]any); ok {
			for k, v := range l {
				if k != "app.kubernetes.io/instance" && k != "helm.sh/chart" {
					labels[k] = v
				}
			}
		}
		labels[colorLabel] = color
		meta["labels"] = labels
		spec, _ := obj["spec"].(map[string]any)
		tls, _ := spec["tls"].([]any)
		for _, t := range tls {
			if tm, ok := t.(map[string]any); ok {
				if n, ok := tm["secretName"].(string); ok && !own[n] && askedOfCertManager(meta) {
					tm["secretName"] = stableName(n)
				}
			}
		}
		backend(spec["defaultBackend"])
		rules, _ := spec["rules"].([]any)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			h, _ := rm["http"].(map[string]any)
			paths, _ := h["paths"].([]any)
			for _, p := range paths {
				if pm, ok := p.(map[string]any); ok {
					backend(pm["backend"])
				}
			}
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return "", "", err
		}
		routed.WriteString("---\n")
		routed.Write(b)
	}
	return kept.String(), routed.String(), nil
}

// splitDocs splits a YAML stream at its document separators.
func splitDocs(s string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

// selectsRelease reports whether selector sel names release rel in one of
// its values: only then do the two colours' pods differ to it.
func selectsRelease(sel map[string]any, rel string) bool {
	for _, v := range sel {
		if s, ok := v.(string); ok && (s == rel || strings.HasPrefix(s, rel+"-")) {
			return true
		}
	}
	return false
}

// RouterServices makes the stable Services of app name from the manifest
// of its colour release NAME-COLOR: one for each Service there, named with
// the colour taken out (NAME-COLOR-web: NAME-web; NAME-COLOR: NAME), with
// its ports and selector, labelled bundle.sh/color. A Service not named
// after the colour release, or without a selector, is refused: it could not
// be switched. It returns the manifests and the Services' names, sorted.
func RouterServices(manifest, name, color string) (string, []string, error) {
	rel := ColorRelease(name, color)
	type svc struct {
		name string
		doc  []byte
	}
	var out []svc
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
			continue
		}
		if obj["kind"] != "Service" || obj["apiVersion"] != "v1" {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		spec, _ := obj["spec"].(map[string]any)
		n, _ := meta["name"].(string)
		if n != rel && !strings.HasPrefix(n, rel+"-") {
			return "", nil, fmt.Errorf("blue-green app %q: Service %q of %s is not named after its release (%s or %s-...): its stable name cannot be known; name Services {{ .Release.Name }}-...", name, n, rel, rel, rel)
		}
		sel, _ := spec["selector"].(map[string]any)
		if len(sel) == 0 {
			return "", nil, fmt.Errorf("blue-green app %q: Service %q of %s has no selector: it cannot be switched", name, n, rel)
		}
		if !selectsRelease(sel, rel) {
			return "", nil, fmt.Errorf("blue-green app %q: Service %q of %s selects its pods without the release name (%v): it would select both colours' pods; select by {{ .Release.Name }} (app.kubernetes.io/instance)", name, n, rel, sel)
		}
		if spec["clusterIP"] == "None" {
			continue // headless: per-colour by nature
		}
		stable := name + strings.TrimPrefix(n, rel)
		newSpec := map[string]any{"selector": sel}
		if t, ok := spec["type"]; ok {
			newSpec["type"] = t
		}
		if ports, ok := spec["ports"].([]any); ok {
			var ps []any
			for _, p := range ports {
				if pm, ok := p.(map[string]any); ok {
					cp := map[string]any{}
					for k, v := range pm {
						if k != "nodePort" {
							cp[k] = v
						}
					}
					ps = append(ps, cp)
				}
			}
			newSpec["ports"] = ps
		}
		labels := map[string]any{colorLabel: color}
		if l, ok := meta["labels"].(map[string]any); ok {
			for k, v := range l {
				if k != "app.kubernetes.io/instance" && k != "helm.sh/chart" {
					labels[k] = v
				}
			}
		}
		labels[colorLabel] = color
		svcObj := map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": stable, "labels": labels},
			"spec":     newSpec,
		}
		b, err := yaml.Marshal(svcObj)
		if err != nil {
			return "", nil, err
		}
		out = append(out, svc{stable, b})
	}
	if len(out) == 0 {
		return "", nil, fmt.Errorf("blue-green app %q: %s has no Service to route to", name, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	var b strings.Builder
	names := make([]string, len(out))
	for i, s := range out {
		names[i] = s.name
		b.WriteString("---\n")
		b.Write(s.doc)
	}
	return b.String(), names, nil
}
