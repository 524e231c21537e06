package cli

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/repo"
)

// Shell completion. urfave/cli v2.27 completes only commands and flags,
// reading os.Args (so not in-process), and ships no embedded scripts; its
// fish generator is static. So bundle has its own protocol, as cobra's
// __complete: the scripts below call
//
//	bundle __complete cur=WORD [WORDS BEFORE IT...]
//
// which prints one candidate per line, "CANDIDATE<TAB>DESCRIPTION":
// commands, flags, flag values, release names (read from the cluster) and
// bundle references. No candidates: the shell completes file names.

// completionTimeout bounds the cluster requests of one completion.
const completionTimeout = 3 * time.Second

func completionCommand() *ucli.Command {
	return withHelp(helpText{
		usage: "print the shell completion script for bash, zsh, fish or powershell",
		args:  "bash|zsh|fish|powershell",
		description: `Completes commands, flags, -o values, release names (from the cluster) and
bundle references (from the catalog and the repositories added).`,
		examples: `# load in the current bash session, or for good from ~/.bashrc
source <(bundle completion bash)
bundle completion zsh > "${fpath[1]}/_bundle"
bundle completion fish > ~/.config/fish/completions/bundle.fish
bundle completion powershell | Out-String | Invoke-Expression`,
	}, &ucli.Command{
		Name: "completion",
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 1, "bash, zsh, fish or powershell"); err != nil {
				return err
			}
			script, ok := completionScripts()[c.Args().Get(0)]
			if !ok {
				return usagef(c, "no completion for %q: choose bash, zsh, fish or powershell", c.Args().Get(0))
			}
			_, err := io.WriteString(c.App.Writer, strings.ReplaceAll(script, "bundle", c.App.Name))
			return err
		},
	})
}

func completionScripts() map[string]string {
	return map[string]string{
		"bash": `# bash completion for bundle; load with: source <(bundle completion bash)
_bundle_completions() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local out line
    out=$("${COMP_WORDS[0]}" __complete "cur=${cur}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null) || return 0
    COMPREPLY=()
    while IFS= read -r line; do
        line="${line%%$'\t'*}"
        [[ -n "$line" && "$line" == "$cur"* ]] && COMPREPLY+=("$line")
    done <<< "$out"
    return 0
}
complete -o default -F _bundle_completions bundle
`,
		"zsh": `#compdef bundle
# zsh completion for bundle; load with: source <(bundle completion zsh)
# (after compinit), or save it as _bundle in a directory of $fpath.
_bundle() {
    local -a lines cands
    local line name desc
    lines=("${(@f)$(${words[1]} __complete "cur=${words[CURRENT]}" "${(@)words[2,CURRENT-1]}" 2>/dev/null)}")
    for line in $lines; do
        [[ -z $line ]] && continue
        name=${line%%$'\t'*}
        desc=${line#*$'\t'}
        cands+=("${name//:/\\:}:${desc}")
    done
    if (( ${#cands} )); then
        _describe 'bundle' cands
    else
        _files
    fi
}
if [[ "${funcstack[1]}" == "_bundle" ]]; then
    _bundle "$@"
else
    compdef _bundle bundle
fi
`,
		"fish": `# fish completion for bundle. Save it where fish looks first:
#   bundle completion fish > ~/.config/fish/completions/bundle.fish
# (fish ships completions for Ruby's Bundler, also called bundle; a file
# of that name in your own completions directory replaces them.)
complete -c bundle -e
function __bundle_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete "cur=$cur" $tokens[2..-1] 2>/dev/null)
    if test (count $out) -eq 0
        __fish_complete_path $cur
    else
        printf '%s\n' $out
    end
end
complete -c bundle -f -a '(__bundle_complete)'
`,
		"powershell": `# PowerShell completion for bundle; load with:
#   bundle completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName 'bundle' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $elements = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    $before = @()
    if ($elements.Count -gt 1) { $before = @($elements[1..($elements.Count - 1)]) }
    if ($wordToComplete -ne '' -and $before.Count -gt 0) {
        if ($before.Count -gt 1) { $before = @($before[0..($before.Count - 2)]) } else { $before = @() }
    }
    $out = & $elements[0] __complete "cur=$wordToComplete" @before 2>$null
    foreach ($line in $out) {
        $parts = $line -split "` + "`" + `t", 2
        $desc = if ($parts.Count -gt 1 -and $parts[1] -ne '') { $parts[1] } else { $parts[0] }
        [System.Management.Automation.CompletionResult]::new($parts[0], $parts[0], 'ParameterValue', $desc)
    }
}
`,
	}
}

