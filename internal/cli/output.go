package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/bluegreen"
	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// Output formats of -o/--output.
const (
	outTable = "table"
	outJSON  = "json"
	outYAML  = "yaml"
	// Graphs of requirements (bundle deps, bundle diff).
	outDOT     = "dot"
	outMermaid = "mermaid"
)

// outputOption is -o/--output; graphs accepts dot and mermaid too.
type outputOption struct {
	format string
	graphs bool
}

func (o *outputOption) flag() ucli.Flag {
	if o.graphs {
		return stringFlag(&o.format, "output", outTable, "output format: table, json, yaml, or a graph of the requirements: dot (Graphviz) or mermaid", "o")
	}
	return stringFlag(&o.format, "output", outTable, "output format: table, json or yaml", "o")
}

func (o outputOption) check(c *ucli.Context) error {
	switch o.format {
	case "", outTable, outJSON, outYAML: // "": a command without -o
		return nil
	case outDOT, outMermaid:
		if o.graphs {
			return nil
		}
	}
	if o.graphs {
		return usagef(c, "--output %q: use table, json, yaml, dot or mermaid", o.format)
	}
	return usagef(c, "--output %q: use table, json or yaml", o.format)
}

// writeGraph writes g as DOT or Mermaid; it reports false for the other
// formats.
func (o outputOption) writeGraph(w io.Writer, g *graph.Graph) (bool, error) {
	switch o.format {
	case outDOT:
		return true, graph.WriteDOT(w, g)
	case outMermaid:
		return true, graph.WriteMermaid(w, g)
	}
	return false, nil
}

// write writes v as JSON or YAML (YAML through JSON, as Helm does, so the
// keys are the same); it reports false for -o table.
func (o outputOption) write(w io.Writer, v any) (bool, error) {
	switch o.format {
	case outJSON:
		return true, writeJSON(w, v)
	case outYAML:
		return true, writeYAML(w, v)
	}
	return false, nil
}

// printTable prints rows under header in aligned columns, as helm's tables
// (cells tab-separated in header).
func printTable(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing YAML: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// helmTime marshals as Helm's time does: RFC 3339 with nanoseconds, and
// "" for the zero time.
type helmTime time.Time

func (t helmTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte(`""`), nil
	}
	return time.Time(t).MarshalJSON()
}

// chartName is Helm's NAME-VERSION (MISSING when the record has no chart).
func chartName(r *release.Release) string {
	if r.Bundle == "" {
		return "MISSING"
	}
	return r.Bundle + "-" + r.Version
}

// listElement is one release of helm list -o json, field for field, plus
// bundle's resolved requirements.
type listElement struct {
	Name       string          `json:"name"`
	Namespace  string          `json:"namespace"`
	Revision   string          `json:"revision"`
	Updated    string          `json:"updated"`
	Status     string          `json:"status"`
	Chart      string          `json:"chart"`
	AppVersion string          `json:"app_version"`
	Requires   []plan.Resolved `json:"requires,omitempty"`
}

func listElements(rs []*release.Release, timeFormat string) []listElement {
	out := make([]listElement, 0, len(rs))
	for _, r := range rs {
		out = append(out, listElement{
			Name: r.Name, Namespace: r.Namespace, Revision: fmt.Sprint(r.Revision),
			Updated: helmListTime(r.Updated, timeFormat), Status: r.Status,
			Chart: chartName(r), AppVersion: r.AppVersion, Requires: r.Resolved,
		})
	}
	return out
}

// helmListTime is helm list's "updated": Go's time format, or the
// --time-format layout; "-" when unknown.
func helmListTime(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	if layout != "" {
		return t.Format(layout)
	}
	return t.Round(0).String()
}

// historyElement is one revision of helm history -o json, plus bundle's
// resolved requirements.
type historyElement struct {
	Revision    int             `json:"revision"`
	Updated     helmTime        `json:"updated"`
	Status      string          `json:"status"`
	Chart       string          `json:"chart"`
	AppVersion  string          `json:"app_version"`
	Description string          `json:"description"`
	Requires    []plan.Resolved `json:"requires,omitempty"`
}

func historyElements(rs []*release.Release) []historyElement {
	out := make([]historyElement, 0, len(rs))
	for _, r := range rs {
		out = append(out, historyElement{
			Revision: r.Revision, Updated: helmTime(r.Updated), Status: r.Status,
			Chart: chartName(r), AppVersion: r.AppVersion, Description: r.Description, Requires: r.Resolved,
		})
	}
	return out
}

