package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v2"
)

// Modules whose versions bundle version reports.
const (
	helmModule      = "helm.sh/helm/v4"
	clientGoModule  = "k8s.io/client-go"
	unknownVersion  = "unknown"
	develModVersion = "(devel)"
)

// versionInfo is what bundle version reports; the first fields are named
// as in helm version's build info.
type versionInfo struct {
	Version                 string `json:"version"`
	GitCommit               string `json:"git_commit,omitempty"`
	GitTreeState            string `json:"git_tree_state,omitempty"`
	GoVersion               string `json:"go_version"`
	HelmVersion             string `json:"helm_version"`
	KubernetesClientVersion string `json:"kubernetes_client_version"`
}

// versions reads the versions from the binary's build info (ok false:
// none embedded). The bundle version is the module's when it was built as
// a released module (go install ...@v1.2.3), else the Version constant.
func versions(info *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: Version, GoVersion: runtime.Version(), HelmVersion: unknownVersion, KubernetesClientVersion: unknownVersion}
	if !ok || info == nil {
		return v
	}
	if info.GoVersion != "" {
		v.GoVersion = info.GoVersion
	}
	if mv := info.Main.Version; mv != "" && mv != develModVersion {
		v.Version = mv
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.GitCommit = s.Value
		case "vcs.modified":
			v.GitTreeState = "clean"
			if s.Value == "true" {
				v.GitTreeState = "dirty"
			}
		}
	}
	for _, d := range info.Deps {
		version := d.Version
		if d.Replace != nil {
			version = d.Replace.Version
		}
		switch d.Path {
		case helmModule:
			v.HelmVersion = version
		case clientGoModule:
			v.KubernetesClientVersion = version
		}
	}
	return v
}

// short is bundle version --short: VERSION, and +gCOMMIT when known.
func (v versionInfo) short() string {
	if len(v.GitCommit) >= 7 {
		return v.Version + "+g" + v.GitCommit[:7]
	}
	return v.Version
}

func versionCommand() *ucli.Command {
	var short bool
	var output outputOption
	return withHelp(helpText{
		usage: "print the versions of bundle, the Helm SDK, the Kubernetes client and Go it was built with",
		examples: `bundle version
bundle version --short
bundle version -o json`,
	}, &ucli.Command{
		Name: "version",
		Flags: []ucli.Flag{
			boolFlag(&short, "short", "print bundle's version only"),
			output.flag(),
		},
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 0, "no arguments"); err != nil {
				return err
			}
			if err := output.check(c); err != nil {
				return err
			}
			v := versions(debug.ReadBuildInfo())
			if short {
				if ok, err := output.write(c.App.Writer, map[string]string{"version": v.short()}); ok {
					return err
				}
				_, err := fmt.Fprintln(c.App.Writer, v.short())
				return err
			}
			if ok, err := output.write(c.App.Writer, v); ok {
				return err
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			commit := v.GitCommit
			if commit == "" {
				commit = unknownVersion
			} else if v.GitTreeState != "" {
				commit += " (" + v.GitTreeState + ")"
			}
			fmt.Fprintf(tw, "bundle:\t%s\ncommit:\t%s\nhelm sdk:\t%s\nkubernetes client:\t%s\ngo:\t%s\n", v.Version, commit, v.HelmVersion, v.KubernetesClientVersion, v.GoVersion)
			return tw.Flush()
		},
	})
}
