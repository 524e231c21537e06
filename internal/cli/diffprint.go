package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/plan"
)

// The printer of a diff.Plan, which bundle diff and bundle upgrade --diff
// share.

// useColor reports whether bundle diff colours its output: never when
// $NO_COLOR is set (https://no-color.org); as $HELM_COLOR says when it is
// never or always, as in helm 4; else (auto) on a terminal, unless $TERM
// is dumb.
func useColor(c *ucli.Context) bool {
	env := getenv(c)
	if env("NO_COLOR") != "" {
		return false
	}
	switch strings.ToLower(env(helmColorEnv)) {
	case "never":
		return false
	case "always":
		return true
	}
	if env("TERM") == "dumb" {
		return false
	}
	f, ok := c.App.Writer.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ANSI colours of bundle diff's output.
const (
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
	colorCyan   = "\x1b[36m"
	colorBold   = "\x1b[1m"
	colorReset  = "\x1b[0m"
)

// painter colours text when on.
type painter bool

func (on painter) paint(color, s string) string {
	if !on || s == "" {
		return s
	}
	return color + s + colorReset
}

// printPlan prints what the operation would do: the bundle and its
// requirements, a count of objects, then each object it creates, changes
// or deletes with its diff (a Secret's keys with their states, never
// their values).
func printPlan(w io.Writer, p *diff.Plan, color bool) error {
	pt := painter(color)
	fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, "Bundle:"), resolutionLine(pt, p.Bundle))
	for _, r := range p.Requirements {
		fmt.Fprintf(w, "  %s\n", resolutionLine(pt, r))
	}
	printWiring(w, pt, p.Wiring)
	counts := map[diff.Action]int{}
	for _, o := range p.Objects {
		counts[o.Action]++
	}
	fmt.Fprintf(w, "%s %d to create, %d to change, %d to delete, %d unchanged\n", pt.paint(colorBold, "Objects:"),
		counts[diff.Create], counts[diff.Change], counts[diff.Delete], counts[diff.Unchanged])
	for _, cl := range p.Claims {
		what := "claim " + cl.Namespace + "/" + cl.Name
		if cl.StatefulSet != "" {
			what += " (of StatefulSet " + cl.StatefulSet + ")"
		}
		if cl.Action == diff.Delete {
			fmt.Fprintln(w, pt.paint(colorRed, "- delete "+what+" with its data"))
		} else {
			fmt.Fprintf(w, "  keep %s with its data (--delete-data deletes it)\n", what)
		}
	}
	for _, ds := range p.DataSecrets {
		what := "Secret " + ds.Namespace + "/" + ds.Name + " the data was initialised with"
		if ds.Action == diff.Delete {
			fmt.Fprintln(w, pt.paint(colorRed, "- delete "+what))
		} else {
			fmt.Fprintf(w, "  keep %s (--delete-data deletes it)\n", what)
		}
	}
	for _, e := range p.Elsewhere {
		label, rest, _ := strings.Cut(elsewhereLine(e), ": ")
		fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, label+":"), rest)
	}
	for _, pr := range p.Providers {
		fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, "Bound to:"), pr)
	}
	for _, co := range p.Consumers {
		fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, "Bound by:"), co)
	}
	for _, o := range p.Objects {
		if o.Action != diff.Create && o.Action != diff.Delete && o.Action != diff.Change {
			continue
		}
		sign, color := mark(o.Action)
		fmt.Fprintf(w, "\n%s\n", pt.paint(color, sign+" "+string(o.Action)+" "+o.String()))
		for _, k := range o.SecretKeys {
			line := fmt.Sprintf("  data.%s: %s (value hidden)", k.Key, k.State)
			switch k.State {
			case diff.KeyAdded:
				line = pt.paint(colorGreen, line)
			case diff.KeyRemoved:
				line = pt.paint(colorRed, line)
			case diff.KeyChanged:
				line = pt.paint(colorYellow, line)
			}
			fmt.Fprintln(w, line)
		}
		for _, l := range strings.SplitAfter(o.Diff, "\n") {
			if l == "" {
				continue
			}
			text := strings.TrimSuffix(l, "\n")
			switch {
			case strings.HasPrefix(l, "@@"):
				text = pt.paint(colorCyan, text)
			case strings.HasPrefix(l, "+"):
				text = pt.paint(colorGreen, text)
			case strings.HasPrefix(l, "-"):
				text = pt.paint(colorRed, text)
			}
			fmt.Fprintln(w, text)
		}
	}
	return nil
}

