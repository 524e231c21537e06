package cli

import (
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// every visible command and subcommand, as "install", "get values".
func commandPaths(prefix string, cmds []*ucli.Command) []string {
	var out []string
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		path := strings.TrimSpace(prefix + " " + c.Name)
		out = append(out, path)
		out = append(out, commandPaths(path, c.Subcommands)...)
	}
	return out
}

func TestEveryCommandHasExamples(t *testing.T) {
	paths := commandPaths("", newApp(nil, nil, nil).Commands)
	if len(paths) < 30 {
		t.Fatalf("only %d commands found: %q", len(paths), paths)
	}
	for _, path := range append(paths, "") {
		t.Run("bundle "+path, func(t *testing.T) {
			args := append(strings.Fields(path), "--help")
			code, out, errs := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			_, examples, ok := strings.Cut(out, "\nEXAMPLES:\n")
			if !ok {
				t.Fatalf("no EXAMPLES section:\n%s", out)
			}
			want := strings.TrimSpace("bundle " + path)
			found := false
			for _, line := range strings.Split(examples, "\n") {
				line = strings.TrimSpace(line)
				if line == want || strings.HasPrefix(line, want+" ") || strings.Contains(line, "<("+want+" ") || strings.Contains(line, "| "+want+" ") {
					found = true
				}
			}
			if !found {
				t.Errorf("no example runs %q:\n%s", want, examples)
			}
		})
	}
}

func TestHelpCommand(t *testing.T) {
	for _, path := range [][]string{{"install"}, {"get", "values"}, {"repo"}, {"repo", "add"}} {
		_, viaHelp, _ := run(t, append([]string{"help"}, path...)...)
		_, viaFlag, _ := run(t, append(path, "--help")...)
		if viaHelp == "" || viaHelp != viaFlag {
			t.Errorf("bundle help %s:\n%s\nbundle %s --help:\n%s", path, viaHelp, path, viaFlag)
		}
	}
	code, out, _ := run(t, "help")
	if code != 0 || !strings.Contains(out, "COMMANDS:") || !strings.Contains(out, "   get ") || strings.Contains(out, "__complete") {
		t.Errorf("bundle help: exit %d\n%s", code, out)
	}
	if _, noArgs, _ := run(t); noArgs != out {
		t.Errorf("bundle without arguments does not show the help:\n%s", noArgs)
	}
}

func TestUnknownCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"instal"}, `unknown command "instal" for "bundle" (did you mean "install"?)`},
		{[]string{"stats", "wiki"}, `unknown command "stats" for "bundle" (did you mean "status"?)`},
		{[]string{"hist"}, ``}, // an alias: not unknown
		{[]string{"unistall", "x"}, `unknown command "unistall" for "bundle" (did you mean "uninstall"?)`},
		{[]string{"vers"}, `unknown command "vers" for "bundle" (did you mean "version"?)`},
		{[]string{"verfy"}, `unknown command "verfy" for "bundle" (did you mean "verify"?)`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "bundle" (see bundle --help)`},
		{[]string{"repo", "ad", "x", "y"}, `unknown command "ad" for "bundle repo" (did you mean "add"?)`},
		{[]string{"get", "manifests", "wiki"}, `unknown command "manifests" for "bundle get" (did you mean "manifest"?)`},
		{[]string{"help", "instal"}, `unknown command "instal" for "bundle" (did you mean "install"?)`},
		{[]string{"help", "get", "valeus"}, `unknown command "valeus" for "bundle get" (did you mean "values"?)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			if tt.want == "" {
				if strings.Contains(errs, "unknown command") {
					t.Errorf("stderr %q", errs)
				}
				return
			}
			if code != ExitUsage || errs != "Error: "+tt.want+"\n" || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 2, %q", code, out, errs, tt.want)
			}
		})
	}
}

func TestSuggestCommand(t *testing.T) {
	cmds := newApp(nil, nil, nil).Commands
	tests := map[string]string{
		"install": "install", "instll": "install", "upgarde": "upgrade", "rollbak": "rollback",
		"lst": "list", "ls": "list", "histroy": "history", "sta": "status", "tset": "test",
		"comp": "completion", "xyzzy": "", "__complete": "",
	}
	for in, want := range tests {
		if got := suggestCommand(in, cmds); got != want {
			t.Errorf("suggestCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"install", "install", 0}, {"instal", "install", 1}, {"tset", "test", 1},
		{"upgarde", "upgrade", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// Every command, hidden ones too, declares a usage line with its help.
func TestEveryCommandHasUsage(t *testing.T) {
	var walk func(prefix string, cmds []*ucli.Command)
	walk = func(prefix string, cmds []*ucli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			if c.Usage == "" {
				t.Errorf("bundle %s declares no usage line (helpText.usage)", path)
			}
			walk(path, c.Subcommands)
		}
	}
	walk("", newApp(nil, nil, nil).Commands)
}

// --help and -h anywhere on a command line show that command's help, as
// in helm: urfave took the first argument for a help topic ("No help
// topic for 'wiki'"). A -h that is a flag's value, or after --, is not
// help.
func TestHelpFlagAnywhere(t *testing.T) {
	tests := []struct {
		args []string
		help string // the command whose --help it prints; "" for none
	}{
		{[]string{"install", "wiki", "stable/mediawiki", "--help"}, "install"},
		{[]string{"install", "wiki", "stable/mediawiki", "-h"}, "install"},
		{[]string{"install", "--help", "wiki", "stable/mediawiki"}, "install"},
		{[]string{"install", "wiki", "-h", "stable/mediawiki", "--wait"}, "install"},
		{[]string{"install", "wiki", "stable/mediawiki", "--set", "a=b", "--help"}, "install"},
		{[]string{"uninstall", "a", "b", "--help"}, "uninstall"},
		{[]string{"get", "values", "wiki", "--help"}, "get values"},
		{[]string{"repo", "add", "x", "https://example.com", "-h"}, "repo add"},
		{[]string{"diff", "upgrade", "wiki", "stable/mediawiki", "--help"}, "diff upgrade"},
		{[]string{"status", "wiki", "--help=true"}, "status"},
		{[]string{"--debug", "install", "wiki", "stable/mediawiki", "--help"}, "install"},
		{[]string{"template", "stable/mediawiki", "--name-template", "-h"}, ""}, // the template is "-h"
		{[]string{"template", "stable/mediawiki", "--", "--help"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			if tt.help == "" {
				if strings.Contains(out, "USAGE:") {
					t.Errorf("help shown:\n%s", out)
				}
				return
			}
			_, want, _ := run(t, append(strings.Fields(tt.help), "--help")...)
			if code != 0 || out != want || errs != "" {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant the help of bundle %s:\n%s", code, errs, out, tt.help, want)
			}
		})
	}
}
