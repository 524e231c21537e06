package render

import (
	"bytes"
	"fmt"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// ImageUse is one container image a rendered object would run.
type ImageUse struct {
	// Image is the reference as the manifest writes it.
	Image string
	// Kind, Name and Source are the object's (Source: its template).
	Kind, Name, Source string
	// Container is where in the object: "spec.template.spec.containers[web]".
	Container string
	// Hook is true for an image of a hook.
	Hook bool
}

// podSpecPaths are where each workload kind holds its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"PodTemplate":           {"template", "spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// containerLists are the lists of containers in a pod spec.
var containerLists = []string{"initContainers", "containers", "ephemeralContainers"}

// Images lists every container image the objects would run: the
// containers, init containers and ephemeral containers of Pods and of the
// pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
// ReplicationControllers, Jobs and CronJobs (their job template), hooks
// included; in the objects' order, then the pod spec's (init containers
// first). It is pure: it reads the structured objects only.
func Images(ms []Manifest) []ImageUse {
	var out []ImageUse
	for _, m := range ms {
		path, ok := podSpecPaths[m.Kind]
		if !ok {
			continue
		}
		var spec any = m.Object
		for _, k := range path {
			obj, _ := spec.(map[string]any)
			spec = obj[k]
		}
		pod, _ := spec.(map[string]any)
		for _, list := range containerLists {
			cs, _ := pod[list].([]any)
			for i, c := range cs {
				c, _ := c.(map[string]any)
				img, _ := c["image"].(string)
				if img == "" {
					continue
				}
				name, _ := c["name"].(string)
				if name == "" {
					name = fmt.Sprint(i)
				}
				out = append(out, ImageUse{Image: img, Kind: m.Kind, Name: m.Name, Source: m.Source, Hook: m.Hook,
					Container: strings.Join(path, ".") + "." + list + "[" + name + "]"})
			}
		}
	}
	return out
}

// ImagePins rewrites the images of rendered objects to their locked
// digests (REPOSITORY@sha256:...), so that the same lock renders the same
// objects on any cluster. An image the lock does not hold is an error
// naming it (the lock is stale); one written by digest already is kept as
// written.
type ImagePins struct {
	// Images are the lock's.
	Images []bundle.LockedImage
	// Lock names the lock file, and Bundle the bundle to lock again, for
	// errors.
	Lock, Bundle string
}

// Pins are the image pins of a plan resolved with its lock (--locked);
// false when the plan pins no images.
func Pins(p *plan.Plan) (ImagePins, bool) {
	if p.LockedImages == nil {
		return ImagePins{}, false
	}
	src := p.Root.Bundle.Source
	return ImagePins{Images: p.LockedImages, Lock: src + "/" + bundle.LockFileName, Bundle: src}, true
}

// PinStream rewrites the images of every object in a YAML stream (a
// manifest as Helm renders it, "---" between documents, or as a
// post-renderer writes it). Documents without an image to pin are kept
// byte for byte; the others are written again from their YAML tree, in
// their order, with their comments.
func (p ImagePins) PinStream(stream string) (string, error) {
	if stream == "" {
		return stream, nil
	}
	lines := strings.SplitAfter(stream, "\n")
	var b strings.Builder
	var doc []string
	flush := func() error {
		// The document's leading comments (# Source: ...) stay as they are.
		i := 0
		for i < len(doc) && (strings.HasPrefix(doc[i], "#") || strings.TrimSpace(doc[i]) == "") {
			i++
		}
		b.WriteString(strings.Join(doc[:i], ""))
		body := strings.Join(doc[i:], "")
		pinned, err := p.PinDocument(body)
		if err != nil {
			return err
		}
		b.WriteString(pinned)
		doc = doc[:0]
		return nil
	}
	for _, l := range lines {
		if strings.TrimRight(l, "\r\n") == "---" {
			if err := flush(); err != nil {
				return "", err
			}
			b.WriteString(l)
			continue
		}
		doc = append(doc, l)
	}
	if err := flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// PinDocument rewrites the images of one YAML document; a document
// without an image to change is returned as it is.
func (p ImagePins) PinDocument(doc string) (string, error) {
	if strings.TrimSpace(doc) == "" || !strings.Contains(doc, "image") {
		return doc, nil
	}
	var root yaml3.Node
	if err := yaml3.Unmarshal([]byte(doc), &root); err != nil {
		return doc, nil // not YAML this step understands: Helm's checks report it
	}
	if root.Kind != yaml3.DocumentNode || len(root.Content) == 0 {
		return doc, nil
	}
	obj := root.Content[0]
	kind, name := nodeString(obj, "kind"), nodeString(child(obj, "metadata"), "name")
	path, ok := podSpecPaths[kind]
	if !ok {
		return doc, nil
	}
	pod := obj
	for _, k := range path {
		pod = child(pod, k)
	}
	changed := false
	for _, list := range containerLists {
		cs := child(pod, list)
		if cs == nil || cs.Kind != yaml3.SequenceNode {
			continue
		}
		for _, c := range cs.Content {
			img := child(c, "image")
			if img == nil || img.Kind != yaml3.ScalarNode || img.Value == "" {
				continue
			}
			pinned, err := p.pin(img.Value, kind, name)
			if err != nil {
				return "", err
			}
			if pinned != img.Value {
				img.Value, img.Style, img.Tag = pinned, 0, "!!str"
				changed = true
			}
		}
	}
	if !changed {
		return doc, nil
	}
	var buf bytes.Buffer
	enc := yaml3.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	out := buf.String()
	if !strings.HasSuffix(doc, "\n") {
		out = strings.TrimSuffix(out, "\n")
	}
	return out, nil
}

// pin is the locked reference of one image.
func (p ImagePins) pin(image, kind, name string) (string, error) {
	for _, l := range p.Images {
		if l.Image == image {
			return bundle.Pinned(l.Repository, l.Digest), nil
		}
	}
	if ref, err := bundle.ParseImage(image); err == nil && ref.Digest != "" {
		return image, nil // pinned as written
	}
	return "", errdefs.Fixable(errdefs.ErrStale, []errdefs.Fix{{Run: []string{"lock", p.Bundle}}},
		"image %s of %s %s is not in %s", image, kind, name, p.Lock)
}

// child is the value of key in a mapping node, nil if there is none.
func child(n *yaml3.Node, key string) *yaml3.Node {
	if n == nil || n.Kind != yaml3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func nodeString(n *yaml3.Node, key string) string {
	if v := child(n, key); v != nil && v.Kind == yaml3.ScalarNode {
		return v.Value
	}
	return ""
}

// Run makes ImagePins a Helm post-renderer: install and upgrade pin the
// manifests' images through it (Helm 3 does not post-render hooks).
func (p ImagePins) Run(manifests *bytes.Buffer) (*bytes.Buffer, error) {
	out, err := p.PinStream(manifests.String())
	if err != nil {
		return nil, err
	}
	return bytes.NewBufferString(out), nil
}
