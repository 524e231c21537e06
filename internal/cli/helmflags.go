package cli

import (
	"encoding/json"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

// Helm's flags for template, install and upgrade, with Helm's names and
// meanings; NOTES on what differs are in the library's option comments.

// stringArray is a repeatable flag whose every argument is kept whole, as
// helm's --set flags (pflag StringArray): urfave's StringSlice would split
// "--set list={a,b}" and "--set-json 'k={\"a\":1,\"b\":2}'" at the commas.
type stringArray struct{ vals []string }

// serialPrefix marks the whole value urfave copies from one name of a flag
// to its aliases (through Serialize): Set replaces the value with it
// instead of appending, or "-s X" would be applied twice.
const serialPrefix = "\x00stringArray:"

func (s *stringArray) Set(v string) error {
	if all, ok := strings.CutPrefix(v, serialPrefix); ok {
		return json.Unmarshal([]byte(all), &s.vals)
	}
	s.vals = append(s.vals, v)
	return nil
}

func (s *stringArray) String() string { return strings.Join(s.vals, " ") }

func (s *stringArray) Serialize() string {
	b, _ := json.Marshal(s.vals)
	return serialPrefix + string(b)
}

func arrayFlag(name, usage string) *ucli.GenericFlag {
	return &ucli.GenericFlag{Name: name, Value: &stringArray{}, Usage: usage}
}

func array(c *ucli.Context, name string) []string {
	if a, ok := c.Generic(name).(*stringArray); ok {
		return a.vals
	}
	return nil
}

// valuesFrom reads -f and the --set flags.
func valuesFrom(c *ucli.Context) bundle.ValuesOptions {
	return bundle.ValuesOptions{
		Files:      c.StringSlice("values"),
		Set:        array(c, "set"),
		SetString:  array(c, "set-string"),
		SetFile:    array(c, "set-file"),
		SetJSON:    array(c, "set-json"),
		SetLiteral: array(c, "set-literal"),
	}
}

func namingFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.BoolFlag{Name: "generate-name", Aliases: []string{"g"}, Usage: "name the release BUNDLE-SECONDS (the bundle's name and the Unix time); omit NAME"},
		&ucli.StringFlag{Name: "name-template", Usage: "name the release with this Go template (Sprig functions), e.g. 'shop-{{ randAlpha 5 | lower }}'; omit NAME"},
	}
}

func namingFrom(c *ucli.Context) render.Naming {
	return render.Naming{GenerateName: c.Bool("generate-name"), NameTemplate: c.String("name-template")}
}

func develFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "devel", Usage: "consider prerelease versions too (>0.0.0-0); ignored with --version"}
}

func noHooksFlag(usage string) ucli.Flag {
	return &ucli.BoolFlag{Name: "no-hooks", Usage: usage}
}

func postRendererFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "post-renderer", Usage: "pipe the rendered manifests (not hooks) through this executable (a path, or a name in $PATH), as helm does"},
		arrayFlag("post-renderer-args", "an argument to the post-renderer (repeatable)"),
	}
}

func postRendererFrom(c *ucli.Context) render.PostRenderer {
	return render.PostRenderer{Path: c.String("post-renderer"), Args: array(c, "post-renderer-args")}
}

// helmFlags are Helm's install and upgrade flags that both take.
func helmFlags(verb string) []ucli.Flag {
	return append([]ucli.Flag{
		&ucli.StringFlag{Name: "description", Usage: "record this description with the revision"},
		develFlag(),
		noHooksFlag("do not run the bundle's hooks during " + verb),
		&ucli.BoolFlag{Name: "wait-for-jobs", Usage: "with --wait, also wait until every Job has completed"},
		&ucli.BoolFlag{Name: "disable-openapi-validation", Usage: "do not validate the manifests against the cluster's OpenAPI schema"},
	}, postRendererFlags()...)
}

func helmFrom(c *ucli.Context) release.HelmOptions {
	return release.HelmOptions{
		Description:              c.String("description"),
		NoHooks:                  c.Bool("no-hooks"),
		SkipCRDs:                 c.Bool("skip-crds"),
		WaitForJobs:              c.Bool("wait-for-jobs"),
		PostRenderer:             postRendererFrom(c),
		DisableOpenAPIValidation: c.Bool("disable-openapi-validation"),
	}
}

// kubeOptions reads --kubeconfig, --kube-context and --namespace.
func kubeOptions(c *ucli.Context) release.KubeOptions {
	return release.KubeOptions{
		Kubeconfig: c.String("kubeconfig"),
		Context:    c.String("kube-context"),
		Namespace:  c.String("namespace"),
		Getenv:     getenv(c),
	}
}

// getenvKey holds, in the app's Metadata, the environment lookup Run was
// given (os.Getenv, or a test's).
const getenvKey = "getenv"

func getenv(c *ucli.Context) func(string) string {
	if f, ok := c.App.Metadata[getenvKey].(func(string) string); ok {
		return f
	}
	return os.Getenv
}

// checkHelmFlags refuses, as usage errors, NAME given with --generate-name
// or --name-template (as helm does) and --post-renderer-args without
// --post-renderer (which helm ignores).
func checkHelmFlags(c *ucli.Context, name string) error {
	if len(array(c, "post-renderer-args")) > 0 && c.String("post-renderer") == "" {
		return usagef(c, "--post-renderer-args without --post-renderer: give the executable with --post-renderer PATH")
	}
	if name == "" {
		return nil
	}
	if c.Bool("generate-name") {
		return usagef(c, "cannot set --generate-name and also specify a name (%q): drop one", name)
	}
	if c.String("name-template") != "" {
		return usagef(c, "cannot set --name-template and also specify a name (%q): drop one", name)
	}
	return nil
}
