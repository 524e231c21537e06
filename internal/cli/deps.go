package cli

import (
	"fmt"
	"io"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/deps"
	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/repo"
)

// lockOptions are bundle lock's, update's and deps' flags.
type lockOptions struct {
	registry registryOptions
	deps.LockOptions
	output     outputOption
	skipImages bool
}

// newImages returns the image resolver of bundle lock and update; tests
// replace it to keep Docker Hub out of them.
var newImages = func(opts repo.OCIOptions) deps.ImageResolver { return repo.NewImages(opts) }

// lockFlags are bundle lock's and update's registry and image flags.
func (o *lockOptions) lockFlags() []ucli.Flag {
	return append(o.registry.flags(),
		boolFlag(&o.skipImages, "skip-images", "do not resolve image tags (offline): the lock's images stay as they are, unchecked"))
}

func lockCommand() *ucli.Command {
	o := &lockOptions{}
	return withHelp(helpText{
		usage: "resolve a bundle's requirements and write bundle.lock (versions, content digests, image digests)",
		args:  "[DIR|ARCHIVE]",
		description: `DIR defaults to the current directory. A chart archive (.tgz) is never
rewritten: its lock is printed, or checked with --check.

The lock also records every container image the resolved bundles run with
their default values (hooks included), each tag with the digest its registry
serves now (a multi-platform image: its index's digest), so that --locked
renders every image as REPOSITORY@sha256:... on any cluster. Registries are
asked with the logins of bundle login and docker login. --check fails when a
tag now resolves to another digest. --skip-images asks no registry: the
images already locked stay as they are, unchecked.`,
		examples: `# write bundle.lock for the bundle in the current directory
bundle lock
bundle lock --check ./shop
# offline: lock the bundles only
bundle lock --skip-images`,
	}, &ucli.Command{
		Name: "lock",
		Flags: append([]ucli.Flag{
			boolFlag(&o.Check, "check", "write nothing; fail if bundle.lock is missing, out of date, a digest changed or an image tag moved"),
		}, o.lockFlags()...),
		Action: func(c *ucli.Context) error {
			dir, err := optionalDir(c)
			if err != nil {
				return err
			}
			return o.lock(c, dir)
		},
	})
}

// lock runs bundle lock or update on dir and prints what changed.
func (o *lockOptions) lock(c *ucli.Context, dir string) error {
	set, err := o.registry.repos(c)
	if err != nil {
		return err
	}
	if !o.skipImages {
		oci, err := o.registry.oci(c)
		if err != nil {
			return err
		}
		o.Images = newImages(oci)
	}
	res, err := deps.Lock(c.Context, set, dir, o.LockOptions)
	if err != nil {
		return err
	}
	return printLock(c.App.Writer, res, o.Check)
}

func updateCommand() *ucli.Command {
	o := &lockOptions{}
	return withHelp(helpText{
		usage: "move locked requirements to their newest fitting versions and rewrite bundle.lock",
		args:  "[DIR|ARCHIVE] [BUNDLE...]",
		description: `With no BUNDLE every locked bundle may move; otherwise only the named ones.
DIR defaults to the current directory.`,
		examples: `bundle update
# move only mariadb to its newest fitting version
bundle update ./shop mariadb`,
	}, &ucli.Command{
		Name:  "update",
		Flags: o.lockFlags(),
		Action: func(c *ucli.Context) error {
			args := c.Args().Slice()
			dir := "."
			if len(args) > 0 && exists(args[0]) {
				dir, args = args[0], args[1:]
			}
			o.Update, o.UpdateAll = args, len(args) == 0
			return o.lock(c, dir)
		},
	})
}

func depsCommand() *ucli.Command {
	o := &lockOptions{output: outputOption{graphs: true}}
	return withHelp(helpText{
		usage: "show the resolved requirement tree: versions, constraints and who imposed them",
		args:  "[DIR|ARCHIVE|BUNDLE]",
		description: `-o dot and -o mermaid draw the tree as a graph (Graphviz, Mermaid): bundles and requirement
instances as nodes, requirements as edges labelled with their constraints.`,
		examples: `bundle deps stable/mediawiki
bundle deps ./shop -o json
bundle deps ./shop -o dot | dot -Tsvg > deps.svg`,
	}, &ucli.Command{
		Name:  "deps",
		Flags: []ucli.Flag{o.output.flag(), o.registry.plainHTTPFlag()},
		Action: func(c *ucli.Context) error {
			if err := o.output.check(c); err != nil {
				return err
			}
			ref, err := optionalDir(c)
			if err != nil {
				return err
			}
			set, err := o.registry.repos(c)
			if err != nil {
				return err
			}
			t, err := deps.Deps(c.Context, set, ref)
			if err != nil {
				return err
			}
			if ok, err := o.output.write(c.App.Writer, t); ok {
				return err
			}
			if ok, err := o.output.writeGraph(c.App.Writer, graph.FromTree(t)); ok {
				return err
			}
			printTree(c.App.Writer, t, "", true, true)
			return nil
		},
	})
}

func optionalDir(c *ucli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return ".", nil
	case 1:
		return c.Args().Get(0), nil
	}
	return "", usagef(c, "expected at most one argument, got %d", c.NArg())
}

func printLock(w io.Writer, res *deps.LockResult, check bool) error {
	if res.Archive && !check {
		// An archive is not rewritten: its lock goes to stdout.
		_, err := w.Write(res.Data)
		return err
	}
	for _, ch := range res.Changes {
		switch {
		case ch.From == "":
			fmt.Fprintf(w, "  + %s %s\n", ch.Name, ch.To)
		case ch.To == "":
			fmt.Fprintf(w, "  - %s %s\n", ch.Name, ch.From)
		default:
			fmt.Fprintf(w, "  ~ %s %s -> %s\n", ch.Name, ch.From, ch.To)
		}
	}
	count := fmt.Sprintf("%d bundles", len(res.Lock.Bundles))
	if res.Lock.Images != nil {
		count += fmt.Sprintf(", %d images", len(res.Lock.Images))
	}
	switch {
	case check:
		fmt.Fprintf(w, "%s is up to date (%s)\n", res.Path, count)
	case res.Written:
		fmt.Fprintf(w, "wrote %s (%s)\n", res.Path, count)
	default:
		fmt.Fprintf(w, "%s unchanged (%s)\n", res.Path, count)
	}
	return nil
}

func printTree(w io.Writer, t *deps.Tree, prefix string, last, root bool) {
	line := fmt.Sprintf("%s %s", t.Bundle, t.Version)
	if !root {
		line = fmt.Sprintf("%s: %s  (%s from %s, required by %s", t.Instance, line, t.Constraint, t.Repository, t.RequiredBy)
		if t.Condition != "" {
			line += ", if " + t.Condition
		}
		line += ")"
		branch := "├── "
		if last {
			branch = "└── "
		}
		fmt.Fprintln(w, prefix+branch+line)
		if last {
			prefix += "    "
		} else {
			prefix += "│   "
		}
	} else {
		fmt.Fprintln(w, line)
	}
	for i, c := range t.Requires {
		printTree(w, c, prefix, i == len(t.Requires)-1, false)
	}
}
