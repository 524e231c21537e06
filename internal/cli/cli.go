// Package cli is bundle's command line. Each command lives in its own file
// (install.go, get.go; a few close ones share one, as grant and revoke):
// its options struct, whose typed fields its flags are bound to once, when
// the command is built (options.go holds the groups several commands
// share, flags.go the binding), its help (usage, arguments, description,
// examples), and a run method that makes the command's library call and
// prints the result. help.go only renders what the commands declare.
// Library errors state facts and fixes; this package words them with its
// own flags and commands. It has no package-level state; all output goes
// to the writers it is given, so commands run in-process in tests.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Version is the bundle version printed by "bundle version"; the build may
// set it with -ldflags -X.
// (it is a variable for that reason, and nothing else writes it).
var Version = "0.1.0-dev"

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the operation failed
	ExitUsage = 2 // the command line was wrong
)

// usageError marks errors in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// withHints is err's message with the library's facts said in this command
// line's terms: the flags that would change the outcome.
func withHints(err error) string {
	msg := err.Error()
	// Every fixable error in the chain, innermost last.
	for e := err; e != nil; {
		var fe *errdefs.Error
		if !errors.As(e, &fe) {
			break
		}
		if words := fixWords(fe.Fixes); words != "" {
			msg = strings.Replace(msg, fe.Msg, fe.Msg+words, 1)
		}
		e = fe.Err
	}
	var fe *errdefs.FileError
	if errors.As(err, &fe) && len(fe.Fixes) > 0 {
		msg = strings.Replace(msg, fe.Error(), fe.Error()+fixWords(fe.Fixes), 1)
	}
	var oe *errdefs.OptionError
	if errors.As(err, &oe) {
		if flag, ok := optionFlags[oe.Option]; ok {
			msg = strings.Replace(msg, oe.Error(), flagWords(flag, oe), 1)
		}
	}
	var nv *errdefs.NoVersionError
	if errors.As(err, &nv) {
		hinted := nv.Error() + ": choose a prerelease with --devel or --version"
		if nv.Constraint != "" {
			hinted = fmt.Sprintf("no version of %s satisfies --version %s (available: %s)", nv.Bundle, nv.Constraint, strings.Join(nv.Available, ", "))
		}
		msg = strings.Replace(msg, nv.Error(), hinted, 1)
	}
	return msg
}

// optionFlags are the flags that set the library's options, by the
// options' field names.
var optionFlags = map[string]string{
	"KubeVersion":      "--kube-version",
	"NameTemplate":     "--name-template",
	"GenerateName":     "--generate-name",
	"PostRenderer":     "--post-renderer",
	"PostRendererArgs": "--post-renderer-args",
	"Destination":      "--destination",
	"URL":              "--url",
	"MaxHistory":       "--history-max",
	"Description":      "--description",
	"Cascade":          "--cascade",
	"Labels":           "--labels",
	"ShowOnly":         "--show-only",
	"Set":              "--set",
	"SetString":        "--set-string",
	"SetFile":          "--set-file",
	"SetJSON":          "--set-json",
	"SetLiteral":       "--set-literal",
}

// flagWords says an option error with the flag that set the option.
func flagWords(flag string, e *errdefs.OptionError) string {
	switch e.Option {
	case "GenerateName", "NameTemplate":
		if strings.HasPrefix(e.Msg, "cannot ") {
			return fmt.Sprintf("cannot set %s and also specify a name (%q): drop one", flag, e.Value)
		}
	case "PostRendererArgs":
		return fmt.Sprintf("%s %q without --post-renderer: give the executable with --post-renderer PATH", flag, strings.Fields(e.Value))
	case "PostRenderer", "Destination":
		return fmt.Sprintf("%s %s: %s", flag, e.Value, e.Msg)
	case "MaxHistory":
		return fmt.Sprintf("%s %s: %s", flag, e.Value, e.Msg)
	}
	return fmt.Sprintf("%s %q: %s", flag, e.Value, e.Msg)
}