// releaseObject is Helm's release as helm status -o json prints it (the
// chart stripped to its metadata), plus bundle's requirements and, for
// status, each resource's readiness.
type releaseObject struct {
	Name      string         `json:"name,omitempty"`
	Info      *infoObject    `json:"info,omitempty"`
	Chart     *chartObject   `json:"chart,omitempty"`
	Config    map[string]any `json:"config,omitempty"`
	Manifest  string         `json:"manifest,omitempty"`
	Hooks     []hookObject   `json:"hooks,omitempty"`
	Version   int            `json:"version,omitempty"`
	Namespace string         `json:"namespace,omitempty"`
	// ApplyMethod is Helm 4's: "ssa" or "csa"; absent for helm 3's.
	ApplyMethod string `json:"apply_method,omitempty"`
	// bundle's own
	Requires []plan.Resolved `json:"requires,omitempty"`
	// Wiring is the part of Config bundle computed, not the user: the
	// requirements' outputs under requires: (and a bound requirement's
	// claim), in the values' shape.
	Wiring    map[string]any   `json:"wiring,omitempty"`
	Ready     *bool            `json:"ready,omitempty"`
	Resources []resourceObject `json:"resources,omitempty"`
	Consumers []consumerObject `json:"consumers,omitempty"`
	// Drifted is the number of objects whose live state is not what the
	// release applied (bundle status only; absent when not known).
	Drifted *int `json:"drifted,omitempty"`
	// BlueGreen, for a blue-green app's router (bundle status only), is
	// which colour release is live and which the spare.
	BlueGreen *blueGreenObject `json:"blueGreen,omitempty"`
}

// blueGreenObject is a blue-green app's live and spare colour releases:
// live is the one its stable Services select.
type blueGreenObject struct {
	Live  string `json:"live"`
	Spare string `json:"spare,omitempty"`
	// Record is what the router's record says, when it is not what the
	// stable Services select.
	Record *blueGreenObject `json:"record,omitempty"`
	// Error says why which colour serves is not known (the stable
	// Services do not all select one colour); live is then empty.
	Error string `json:"error,omitempty"`
}

// consumerObject is a release bound to the one shown.
type consumerObject struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	Instance   string `json:"instance"`
	Constraint string `json:"constraint,omitempty"`
}

type infoObject struct {
	FirstDeployed helmTime `json:"first_deployed,omitempty"`
	LastDeployed  helmTime `json:"last_deployed,omitempty"`
	Deleted       helmTime `json:"deleted"`
	Description   string   `json:"description,omitempty"`
	Status        string   `json:"status,omitempty"`
	Notes         string   `json:"notes,omitempty"`
}

type chartObject struct {
	Metadata chartMetadata `json:"metadata"`
}

// chartMetadata is Chart.yaml with Helm's JSON names.
type chartMetadata struct {
	Name         string             `json:"name,omitempty"`
	Home         string             `json:"home,omitempty"`
	Sources      []string           `json:"sources,omitempty"`
	Version      string             `json:"version,omitempty"`
	Description  string             `json:"description,omitempty"`
	Keywords     []string           `json:"keywords,omitempty"`
	Maintainers  []maintainerObject `json:"maintainers,omitempty"`
	Icon         string             `json:"icon,omitempty"`
	APIVersion   string             `json:"apiVersion,omitempty"`
	AppVersion   string             `json:"appVersion,omitempty"`
	Deprecated   bool               `json:"deprecated,omitempty"`
	Annotations  map[string]string  `json:"annotations,omitempty"`
	KubeVersion  string             `json:"kubeVersion,omitempty"`
	Dependencies []dependencyObject `json:"dependencies,omitempty"`
	Type         string             `json:"type,omitempty"`
}

type maintainerObject struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

