package cli

import (
	"strings"
	"testing"
)

// The __complete protocol, in-process, with releases from Helm's memory
// storage.
func TestCompletions(t *testing.T) {
	f := fixture(t)
	tests := []struct {
		args []string // after __complete
		want string   // candidates' values, space-separated
	}{
		{[]string{"cur=st"}, "status"},
		{[]string{"cur=ver"}, "verify version"},
		{[]string{"cur=vers"}, "version"},
		{[]string{"cur=", "get"}, "values manifest notes hooks metadata all"},
		{[]string{"cur=", "status"}, "blog old wiki"}, // releases in every state, as helm
		{[]string{"cur=w", "get", "values"}, "wiki"},
		{[]string{"cur=", "get", "values", "wiki"}, ""},     // one NAME only
		{[]string{"cur=", "uninstall", "wiki"}, "blog old"}, // several NAMEs, each once
		{[]string{"cur=", "uninstall", "wiki", "old"}, "blog"},
		{[]string{"cur=", "upgrade", "wiki"}, "stable/magento stable/mariadb stable/mediawiki stable/memcached stable/mysql stable/opensearch stable/postgresql stable/redis stable/redis-ha stable/varnish stable/wordpress"},
		{[]string{"cur=./", "install"}, ""}, // a path: the shell completes files
		{[]string{"cur=", "diff"}, "install upgrade rollback uninstall drift"},
		{[]string{"cur=w", "diff", "rollback"}, "wiki"},
		{[]string{"cur=w", "diff", "uninstall"}, "wiki"},
		{[]string{"cur=w", "diff", "upgrade"}, "wiki"},
		{[]string{"cur=stable/medi", "diff", "upgrade", "wiki"}, "stable/mediawiki"},
		{[]string{"cur=stable/mediaw", "diff", "install"}, "stable/mediawiki"},
		{[]string{"cur=--detailed", "diff", "install"}, "--detailed-exitcode"},
		{[]string{"cur=", "status", "-n"}, ""},
		{[]string{"cur=w", "status", "--kube-context", "x", "-n", "team"}, "wiki"},
		{[]string{"cur=j", "status", "-o"}, "json"},
		{[]string{"cur=--output=y", "history"}, "--output=yaml"},
		{[]string{"cur=", "history", "--output", "="}, "table json yaml"},
		{[]string{"cur=--rev", "get", "all"}, "--revision"},
		{[]string{"cur=", "upgrade", "wiki", "--server-side"}, "true auto"}, // takes a value in upgrade
		{[]string{"cur=o", "uninstall", "--cascade"}, "orphan"},
		{[]string{"cur=w", "rollback", "--wait"}, "wiki"}, // --wait takes none: NAME follows
		{[]string{"cur=w", "rollback", "--dry-run", "--server-side=true"}, "wiki"},
		{[]string{"cur=--d"}, "--debug"},
		{[]string{"cur=", "show", "stable/mediawiki"}, "readme values outputs requires"},
		{[]string{"cur=", "help", "repo"}, "add list remove update index"},
		{[]string{"cur=p", "completion"}, "powershell"},
		{[]string{"cur=", "nope"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runWith(t, f, append([]string{"__complete"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line != "" {
					got = append(got, strings.SplitN(line, "\t", 2)[0])
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
	// Release candidates say what they are.
	_, out, _ := runWith(t, f, "__complete", "cur=wi", "status")
	if out != "wiki\tmediawiki-1.1.0 -> deployed\n" {
		t.Errorf("release candidate: %q", out)
	}
	if code, _, errs := runWith(t, f, "__complete"); code != ExitUsage || !strings.Contains(errs, "expected cur=WORD") {
		t.Errorf("no cur=: exit %d %q", code, errs)
	}
}

func TestCompletionCommand(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errs := run(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "__complete") || !strings.Contains(out, "bundle") {
			t.Errorf("%s: exit %d %s\n%s", shell, code, errs, out)
		}
	}
	code, _, errs := run(t, "completion", "tcsh")
	if code != ExitUsage || errs != "Error: no completion for \"tcsh\": choose bash, zsh, fish or powershell (see bundle completion --help)\n" {
		t.Errorf("tcsh: exit %d %q", code, errs)
	}
}
