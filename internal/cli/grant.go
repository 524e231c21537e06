package cli

import (
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

// grantOptions are bundle grant's flags.
type grantOptions struct {
	kube kubeOptions
	wait waitOptions
	to   []string
	release.GrantOptions
}

func grantCommand() *ucli.Command {
	o := &grantOptions{}
	return command("grant", helpText{
		usage: "let an app of another namespace bind to a release of this one",
		args:  "PROVIDER NAMESPACE/RELEASE/INSTANCE",
		description: `Run by the owner of PROVIDER, in its namespace: an app of another namespace binds to
PROVIDER (bundle install RELEASE ... -n NAMESPACE --bind INSTANCE=PROVIDER_NAMESPACE/PROVIDER)
only through its grant. The grant is a release of this namespace: the app's claim (its database,
user and password Secret, made by a Job with PROVIDER's administrator Secret), a record of PROVIDER
(bundle, version, digest, outputs), and a Role that lets the --to subjects get those two objects
by name, and nothing else of this namespace. Run again, it updates the grant; upgrading or rolling
back PROVIDER makes its grants again. bundle revoke removes it. See docs/bindings.md.`,
		examples: `bundle grant team-db web/wiki/database -n data
bundle grant team-db web/wiki/database -n data --to serviceaccount:web/deployer --to group:web-team`,
	}, o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
		arrayFlag(&o.to, "to", "who may read what the grant publishes: user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME (repeatable; default: the ServiceAccounts of the app's namespace)"),
		boolFlag(&o.DryRun, "dry-run", "simulate: render and validate the grant against the cluster, change nothing"),
	})
}

func (o *grantOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 2, "PROVIDER NAMESPACE/RELEASE/INSTANCE"); err != nil {
		return err
	}
	opts := o.GrantOptions
	opts.Provider, opts.WaitOptions = c.Args().Get(0), o.wait.options(c)
	cons, err := plan.ParseConsumer(c.Args().Get(1))
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	opts.Consumer = cons
	for _, s := range o.to {
		sub, err := parseSubject(s)
		if err != nil {
			return err
		}
		opts.Subjects = append(opts.Subjects, sub)
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	g, err := cl.Grant(c.Context, opts)
	if err != nil {
		return err
	}
	printGranted(c.App.Writer, g)
	return nil
}

// parseSubject reads --to's user:NAME, group:NAME or
// serviceaccount:NAMESPACE/NAME (sa: for short).
func parseSubject(s string) (render.Subject, error) {
	kind, name, ok := strings.Cut(s, ":")
	bad := &usageError{msg: fmt.Sprintf("--to %q: write user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME", s)}
	if !ok || name == "" {
		return render.Subject{}, bad
	}
	switch strings.ToLower(kind) {
	case "user":
		return render.Subject{Kind: "User", Name: name}, nil
	case "group":
		return render.Subject{Kind: "Group", Name: name}, nil
	case "serviceaccount", "sa":
		ns, n, ok := strings.Cut(name, "/")
		if !ok || ns == "" || n == "" || strings.Contains(n, "/") {
			return render.Subject{}, bad
		}
		return render.Subject{Kind: "ServiceAccount", Namespace: ns, Name: n}, nil
	}
	return render.Subject{}, bad
}

// printGranted says what a grant published, for whom, and how the app
// binds with it.
func printGranted(w io.Writer, g *release.Granted) {
	verb := "Granted"
	if g.DryRun {
		verb = "Would grant"
	}
	r, cons := g.Record, g.Record.Consumer
	fmt.Fprintf(w, "%s %s/%s (%s %s) to %s: release %q of namespace %q, revision %d\n", verb, r.Provider.Namespace, r.Provider.Release, r.Provider.Bundle, r.Provider.Version, cons, g.Name, g.Namespace, g.Revision)
	if r.Claim != nil {
		fmt.Fprintf(w, "Claim: database and user %s, its Secret %s/%s\n", r.Claim.ID, g.Namespace, r.Claim.Secret)
	}
	var subs []string
	for _, s := range g.Subjects {
		switch s.Kind {
		case "ServiceAccount":
			subs = append(subs, "serviceaccount:"+s.Namespace+"/"+s.Name)
		default:
			subs = append(subs, strings.ToLower(s.Kind)+":"+s.Name)
		}
	}
	fmt.Fprintf(w, "Readable by: %s\n", strings.Join(subs, ", "))
	fmt.Fprintf(w, "The app binds with: bundle install %s BUNDLE -n %s --bind %s=%s/%s\n", cons.Release, cons.Namespace, cons.Instance, r.Provider.Namespace, r.Provider.Release)
}

// revokeOptions are bundle revoke's flags.
type revokeOptions struct {
	kube kubeOptions
	wait waitOptions
	release.RevokeOptions
}

func revokeCommand() *ucli.Command {
	o := &revokeOptions{wait: waitOptions{silent: true}}
	return command("revoke", helpText{
		usage: "remove a grant: the app's database user is dropped, its database kept",
		args:  "PROVIDER NAMESPACE/RELEASE/INSTANCE",
		description: `Uninstalls the grant bundle grant made: its hook drops the app's database user, and with
--delete-data its database. Refused while the app is bound through it (--force revokes anyway,
the app loses its user); --delete-data is refused while the app is, or may be, bound (its
release cannot be read), even with --force.`,
		examples: `bundle revoke team-db web/wiki/database -n data
bundle revoke team-db web/wiki/database -n data --delete-data`,
	}, o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
		boolFlag(&o.DeleteData, "delete-data", "drop the claim's database too (kept otherwise); refused while the app may still be bound, even with --force"),
		boolFlag(&o.Force, "force", "revoke even if the app is (or may be) still bound: it loses its database user"),
		boolFlag(&o.DryRun, "dry-run", "simulate: say what would be revoked"),
	})
}

func (o *revokeOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 2, "PROVIDER NAMESPACE/RELEASE/INSTANCE"); err != nil {
		return err
	}
	opts := o.RevokeOptions
	opts.Provider, opts.WaitOptions = c.Args().Get(0), o.wait.options(c)
	cons, err := plan.ParseConsumer(c.Args().Get(1))
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	opts.Consumer = cons
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	res, err := cl.Revoke(c.Context, opts)
	if err != nil {
		return err
	}
	verb, data := "Revoked", "the database is kept (--delete-data drops it)"
	if res.DryRun {
		verb = "Would revoke"
	}
	if opts.DeleteData {
		data = "the database is dropped with the user"
	}
	fmt.Fprintf(w(c), "%s the grant of %s to %s (release %q of namespace %q): its user is dropped, %s\n", verb, opts.Provider, cons, res.Name, res.Namespace, data)
	return nil
}

func w(c *ucli.Context) io.Writer { return c.App.Writer }
