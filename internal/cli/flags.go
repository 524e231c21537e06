package cli

import (
	"encoding/json"
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