// completeCommand answers the completion scripts.
func completeCommand() *ucli.Command {
	return withHelp(helpText{
		usage: "print completion candidates (used by the scripts of bundle completion)",
		args:  "cur=WORD [WORDS...]",
	}, &ucli.Command{
		Name:            "__complete",
		Hidden:          true,
		HideHelp:        true,
		SkipFlagParsing: true,
		Action: func(c *ucli.Context) error {
			args := c.Args().Slice()
			if len(args) == 0 || !strings.HasPrefix(args[0], "cur=") {
				return usagef(c, "expected cur=WORD [WORDS...]")
			}
			for _, cand := range completions(c, args[1:], strings.TrimPrefix(args[0], "cur=")) {
				fmt.Fprintln(c.App.Writer, cand)
			}
			return nil
		},
	})
}

type candidate struct{ value, desc string }

func (c candidate) String() string {
	if c.desc == "" {
		return c.value
	}
	return c.value + "\t" + oneLine(c.desc)
}

// completions returns the candidates for cur after words (the command line
// so far, without the program name), starting with cur.
func completions(c *ucli.Context, words []string, cur string) []candidate {
	var path []string // command names
	cmds := c.App.Commands
	var cmd *ucli.Command
	var positional []string
	set := map[string]string{} // flag values given
	awaiting := ""             // flag whose value comes next
	for _, w := range words {
		if w == "=" { // bash splits --flag=value at the "="
			continue
		}
		if awaiting != "" {
			set[awaiting], awaiting = w, ""
			continue
		}
		if len(w) > 1 && strings.HasPrefix(w, "-") {
			name, val, hasVal := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if f := findFlag(flagsOf(c.App, cmd), name); f != nil && takesValue(f) {
				if hasVal {
					set[f.Names()[0]] = val
				} else {
					awaiting = f.Names()[0]
				}
			}
			continue
		}
		if cmd == nil || len(cmd.Subcommands) > 0 {
			if sub := findCommand(cmds, w); sub != nil {
				cmd, cmds = sub, sub.Subcommands
				path = append(path, sub.Name)
				continue
			}
		}
		positional = append(positional, w)
	}

	var cands []candidate
	prefix := ""
	switch {
	case awaiting != "":
		cands = flagValues(awaiting)
	case strings.HasPrefix(cur, "-") && strings.Contains(cur, "="):
		name, _, _ := strings.Cut(strings.TrimLeft(cur, "-"), "=")
		if f := findFlag(flagsOf(c.App, cmd), name); f != nil {
			prefix = cur[:strings.Index(cur, "=")+1]
			cands = flagValues(f.Names()[0])
		}
	case strings.HasPrefix(cur, "-"):
		for _, f := range flagsOf(c.App, cmd) {
			usage := ""
			if d, ok := f.(ucli.DocGenerationFlag); ok {
				usage = d.GetUsage()
			}
			for _, n := range f.Names() {
				if len(n) == 1 {
					cands = append(cands, candidate{"-" + n, usage})
				} else {
					cands = append(cands, candidate{"--" + n, usage})
				}
			}
		}
	case cmd == nil || len(cmd.Subcommands) > 0:
		if len(positional) == 0 { // else: not a command
			cands = commandCandidates(cmds)
		}
	default:
		cands = positionalCandidates(c, strings.Join(path, " "), positional, set, cur)
	}
	var out []candidate
	for _, cand := range cands {
		if strings.HasPrefix(prefix+cand.value, cur) {
			cand.value = prefix + cand.value
			out = append(out, cand)
		}
	}
	return out
}

func flagsOf(app *ucli.App, cmd *ucli.Command) []ucli.Flag {
	if cmd == nil {
		return app.Flags
	}
	return cmd.Flags
}