// fixWords says fixes in this command line's words: ": run bundle lock
// ./app, or drop --locked", or " (see bundle history wiki)" when all there
// is to do is look.
func fixWords(fixes []errdefs.Fix) string {
	var do, see []string
	for _, f := range fixes {
		switch {
		case len(f.Run) > 0 && len(f.Options) > 0:
			do = append(do, "run bundle "+strings.Join(f.Run, " ")+" with "+flagList(f.Options))
		case len(f.Run) > 0:
			do = append(do, "run bundle "+strings.Join(f.Run, " "))
		case len(f.See) > 0:
			see = append(see, "see bundle "+strings.Join(f.See, " "))
		case len(f.Options) > 0:
			switch {
			case f.Drop:
				do = append(do, "drop "+flagList(f.Options))
			case f.Use:
				do = append(do, "use "+flagList(f.Options))
			default:
				do = append(do, "check "+flagList(f.Options))
			}
		}
	}
	out := ""
	if len(do) > 0 {
		out = ": " + strings.Join(do, ", or ")
	}
	if len(see) > 0 {
		out += " (" + strings.Join(see, "; ") + ")"
	}
	return out
}

// flagList is "--a and --b".
func flagList(options []string) string {
	flags := make([]string, len(options))
	for i, o := range options {
		flags[i] = "--" + o
	}
	return strings.Join(flags, " and ")
}

// commandPath is "bundle", "bundle install" or "bundle get values".
func commandPath(c *ucli.Context) string {
	if c.Command != nil && c.Command.HelpName != "" {
		return c.Command.HelpName
	}
	if c.Command != nil && c.Command.Name != "" {
		return c.App.Name + " " + c.Command.Name
	}
	return c.App.Name
}

func usagef(c *ucli.Context, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...) + fmt.Sprintf(" (see %s --help)", commandPath(c))}
}

// Run runs the bundle command line with args (args[0] is the program name)
// and returns the exit code. Errors are printed to stderr as one line.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, stdin, stdout, stderr, os.Getenv)
}

// runEnv is Run with the environment read through getenv.
func runEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	app := newApp(stdin, stdout, stderr)
	app.Metadata = map[string]any{getenvKey: getenv}
	return runApp(ctx, app, args)
}

// runApp runs app; tests hand it a release environment (releaseEnvKey) or
// an environment lookup (getenvKey) in app.Metadata.
func runApp(ctx context.Context, app *ucli.App, args []string) int {
	err := app.RunContext(ctx, reorder(app, args))
	if err == nil {
		return ExitOK
	}
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		// Interrupted (main cancels with the signal as the cause): what
		// failed then is only the interruption's consequence.
		err = cause
	}
	var ec *exitCode
	if errors.As(err, &ec) {
		return ec.code
	}
	printError(app.ErrWriter, err)
	var ue *usageError
	if errors.As(err, &ue) && !detailedExitCode(args) {
		return ExitUsage
	}
	return ExitError
}

// appEnvironment is bundle --help's ENVIRONMENT section: the variables
// bundle reads (helmenv.go for Helm's).
const appEnvironment = `BUNDLE_NAMESPACE, HELM_NAMESPACE    the namespace when -n is not given (set both: they must agree)
HELM_KUBECONTEXT                    the kubeconfig context when --kube-context is not given
KUBECONFIG                          the kubeconfig files (default: ~/.kube/config)
HELM_DEBUG                          true: --debug
HELM_MAX_HISTORY                    upgrade's and rollback's --history-max when it is not given (default: 10)
HELM_PLUGINS                        where --post-renderer NAME finds helm 4 postrenderer plugins (default: $HELM_DATA_HOME/plugins)
HELM_REGISTRY_CONFIG                a registry credentials file, read before Docker's; bundle login stores there
HELM_COLOR, NO_COLOR                bundle diff's colours: never, always or auto (on a terminal)
BUNDLE_CONFIG_HOME                  repositories.yaml and policy.yaml (default: $XDG_CONFIG_HOME/bundle)
BUNDLE_CACHE_HOME                   the repositories' indexes (default: $XDG_CACHE_HOME/bundle)
BUNDLE_SIGN_PASSWORD                the password of a signing key (else $COSIGN_PASSWORD)
Helm's other variables (HELM_KUBETOKEN, HELM_DRIVER=configmap, ...) are refused where they would
change what a command does: see docs/helm-compat.md.`

