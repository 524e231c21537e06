package cli

import (
	"flag"
	"io"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// Helm 4's flags of install, upgrade, rollback and uninstall: each is
// accepted with what bundle does for it, or refused in one line saying
// why, before anything is read or changed.

// TestHelm4FlagsAccepted runs helm 4's command lines over the fixture
// (release wiki at revision 2 in namespace team, Helm's memory storage
// and fake clients): each succeeds, and what it says shows.
func TestHelm4FlagsAccepted(t *testing.T) {
	tests := []struct {
		name string
		args []string
		// want and not absent in the output; then, when check is set,
		// want2 and not absent2 in the output of check.
		want, absent          []string
		check, want2, absent2 []string
	}{
		// install, upgrade
		{name: "install --rollback-on-failure", args: []string{"install", "docs", "stable/mediawiki", "--rollback-on-failure"}, want: []string{`Release "docs" installed`}},
		{name: "install --atomic (its former name)", args: []string{"install", "docs", "stable/mediawiki", "--atomic"}, want: []string{`Release "docs" installed`}},
		{name: "upgrade --rollback-on-failure", args: []string{"upgrade", "wiki", "stable/mediawiki", "--rollback-on-failure"}, want: []string{`Release "wiki" upgraded`}},
		{name: "upgrade --atomic", args: []string{"upgrade", "wiki", "stable/mediawiki", "--atomic"}, want: []string{`Release "wiki" upgraded`}},
		{name: "install --force-replace", args: []string{"install", "docs", "stable/mediawiki", "--force-replace"}, want: []string{`Release "docs" installed`}},
		{name: "install --force", args: []string{"install", "docs", "stable/mediawiki", "--force"}, want: []string{`Release "docs" installed`}},
		{name: "upgrade --force-replace", args: []string{"upgrade", "wiki", "stable/mediawiki", "--force-replace"}, want: []string{`Release "wiki" upgraded`}},
		{name: "upgrade --force-conflicts", args: []string{"upgrade", "wiki", "stable/mediawiki", "--force-conflicts"}, want: []string{`Release "wiki" upgraded`}},
		{name: "install --server-side alone", args: []string{"install", "--server-side", "docs", "stable/mediawiki"}, want: []string{`Release "docs" installed`}},
		{name: "install --server-side=true", args: []string{"install", "docs", "stable/mediawiki", "--server-side=true"}, want: []string{`Release "docs" installed`}},
		{name: "install --server-side=auto", args: []string{"install", "docs", "stable/mediawiki", "--server-side=auto"}, want: []string{`Release "docs" installed`}},
		{name: "upgrade --server-side auto (a value)", args: []string{"upgrade", "wiki", "stable/mediawiki", "--server-side", "auto"}, want: []string{`Release "wiki" upgraded`}},
		{name: "upgrade --server-side true after the arguments", args: []string{"upgrade", "wiki", "stable/mediawiki", "--server-side", "true", "--force-conflicts"}, want: []string{`Release "wiki" upgraded`}},
		{name: "install --wait=watcher", args: []string{"install", "docs", "stable/mediawiki", "--wait=watcher"}, want: []string{`Release "docs" installed`}},
		{name: "install --wait=hookOnly", args: []string{"install", "docs", "stable/mediawiki", "--wait=hookOnly"}, want: []string{`Release "docs" installed`}},
		{name: "upgrade --wait=true", args: []string{"upgrade", "wiki", "stable/mediawiki", "--wait=true"}, want: []string{`Release "wiki" upgraded`}},
		{name: "upgrade --wait=false", args: []string{"upgrade", "wiki", "stable/mediawiki", "--wait=false"}, want: []string{`Release "wiki" upgraded`}},
		{name: "upgrade --wait alone takes no value", args: []string{"upgrade", "--wait", "wiki", "stable/mediawiki"}, want: []string{`Release "wiki" upgraded`}},
		{name: "install --dry-run=server", args: []string{"install", "docs", "stable/mediawiki", "--dry-run=server"}, want: []string{`# dry run: mediawiki mediawiki-`, "kind: StatefulSet"},
			check: []string{"list", "-q", "-a"}, absent2: []string{"docs"}},
		{name: "upgrade --dry-run=true", args: []string{"upgrade", "wiki", "stable/mediawiki", "--dry-run=true"}, want: []string{`# dry run: mediawiki`},
			check: []string{"history", "wiki", "-o", "json"}, want2: []string{`"revision": 2`}, absent2: []string{`"revision": 3`}},
		{name: "install --dry-run=none installs", args: []string{"install", "docs", "stable/mediawiki", "--dry-run=none"}, want: []string{`Release "docs" installed`}},
		{name: "upgrade --dry-run alone takes no value", args: []string{"upgrade", "--dry-run", "wiki", "stable/mediawiki"}, want: []string{`# dry run: mediawiki`}},
		{name: "install --hide-notes", args: []string{"install", "docs", "stable/mediawiki", "--hide-notes"}, want: []string{`Release "docs" installed`}, absent: []string{"MediaWiki 1."},
			check: []string{"get", "notes", "docs"}, want2: []string{"MediaWiki 1."}},
		{name: "install without --hide-notes prints the notes", args: []string{"install", "docs", "stable/mediawiki"}, want: []string{`Release "docs" installed`, "MediaWiki 1."}},
		{name: "install --dry-run --hide-secret", args: []string{"install", "docs", "stable/mediawiki", "--dry-run", "--hide-secret"}, want: []string{"kind: StatefulSet", "kind: ConfigMap"}, absent: []string{"kind: Secret\n"}},
		{name: "install --dry-run shows Secrets", args: []string{"install", "docs", "stable/mediawiki", "--dry-run"}, want: []string{"kind: Secret\n"}},
		{name: "upgrade --dry-run --hide-secret -o json", args: []string{"upgrade", "wiki", "stable/mediawiki", "--dry-run", "--hide-secret", "-o", "json"}, want: []string{"kind: StatefulSet"}, absent: []string{`kind: Secret\n`}},
		{name: "install --labels", args: []string{"install", "docs", "stable/mediawiki", "--labels", "team=web,tier=front", "--labels", "cost=low"}, want: []string{`Release "docs" installed`},
			check: []string{"get", "metadata", "docs", "-o", "json"}, want2: []string{`"cost": "low"`, `"team": "web"`, `"tier": "front"`}},
		// rollback
		{name: "rollback --description", args: []string{"rollback", "wiki", "1", "--description", "back to the docs"}, want: []string{`Rolled back "wiki": now revision 3`},
			check: []string{"history", "wiki", "-o", "json"}, want2: []string{`"description": "back to the docs"`}},
		{name: "rollback --force-replace --no-hooks --wait-for-jobs --cleanup-on-fail", args: []string{"rollback", "wiki", "--force-replace", "--no-hooks", "--wait-for-jobs", "--cleanup-on-fail"}, want: []string{`Rolled back "wiki": now revision 3`}},
		{name: "rollback --force --server-side true", args: []string{"rollback", "wiki", "--force", "--server-side", "true"}, want: []string{`Rolled back "wiki": now revision 3`}},
		{name: "rollback --force-conflicts --server-side=auto --wait=watcher", args: []string{"rollback", "wiki", "--force-conflicts", "--server-side=auto", "--wait=watcher"}, want: []string{`Rolled back "wiki": now revision 3`}},
		{name: "rollback --dry-run=server", args: []string{"rollback", "wiki", "--dry-run=server"}, want: []string{`Rolled back "wiki"`},
			check: []string{"history", "wiki", "-o", "json"}, want2: []string{`"revision": 2`}, absent2: []string{`"revision": 3`}},
		{name: "rollback --history-max 2", args: []string{"rollback", "wiki", "1", "--history-max", "2"}, want: []string{`Rolled back "wiki": now revision 3`},
			check: []string{"history", "wiki", "-o", "json"}, want2: []string{`"revision": 2`, `"revision": 3`}, absent2: []string{`"revision": 1`}},
		// uninstall
		{name: "uninstall --ignore-not-found", args: []string{"uninstall", "nope", "wiki", "--ignore-not-found"}, want: []string{`Release "nope" not found in namespace "team": nothing to uninstall`, `Uninstalled "wiki" from namespace "team"`}},
		{name: "uninstall --description --keep-history", args: []string{"uninstall", "wiki", "--description", "retired", "--keep-history"}, want: []string{`Uninstalled "wiki"`},
			check: []string{"history", "wiki", "-o", "json"}, want2: []string{`"description": "retired"`}},
		{name: "uninstall --cascade background", args: []string{"uninstall", "wiki", "--cascade", "background"}, want: []string{`Uninstalled "wiki"`}},
		{name: "uninstall --cascade orphan --wait=hookOnly", args: []string{"uninstall", "wiki", "--cascade=orphan", "--wait=hookOnly"}, want: []string{`Uninstalled "wiki"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture(t)
			code, out, errs := runWith(t, f, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			wantInOutput(t, out, tt.want, tt.absent)
			if tt.check == nil {
				return
			}
			code, out, errs = runWith(t, f, tt.check...)
			if code != 0 {
				t.Fatalf("bundle %s: exit %d: %s", strings.Join(tt.check, " "), code, errs)
			}
			for _, a := range tt.absent2 {
				if strings.Contains(out, a) {
					t.Errorf("bundle %s has %q:\n%s", strings.Join(tt.check, " "), a, out)
				}
			}
			for _, w := range tt.want2 {
				if !strings.Contains(out, w) {
					t.Errorf("bundle %s lacks %q:\n%s", strings.Join(tt.check, " "), w, out)
				}
			}
		})
	}
}

// TestHelm4FlagsRefused: what bundle cannot do of helm 4's flags is
// refused in one line, with nothing read or changed.
func TestHelm4FlagsRefused(t *testing.T) {
	long := strings.Repeat("x", 257)
	tests := []failure{
		{"install --server-side=false", []string{"install", "docs", "stable/mediawiki", "--server-side=false"}, ExitUsage,
			"Error: --server-side=false: bundle always applies objects server-side, as field manager helm, which is how a release converges and passes between bundle and helm 4: leave --server-side out (see bundle install --help)"},
		{"upgrade --server-side false", []string{"upgrade", "wiki", "stable/mediawiki", "--server-side", "false"}, ExitUsage,
			"Error: --server-side=false: bundle always applies objects server-side"},
		{"rollback --server-side=client", []string{"rollback", "wiki", "--server-side=client"}, ExitUsage,
			"Error: --server-side=client: give true or auto (bundle always applies server-side) (see bundle rollback --help)"},
		{"install --force-replace --force-conflicts", []string{"install", "docs", "stable/mediawiki", "--force-replace", "--force-conflicts"}, ExitUsage,
			"Error: --force-replace (--force) and --force-conflicts cannot be given together, as in helm 4: one replaces objects, the other applies them; drop one (see bundle install --help)"},
		{"upgrade --force --force-conflicts", []string{"upgrade", "wiki", "stable/mediawiki", "--force", "--force-conflicts"}, ExitUsage,
			"Error: --force-replace (--force) and --force-conflicts cannot be given together, as in helm 4"},
		{"rollback --force-replace --force-conflicts", []string{"rollback", "wiki", "--force-replace", "--force-conflicts"}, ExitUsage,
			"Error: --force-replace (--force) and --force-conflicts cannot be given together, as in helm 4: one replaces objects, the other applies them; drop one (see bundle rollback --help)"},
		{"install --wait=legacy", []string{"install", "docs", "stable/mediawiki", "--wait=legacy"}, ExitUsage,
			"Error: --wait=legacy: bundle has one wait, which watches each resource's status as helm 4's --wait=watcher does, not helm 3's readiness checks: give --wait (see bundle install --help)"},
		{"upgrade --wait=sometimes", []string{"upgrade", "wiki", "stable/mediawiki", "--wait=sometimes"}, ExitUsage,
			"Error: --wait=sometimes: give --wait (or --wait=watcher) to wait until every resource is ready, or --wait=hookOnly to wait for hooks only (the default) (see bundle upgrade --help)"},
		{"rollback --wait=legacy", []string{"rollback", "wiki", "--wait=legacy"}, ExitUsage, "Error: --wait=legacy: bundle has one wait"},
		{"uninstall --wait=legacy", []string{"uninstall", "wiki", "--wait=legacy"}, ExitUsage, "Error: --wait=legacy: bundle has one wait"},
		{"install --dry-run=client", []string{"install", "docs", "stable/mediawiki", "--dry-run=client"}, ExitUsage,
			"Error: --dry-run=client: bundle's dry run asks the API server, as helm's --dry-run=server: give --dry-run, or render without a cluster with bundle template (see bundle install --help)"},
		{"rollback --dry-run=client", []string{"rollback", "wiki", "--dry-run=client"}, ExitUsage,
			"Error: --dry-run=client: bundle's dry run asks the API server, as helm's --dry-run=server: give --dry-run (see bundle rollback --help)"},
		{"upgrade --dry-run=maybe", []string{"upgrade", "wiki", "stable/mediawiki", "--dry-run=maybe"}, ExitUsage,
			"Error: --dry-run=maybe: give --dry-run (or --dry-run=server), or --dry-run=none (see bundle upgrade --help)"},
		{"upgrade --hide-secret without --dry-run", []string{"upgrade", "wiki", "stable/mediawiki", "--hide-secret"}, ExitUsage,
			"Error: --hide-secret hides the Secrets of the manifests a dry run prints: give --dry-run too, as in helm 4 (see bundle upgrade --help)"},
		{"install --labels without =", []string{"install", "docs", "stable/mediawiki", "--labels", "team"}, ExitUsage,
			`Error: --labels "team": give KEY=VALUE[,KEY=VALUE] (see bundle install --help)`},
		{"install --labels owner=me", []string{"install", "docs", "stable/mediawiki", "-l", "owner=me"}, ExitError,
			`Error: --labels "owner=me": "owner" is a label Helm sets on every revision (name, owner, status, version, createdAt, modifiedAt): choose another name`},
		{"upgrade --labels with a bad value", []string{"upgrade", "wiki", "stable/mediawiki", "--labels", "team=a b"}, ExitError,
			`Error: --labels "team=a b": not a label value: `},
		{"rollback --description too long", []string{"rollback", "wiki", "--description", long}, ExitUsage,
			"Error: --description has 257 characters: give at most 256, as helm 4 allows (see bundle rollback --help)"},
		{"rollback --history-max -1", []string{"rollback", "wiki", "--history-max", "-1"}, ExitUsage,
			"Error: --history-max -1: give a number of revisions, or 0 to keep all (see bundle rollback --help)"},
		{"uninstall --cascade sideways", []string{"uninstall", "wiki", "--cascade", "sideways"}, ExitUsage,
			`Error: --cascade "sideways": give foreground, background or orphan (see bundle uninstall --help)`},
		{"uninstall --cascade orphan --delete-data", []string{"uninstall", "wiki", "--cascade", "orphan", "--delete-data"}, ExitUsage,
			"Error: --cascade orphan leaves the release's pods, which would keep using the claims --delete-data deletes: drop one (see bundle uninstall --help)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture(t)
			_, before, _ := runWith(t, f, "list", "-a", "-o", "json")
			code, out, errs := runWith(t, f, tt.args...)
			wantOneLineFailure(t, code, out, errs, tt.code, tt.want)
			if _, after, _ := runWith(t, f, "list", "-a", "-o", "json"); after != before {
				t.Errorf("the releases changed:\n%s\nwere\n%s", after, before)
			}
		})
	}
}

// parseFlags parses args with the flags fl, as the command line does.
func parseFlags(fl []ucli.Flag, args ...string) error {
	set := flag.NewFlagSet("test", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range fl {
		if err := f.Apply(set); err != nil {
			return err
		}
	}
	return set.Parse(args)
}

// Each of helm 4's names, and the former ones it keeps, sets the option
// the library reads.
func TestHelm4FlagsBindOptions(t *testing.T) {
	for _, args := range [][]string{{"--force-replace"}, {"--force"}} {
		up, in, rb := &upgradeOptions{}, &installOptions{}, &rollbackOptions{}
		rbFlags := flags(rb.kube.flags(), rb.wait.flags(), rb.write.flags(&rb.Force, false))
		for name, c := range map[string]struct {
			fl  []ucli.Flag
			got *bool
		}{"upgrade": {up.flags(), &up.Force}, "install": {in.flags(), &in.Force}, "rollback": {rbFlags, &rb.Force}} {
			if err := parseFlags(c.fl, args...); err != nil || !*c.got {
				t.Errorf("%s %v: Force %v (%v)", name, args, *c.got, err)
			}
		}
	}
	for _, args := range [][]string{{"--rollback-on-failure"}, {"--atomic"}} {
		up, in := &upgradeOptions{}, &installOptions{}
		if err := parseFlags(up.flags(), args...); err != nil || !up.Atomic {
			t.Errorf("upgrade %v: Atomic %v (%v)", args, up.Atomic, err)
		}
		if err := parseFlags(in.flags(), args...); err != nil || !in.Atomic {
			t.Errorf("install %v: Atomic %v (%v)", args, in.Atomic, err)
		}
	}
	for _, tt := range []struct {
		args []string
		wait bool
	}{
		{nil, false}, {[]string{"--wait"}, true}, {[]string{"--wait=watcher"}, true}, {[]string{"--wait=true"}, true},
		{[]string{"--wait=hookOnly"}, false}, {[]string{"--wait=false"}, false}, {[]string{"--wait", "--wait=hookOnly"}, false},
	} {
		up := &upgradeOptions{}
		if err := parseFlags(up.flags(), tt.args...); err != nil || up.wait.wait != tt.wait {
			t.Errorf("upgrade %v: wait %v (%v), want %v", tt.args, up.wait.wait, err, tt.wait)
		}
	}
	for _, tt := range []struct {
		args   []string
		dryRun bool
	}{
		{nil, false}, {[]string{"--dry-run"}, true}, {[]string{"--dry-run=server"}, true}, {[]string{"--dry-run=true"}, true},
		{[]string{"--dry-run=none"}, false}, {[]string{"--dry-run=false"}, false},
	} {
		in := &installOptions{}
		if err := parseFlags(in.flags(), tt.args...); err != nil || in.dryRun != tt.dryRun {
			t.Errorf("install %v: dry run %v (%v), want %v", tt.args, in.dryRun, err, tt.dryRun)
		}
	}
}
