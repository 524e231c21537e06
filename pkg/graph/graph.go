// Package graph draws a bundle's requirements as a graph, in Graphviz DOT
// or Mermaid: bundles and requirement instances as nodes, requirements as
// edges (labelled with their constraints). From a diff's plan, the nodes
// are marked with what the operation does to them (created, changed,
// dropped), so that a changed version stands out. It is pure: output
// depends only on the input, for golden tests.
package graph

import (
	"fmt"
	"io"
	"strings"

	"github.com/bundlesh/bundle/pkg/deps"
	"github.com/bundlesh/bundle/pkg/diff"
)

// State is what an operation does to a node; "" in a plain tree.
type State string

// The states of a node, as the diff's actions.
const (
	None      State = ""
	Create    State = State(diff.Create)
	Change    State = State(diff.Change)
	Delete    State = State(diff.Delete)
	Unchanged State = State(diff.Unchanged)
)

// Node is a bundle: the root, or a requirement instance.
type Node struct {
	ID    string // n0 (the root), n1, ...
	Label string
	State State
}

// Edge is a requirement: From requires To.
type Edge struct {
	From, To string
	Label    string
}

// Graph is nodes in order (the root first) and edges.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// FromTree is the graph of a resolved requirement tree (bundle deps): each
// node "INSTANCE: BUNDLE VERSION" (the root "BUNDLE VERSION"), each edge
// the constraint, and the condition it depends on.
func FromTree(t *deps.Tree) *Graph {
	g := &Graph{}
	var walk func(t *deps.Tree, parent string)
	walk = func(t *deps.Tree, parent string) {
		id := fmt.Sprintf("n%d", len(g.Nodes))
		label := t.Bundle + " " + t.Version
		if t.Instance != "" {
			label = t.Instance + ": " + label
			if t.Repository != "" {
				label += "\nfrom " + t.Repository
			}
		}
		g.Nodes = append(g.Nodes, Node{ID: id, Label: label})
		if parent != "" {
			el := t.Constraint
			if t.Condition != "" {
				el = strings.TrimSpace(el + " if " + t.Condition)
			}
			g.Edges = append(g.Edges, Edge{From: parent, To: id, Label: el})
		}
		for _, c := range t.Requires {
			walk(c, id)
		}
	}
	walk(t, "")
	return g
}

// FromPlan is the graph of an operation's plan (bundle diff): the root
// bundle and the requirement instances before -> after, each marked with
// what the operation does to it; an instance's parent is the one its path
// names (database.metrics: database), else the root. The root's label
// counts the objects the operation creates, changes and deletes.
func FromPlan(p *diff.Plan) *Graph {
	g := &Graph{}
	counts := map[diff.Action]int{}
	for _, o := range p.Objects {
		counts[o.Action]++
	}
	root := label(p.Bundle) + fmt.Sprintf("\nobjects: %d to create, %d to change, %d to delete", counts[diff.Create], counts[diff.Change], counts[diff.Delete])
	g.Nodes = append(g.Nodes, Node{ID: "n0", Label: root, State: State(p.Bundle.Action)})
	ids := map[string]string{}
	for i, r := range p.Requirements {
		ids[r.Instance] = fmt.Sprintf("n%d", i+1)
	}
	for _, r := range p.Requirements {
		id := ids[r.Instance]
		g.Nodes = append(g.Nodes, Node{ID: id, Label: label(r), State: State(r.Action)})
		parent := "n0"
		if i := strings.LastIndex(r.Instance, "."); i > 0 {
			if pid, ok := ids[r.Instance[:i]]; ok {
				parent = pid
			}
		}
		el := ""
		if r.After != nil {
			el = r.After.Constraint
		} else if r.Before != nil {
			el = r.Before.Constraint
		}
		g.Edges = append(g.Edges, Edge{From: parent, To: id, Label: el})
	}
	return g
}

// label is "INSTANCE: BUNDLE BEFORE -> AFTER" and the like.
func label(r diff.Resolution) string {
	prefix := ""
	if r.Instance != "" {
		prefix = r.Instance + ": "
	}
	var s string
	switch {
	case r.Before == nil && r.After == nil:
		return strings.TrimSuffix(prefix, ": ")
	case r.Before == nil:
		s = r.After.Bundle + " " + r.After.Version + " (new)"
	case r.After == nil && r.Before.Bound != "":
		s = r.Before.Bundle + " " + r.Before.Version + " (binding dropped)\nrelease " + r.Before.Bound + " stays"
	case r.After == nil:
		s = r.Before.Bundle + " " + r.Before.Version + " (dropped)"
	case r.Before.Bundle != r.After.Bundle:
		s = r.Before.Bundle + " " + r.Before.Version + " -> " + r.After.Bundle + " " + r.After.Version
	case r.Before.Version != r.After.Version:
		s = r.After.Bundle + " " + r.Before.Version + " -> " + r.After.Version
	default:
		s = r.After.Bundle + " " + r.After.Version
	}
	if r.After != nil && r.After.Bound != "" {
		s += "\nbound to release " + r.After.Bound
	}
	return prefix + s
}

// colours of the marked nodes: fill, stroke.
var colours = map[State][2]string{
	Create: {"#d4edda", "#28a745"},
	Change: {"#fff3cd", "#d39e00"},
	Delete: {"#f8d7da", "#dc3545"},
}

// WriteDOT writes g in Graphviz's DOT language.
func WriteDOT(w io.Writer, g *Graph) error {
	var b strings.Builder
	b.WriteString("digraph bundle {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n")
	for _, n := range g.Nodes {
		attrs := fmt.Sprintf("label=%s", dotQuote(n.Label))
		if c, ok := colours[n.State]; ok {
			attrs += fmt.Sprintf(", style=\"rounded,filled\", fillcolor=%q, color=%q", c[0], c[1])
		}
		if n.State == Delete {
			attrs += ", fontcolor=\"#6c757d\""
		}
		fmt.Fprintf(&b, "  %s [%s];\n", n.ID, attrs)
	}
	for _, e := range g.Edges {
		if e.Label != "" {
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", e.From, e.To, dotQuote(e.Label))
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", e.From, e.To)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote quotes s as a DOT string; a newline is a line break.
func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// WriteMermaid writes g as a Mermaid flowchart; nodes an operation
// creates, changes or drops get the classes create, change and delete.
func WriteMermaid(w io.Writer, g *Graph) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "  %s[%s]\n", n.ID, mermaidQuote(n.Label))
	}
	for _, e := range g.Edges {
		if e.Label != "" {
			fmt.Fprintf(&b, "  %s -->|%s| %s\n", e.From, mermaidQuote(e.Label), e.To)
		} else {
			fmt.Fprintf(&b, "  %s --> %s\n", e.From, e.To)
		}
	}
	for _, st := range []State{Create, Change, Delete} {
		var ids []string
		for _, n := range g.Nodes {
			if n.State == st {
				ids = append(ids, n.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		c := colours[st]
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s\n", st, c[0], c[1])
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(ids, ","), st)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidQuote quotes s as a Mermaid label: quotes as #quot;, a newline
// as <br/>, characters Mermaid reads as markup escaped.
func mermaidQuote(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "\n", "<br/>", "<", "#lt;", ">", "#gt;", "|", "#124;")
	return `"` + r.Replace(s) + `"`
}