type dependencyObject struct {
	Name         string   `json:"name"`
	Version      string   `json:"version,omitempty"`
	Repository   string   `json:"repository"`
	Condition    string   `json:"condition,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	Enabled      bool     `json:"enabled,omitempty"`
	ImportValues []any    `json:"import-values,omitempty"`
	Alias        string   `json:"alias,omitempty"`
}

type hookObject struct {
	Name              string        `json:"name,omitempty"`
	Kind              string        `json:"kind,omitempty"`
	Path              string        `json:"path,omitempty"`
	Manifest          string        `json:"manifest,omitempty"`
	Events            []string      `json:"events,omitempty"`
	LastRun           hookRunObject `json:"last_run,omitempty"`
	Weight            int           `json:"weight,omitempty"`
	DeletePolicies    []string      `json:"delete_policies,omitempty"`
	OutputLogPolicies []string      `json:"output_log_policies,omitempty"`
}

type hookRunObject struct {
	StartedAt   helmTime `json:"started_at,omitempty"`
	CompletedAt helmTime `json:"completed_at,omitempty"`
	Phase       string   `json:"phase"`
}

type resourceObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	State     string `json:"state"`
}

func toReleaseObject(d *release.Details) releaseObject {
	out := releaseObject{
		Name: d.Name,
		Info: &infoObject{
			FirstDeployed: helmTime(d.FirstDeployed), LastDeployed: helmTime(d.Updated), Deleted: helmTime(d.Deleted),
			Description: d.Description, Status: d.Status, Notes: d.Notes,
		},
		Config: d.Values, Manifest: d.Manifest, Version: d.Revision, Namespace: d.Namespace,
		ApplyMethod: d.ApplyMethod, Requires: d.Resolved, Wiring: d.Wiring,
	}
	if d.Chart.Name != "" {
		m := d.Chart
		cm := chartMetadata{Name: m.Name, Home: m.Home, Sources: m.Sources, Version: m.Version, Description: m.Description,
			Keywords: m.Keywords, Icon: m.Icon, APIVersion: m.APIVersion, AppVersion: m.AppVersion, Deprecated: m.Deprecated,
			Annotations: m.Annotations, KubeVersion: m.KubeVersion, Type: m.Type}
		for _, mt := range m.Maintainers {
			cm.Maintainers = append(cm.Maintainers, maintainerObject(mt))
		}
		cm.Dependencies = dependencyObjects(m.Dependencies)
		out.Chart = &chartObject{Metadata: cm}
	}
	for _, h := range d.Hooks {
		out.Hooks = append(out.Hooks, hookObject{
			Name: h.Name, Kind: h.Kind, Path: h.Path, Manifest: h.Manifest, Events: h.Events, Weight: h.Weight,
			DeletePolicies: h.DeletePolicies, OutputLogPolicies: h.OutputLogPolicies,
			LastRun: hookRunObject{StartedAt: helmTime(h.LastRun.StartedAt), CompletedAt: helmTime(h.LastRun.CompletedAt), Phase: h.LastRun.Phase},
		})
	}
	return out
}

func dependencyObjects(deps []release.Dependency) []dependencyObject {
	var out []dependencyObject
	for _, d := range deps {
		out = append(out, dependencyObject{Name: d.Name, Version: d.Version, Repository: d.Repository, Condition: d.Condition,
			Tags: d.Tags, Enabled: d.Enabled, ImportValues: d.ImportValues, Alias: d.Alias})
	}
	return out
}

func toStatusObject(st *bluegreen.Status) releaseObject {
	out := toReleaseObject(st.Details)
	ready := st.Ready()
	out.Ready = &ready
	out.Resources = make([]resourceObject, 0, len(st.Resources))
	for _, r := range st.Resources {
		out.Resources = append(out.Resources, resourceObject{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, State: r.State})
	}
	for _, co := range st.Consumers {
		out.Consumers = append(out.Consumers, consumerObject{Name: co.Release, Namespace: co.Namespace, Instance: co.Instance, Constraint: co.Constraint})
	}
	if st.Drifted >= 0 {
		n := st.Drifted
		out.Drifted = &n
	}
	if bg := st.BlueGreen; bg != nil {
		out.BlueGreen = &blueGreenObject{Live: bg.LiveRelease(), Spare: bg.SpareRelease()}
		if r := bg.Record; r != nil {
			out.BlueGreen.Record = &blueGreenObject{Live: r.LiveRelease(), Spare: r.SpareRelease()}
		}
		if st.BlueGreenError != nil {
			out.BlueGreen = &blueGreenObject{Error: st.BlueGreenError.Error()}
		}
	}
	return out
}

// metadataObject is helm get metadata -o json, plus bundle's requirements.
type metadataObject struct {
	Name         string             `json:"name"`
	Chart        string             `json:"chart"`
	Version      string             `json:"version"`
	AppVersion   string             `json:"appVersion"`
	Annotations  map[string]string  `json:"annotations,omitempty"`
	Labels       map[string]string  `json:"labels,omitempty"`
	Dependencies []dependencyObject `json:"dependencies,omitempty"`
	Namespace    string             `json:"namespace"`
	Revision     int                `json:"revision"`
	Status       string             `json:"status"`
	DeployedAt   string             `json:"deployedAt"`
	ApplyMethod  string             `json:"applyMethod,omitempty"`
	Requires     []plan.Resolved    `json:"requires,omitempty"`
}

func toMetadataObject(d *release.Details) metadataObject {
	return metadataObject{
		Name: d.Name, Chart: d.Chart.Name, Version: d.Chart.Version, AppVersion: d.Chart.AppVersion,
		Annotations: d.Chart.Annotations, Labels: d.Labels, Dependencies: dependencyObjects(d.Chart.Dependencies),
		Namespace: d.Namespace, Revision: d.Revision, Status: d.Status,
		DeployedAt: d.Updated.Format(time.RFC3339), ApplyMethod: d.ApplyMethod, Requires: d.Resolved,
	}
}
