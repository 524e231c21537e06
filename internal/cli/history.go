package cli

import (
	"strconv"

	ucli "github.com/urfave/cli/v2"
)

// historyOptions are bundle history's flags.
type historyOptions struct {
	readOptions
	max int
}

func historyCommand() *ucli.Command {
	o := &historyOptions{}
	return withAliases(command("history", helpText{
		usage: "list a release's revisions",
		args:  "NAME",
		examples: `bundle history wiki
bundle history wiki --max 5 -o json`,
	}, o.run, o.kube.flags(), []ucli.Flag{
		intFlag(&o.max, "max", 256, "show at most this many of the latest revisions"),
		o.output.flag(),
	}), "hist")
}

func (o *historyOptions) run(c *ucli.Context) error {
	if o.max < 1 {
		return usagef(c, "--max %d: must be at least 1", o.max)
	}
	cl, err := o.client(c, 1, "NAME")
	if err != nil {
		return err
	}
	rels, err := cl.History(c.Context, c.Args().Get(0))
	if err != nil {
		return err
	}
	if len(rels) > o.max {
		rels = rels[len(rels)-o.max:]
	}
	if ok, err := o.output.write(c.App.Writer, historyElements(rels)); ok {
		return err
	}
	var rows [][]string
	for _, r := range rels {
		rows = append(rows, []string{strconv.Itoa(r.Revision), age(r.Updated), r.Status, chartName(r), r.AppVersion, r.Description})
	}
	return printTable(c.App.Writer, "REVISION\tUPDATED\tSTATUS\tBUNDLE\tAPP VERSION\tDESCRIPTION", rows)
}
