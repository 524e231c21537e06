package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
)

// Each command keeps its flags in an options struct: the flags are bound to
// its typed fields once, when the command is built (urfave's Destination),
// and the command's run method reads those fields, never a flag by name.
// This file holds the constructors that bind a flag to a field, and
// command, which builds a command from its help, its flags and its run
// method; options.go holds the groups of flags several commands share.

// Flag constructors that bind a flag to a field.

func boolFlag(p *bool, name, usage string, aliases ...string) *ucli.BoolFlag {
	return &ucli.BoolFlag{Name: name, Aliases: aliases, Usage: usage, Destination: p}
}

func stringFlag(p *string, name, value, usage string, aliases ...string) *ucli.StringFlag {
	return &ucli.StringFlag{Name: name, Aliases: aliases, Value: value, Usage: usage, Destination: p}
}

func intFlag(p *int, name string, value int, usage string, aliases ...string) *ucli.IntFlag {
	return &ucli.IntFlag{Name: name, Aliases: aliases, Value: value, Usage: usage, Destination: p}
}

func durationFlag(p *time.Duration, name string, value time.Duration, usage string) *ucli.DurationFlag {
	return &ucli.DurationFlag{Name: name, Value: value, Usage: usage, Destination: p}
}

// sliceFlag is a repeatable flag that also splits its values at commas, as
// helm's -f and pflag's StringSlice do.
func sliceFlag(p *ucli.StringSlice, name, usage string, aliases ...string) *ucli.StringSliceFlag {
	return &ucli.StringSliceFlag{Name: name, Aliases: aliases, Usage: usage, Destination: p}
}

// stringArray is a repeatable flag whose every argument is kept whole, as
// helm's --set flags (pflag StringArray): urfave's StringSlice would split
// "--set list={a,b}" and "--set-json 'k={\"a\":1,\"b\":2}'" at the commas.
type stringArray struct{ vals *[]string }

// serialPrefix marks the whole value urfave copies from one name of a flag
// to its aliases (through Serialize): Set replaces the value with it
// instead of appending, or "-s X" would be applied twice.
const serialPrefix = "\x00stringArray:"

func (s stringArray) Set(v string) error {
	if all, ok := strings.CutPrefix(v, serialPrefix); ok {
		return json.Unmarshal([]byte(all), s.vals)
	}
	*s.vals = append(*s.vals, v)
	return nil
}

func (s stringArray) String() string {
	if s.vals == nil {
		return ""
	}
	return strings.Join(*s.vals, " ")
}

func (s stringArray) Serialize() string {
	b, _ := json.Marshal(*s.vals)
	return serialPrefix + string(b)
}

func arrayFlag(p *[]string, name, usage string, aliases ...string) *ucli.GenericFlag {
	return &ucli.GenericFlag{Name: name, Aliases: aliases, Value: stringArray{p}, Usage: usage}
}

// choiceValue is a flag's value that is read when it is given (Set
// refuses what it cannot take, in one line that starts with the flag as
// given: see the command line's usage errors) and, with alone set, may
// be given alone, as pflag's flags with a NoOptDefVal that helm 4 has
// (--wait, --dry-run): then it is "true", and its value must follow "="
// (--wait=watcher), the next argument being never taken.
type choiceValue struct {
	alone bool
	set   func(string) error
}

func (v choiceValue) Set(s string) error { return v.set(s) }

// String is empty: no default is shown in the help (the usage says it).
func (v choiceValue) String() string { return "" }

// IsBoolFlag tells Go's flag package that the flag may be given alone.
func (v choiceValue) IsBoolFlag() bool { return v.alone }

// choiceFlag is a flag of a choiceValue; help shows it without a value
// when it may be given alone.
type choiceFlag struct{ *ucli.GenericFlag }

func (f *choiceFlag) TakesValue() bool { return !f.Value.(choiceValue).alone }

func (f *choiceFlag) String() string { return ucli.FlagStringer(f) }

// optionalFlag is a flag that may be given alone (set receives "true") or
// as --name=VALUE; set refuses what it cannot take.
func optionalFlag(name, usage string, set func(string) error) ucli.Flag {
	return &choiceFlag{&ucli.GenericFlag{Name: name, Usage: usage, Value: choiceValue{alone: true, set: set}}}
}

// valueFlag is a flag that takes a value (--name VALUE or --name=VALUE),
// which set reads or refuses.
func valueFlag(name, usage string, set func(string) error) ucli.Flag {
	return &choiceFlag{&ucli.GenericFlag{Name: name, Usage: usage, Value: choiceValue{set: set}}}
}

// flagValueError is a value a flag refuses: the message says which and
// why (Go's flag package puts "invalid value ... for flag -NAME:" before
// it, which the command line's usage error leaves out).
type flagValueError struct{ msg string }

func (e *flagValueError) Error() string { return e.msg }

func flagValuef(format string, args ...any) error {
	return &flagValueError{msg: fmt.Sprintf(format, args...)}
}

// takesValue reports whether flag f takes a value (--name VALUE), which
// reorder and completion then keep with it.
func takesValue(f ucli.Flag) bool {
	if df, ok := f.(ucli.DocGenerationFlag); ok {
		return df.TakesValue()
	}
	return true
}

// hidden keeps a flag out of the help.
func hidden(f *ucli.GenericFlag) *ucli.GenericFlag {
	f.Hidden = true
	return f
}

func flags(groups ...[]ucli.Flag) []ucli.Flag {
	var out []ucli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func debugFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "debug", Usage: "log Helm's steps and every request sent to the cluster to stderr (Secret data and credentials redacted)"}
}

// command is the command name with the help h, the flags of groups, bound
// to its options, and run, its options' run method, as its action.
func command(name string, h helpText, run ucli.ActionFunc, groups ...[]ucli.Flag) *ucli.Command {
	return withHelp(h, &ucli.Command{Name: name, Flags: flags(groups...), Action: run})
}

// withAliases gives c other names.
func withAliases(c *ucli.Command, aliases ...string) *ucli.Command {
	c.Aliases = aliases
	return c
}