func findFlag(fs []ucli.Flag, name string) ucli.Flag {
	for _, f := range fs {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func findCommand(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func commandCandidates(cmds []*ucli.Command) []candidate {
	var out []candidate
	for _, c := range cmds {
		if !c.Hidden {
			out = append(out, candidate{c.Name, c.Usage})
		}
	}
	return out
}

// flagValues are the values a flag takes, when there is a fixed set.
func flagValues(flag string) []candidate {
	switch flag {
	case "output":
		return []candidate{{outTable, ""}, {outJSON, ""}, {outYAML, ""}}
	case "server-side":
		return []candidate{{"true", ""}, {"auto", ""}}
	case "cascade":
		return []candidate{{release.CascadeForeground, ""}, {release.CascadeBackground, ""}, {release.CascadeOrphan, ""}}
	}
	return nil
}

// positionalCandidates completes a command's arguments.
func positionalCandidates(c *ucli.Context, path string, positional []string, set map[string]string, cur string) []candidate {
	n := len(positional)
	switch path {
	case "completion":
		if n == 0 {
			names := make([]string, 0, 4)
			for shell := range completionScripts() {
				names = append(names, shell)
			}
			sort.Strings(names)
			var out []candidate
			for _, s := range names {
				out = append(out, candidate{s, ""})
			}
			return out
		}
	case "help":
		cmds := c.App.Commands
		for _, p := range positional {
			sub := findCommand(cmds, p)
			if sub == nil {
				return nil
			}
			cmds = sub.Subcommands
		}
		return commandCandidates(cmds)
	case "uninstall": // NAME [NAME...]: each release once
		var out []candidate
		for _, r := range releaseCandidates(c, set) {
			if !slices.Contains(positional, r.value) {
				out = append(out, r)
			}
		}
		return out
	case "status", "history", "test", "rollback", "diff rollback", "diff uninstall", "diff drift", "get values", "get manifest", "get notes", "get hooks", "get metadata", "get all":
		if n == 0 {
			return releaseCandidates(c, set)
		}
	case "upgrade", "diff upgrade":
		if n == 0 {
			return releaseCandidates(c, set)
		}
		if n == 1 {
			return bundleCandidates(c, cur)
		}
	case "install", "template", "diff install":
		if n <= 1 {
			return bundleCandidates(c, cur)
		}
	case "show", "deps":
		if n == 0 {
			return bundleCandidates(c, cur)
		}
		if path == "show" && n == 1 {
			return []candidate{{"readme", ""}, {"values", ""}, {"outputs", ""}, {"requires", ""}}
		}
	case "repo remove":
		if cfg, err := loadConfig(c); err == nil && n == 0 {
			var out []candidate
			for _, e := range cfg.Repositories {
				out = append(out, candidate{e.Name, e.URL})
			}
			return out
		}
	}
	return nil
}

// releaseCandidates lists the releases of the namespace the command line
// names, as helm's completion does; nothing when the cluster does not
// answer in time.
func releaseCandidates(c *ucli.Context, set map[string]string) []candidate {
	opts := release.KubeOptions{
		Kubeconfig:     set["kubeconfig"],
		Context:        set["kube-context"],
		Namespace:      set["namespace"],
		RequestTimeout: completionTimeout,
		Getenv:         getenv(c),
	}
	if err := helmKube(opts.Getenv, &opts); err != nil {
		return nil
	}
	cl, err := newClient(c, opts, registryOptions{})
	if err != nil {
		return nil
	}
	rels, err := cl.List(c.Context, release.ListOptions{All: true})
	if err != nil {
		return nil
	}
	var out []candidate
	for _, r := range rels {
		out = append(out, candidate{r.Name, fmt.Sprintf("%s -> %s", chartName(r), r.Status)})
	}
	return out
}

// bundleCandidates lists REPO/NAME references from the catalog and the
// repositories added; none for what looks like a path (the shell completes
// those).
func bundleCandidates(c *ucli.Context, cur string) []candidate {
	if strings.HasPrefix(cur, ".") || strings.HasPrefix(cur, "/") || strings.HasPrefix(cur, "~") {
		return nil
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return nil
	}
	results, err := repo.Search(c.Context, cfg, repo.SearchOptions{})
	if err != nil {
		return nil
	}
	var out []candidate
	for _, r := range results {
		out = append(out, candidate{r.Ref, r.Version + " " + r.Description})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].value < out[j].value })
	return out
}