// appExamples is bundle --help's EXAMPLES section.
const appExamples = `# install a bundle with its infrastructure, then look at it
bundle install wiki stable/mediawiki --wait
bundle status wiki
bundle help install`

func newApp(stdin io.Reader, stdout, stderr io.Writer) *ucli.App {
	app := &ucli.App{
		Name:    "bundle",
		Usage:   "install apps with their infrastructure on Kubernetes, as one release",
		Version: Version,
		// The ENVIRONMENT and EXAMPLES sections after urfave's.
		CustomAppHelpTemplate: appHelpTemplate(appEnvironment, appExamples),
		Reader:                stdin,
		Writer:                stdout,
		ErrWriter:             stderr,
		// Errors are printed by Run; never exit from inside the library.
		ExitErrHandler: func(*ucli.Context, error) {},
		// Our own help command (help.go) replaces urfave's.
		HideHelpCommand: true,
		// urfave adds --help only when it adds its help command.
		Flags:  []ucli.Flag{debugFlag(), ucli.HelpFlag},
		Action: unknownCommand,
		OnUsageError: func(c *ucli.Context, err error, _ bool) error {
			return &usageError{msg: fmt.Sprintf("%s (see %s --help)", flagValueMessage(err), commandPath(c))}
		},
		Commands: []*ucli.Command{
			templateCommand(),
			installCommand(),
			upgradeCommand(),
			diffCommand(),
			rollbackCommand(),
			pruneCommand(),
			uninstallCommand(),
			grantCommand(),
			revokeCommand(),
			listCommand(),
			statusCommand(),
			historyCommand(),
			lockCommand(),
			updateCommand(),
			depsCommand(),
			packageCommand(),
			repoCommand(),
			pushCommand(),
			archiveCommand(),
			pullCommand(),
			signCommand(),
			verifyCommand(),
			loginCommand(),
			logoutCommand(),
			showCommand(),
			lintCommand(),
			searchCommand(),
			getCommand(),
			testCommand(),
			versionCommand(),
			completionCommand(),
			completeCommand(),
			helpCommand(),
		},
	}
	setupCommands(app)
	return app
}

// refusedValue is Go's flag package's error for a value a flag's Set
// refused, around a flagValueError's message, which starts with the flag.
var refusedValue = regexp.MustCompile(`^invalid (?:boolean )?value "(?:[^"\\]|\\.)*" for (?:flag )?-[a-z-]+: (--.+)$`)

// flagValueMessage is err's message, a value a choiceFlag refused said
// in its own words (--wait=legacy: ...) without Go's prefix.
func flagValueMessage(err error) string {
	if m := refusedValue.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return err.Error()
}

// detailedExitCode reports whether args ask for bundle diff's
// --detailed-exitcode, with which a wrong command line exits 1 as every
// other error: 2 says that something would change.
func detailedExitCode(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--detailed-exitcode" || a == "--detailed-exitcode=true" {
			return true
		}
	}
	return false
}

// nameAndBundle reads "[NAME] BUNDLE".
func nameAndBundle(c *ucli.Context) (name, ref string, err error) {
	switch c.NArg() {
	case 1:
		return "", c.Args().Get(0), nil
	case 2:
		return c.Args().Get(0), c.Args().Get(1), nil
	}
	return "", "", usagef(c, "expected [NAME] BUNDLE, got %d arguments", c.NArg())
}

func exactArgs(c *ucli.Context, n int, what string) error {
	if c.NArg() != n {
		return usagef(c, "expected %s, got %d arguments", what, c.NArg())
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// plural is "1 claim", "2 claims".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