// elsewhereLine says what a release holds outside its namespace, in one
// other: "Also in namespace data: ConfigMap a, Job.batch b; hooks:
// Job.batch c", or "Also cluster-wide: ...".
func elsewhereLine(e diff.Elsewhere) string {
	where := "Also cluster-wide"
	if e.Namespace != "" {
		where = "Also in namespace " + e.Namespace
	}
	line := where + ": " + strings.Join(e.Objects, ", ")
	if len(e.Hooks) > 0 {
		if len(e.Objects) > 0 {
			line += "; "
		}
		line += "hooks: " + strings.Join(e.Hooks, ", ")
	}
	return line
}

// printWiring says which requirement outputs change and who uses them:
// "~ database.host (used by the root): a -> b".
func printWiring(w io.Writer, pt painter, wires []diff.Wire) {
	if len(wires) == 0 {
		return
	}
	fmt.Fprintln(w, pt.paint(colorBold, "Wiring:"))
	for _, wr := range wires {
		sign, color := mark(wr.Action)
		var line string
		switch {
		case wr.Hidden:
			line = fmt.Sprintf("%s %s: %s (value hidden)", sign, wr, wr.Action)
		case wr.Action == diff.Create:
			line = fmt.Sprintf("+ %s: %q", wr, wr.After)
		case wr.Action == diff.Delete:
			line = fmt.Sprintf("- %s: %q", wr, wr.Before)
		default:
			line = fmt.Sprintf("~ %s: %q -> %q", wr, wr.Before, wr.After)
		}
		fmt.Fprintf(w, "  %s\n", pt.paint(color, line))
	}
}

// mark is how bundle diff marks what an action does to an object or a
// wire: + in green to create, - in red to delete, ~ in yellow to change.
func mark(a diff.Action) (sign, color string) {
	switch a {
	case diff.Create:
		return "+", colorGreen
	case diff.Delete:
		return "-", colorRed
	}
	return "~", colorYellow
}

// resolutionLine is "database: mariadb 1.0.1 -> 1.0.2 (from stable)" and
// the like; the root bundle has no instance.
func resolutionLine(pt painter, r diff.Resolution) string {
	prefix := ""
	if r.Instance != "" {
		prefix = r.Instance + ": "
	}
	from := func(x *plan.Resolved) string {
		if x.Bound != "" {
			return " bound to release " + x.Bound
		}
		if x.Repository == "" {
			return ""
		}
		return " from " + x.Repository
	}
	switch r.Action {
	case diff.Create:
		return pt.paint(colorGreen, fmt.Sprintf("+ %s%s %s%s (new)", prefix, r.After.Bundle, r.After.Version, from(r.After)))
	case diff.Delete:
		if r.Before.Bound != "" {
			return pt.paint(colorRed, fmt.Sprintf("- %s%s %s (binding dropped: release %s stays)", prefix, r.Before.Bundle, r.Before.Version, r.Before.Bound))
		}
		return pt.paint(colorRed, fmt.Sprintf("- %s%s %s (dropped)", prefix, r.Before.Bundle, r.Before.Version))
	case diff.Change:
		what := r.After.Bundle + " " + r.Before.Version + " -> " + r.After.Version
		if r.Before.Bundle != r.After.Bundle {
			what = r.Before.Bundle + " " + r.Before.Version + " -> " + r.After.Bundle + " " + r.After.Version
		}
		why := ""
		if r.Why != "" {
			why = " (" + strings.Replace(r.Why, "UpdateDeps", "--update-deps", 1) + ")"
		}
		return pt.paint(colorYellow, fmt.Sprintf("~ %s%s%s%s", prefix, what, from(r.After), why))
	}
	return fmt.Sprintf("  %s%s %s (unchanged)", prefix, r.After.Bundle, r.After.Version)
}
