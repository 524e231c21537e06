package diff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bundlesh/bundle/pkg/bundle"
)

// Wire is one output of a requirement as the bundle that requires it sees
// it: requires.INSTANCE.OUTPUT in that bundle's values (the wiring bundle
// computes), and what the operation does to it.
type Wire struct {
	Action Action `json:"action"`
	// Consumer is the instance path of the bundle that uses the output;
	// "" for the root bundle.
	Consumer string `json:"consumer"`
	// Instance is the requirement's instance path (database,
	// cache.sentinel, ...).
	Instance string `json:"instance"`
	Output   string `json:"output"`
	// Before and After are the output's values; empty when it did not or
	// will not exist. Both are empty, and Hidden set, for an output whose
	// name says it holds a secret (password, token, ...).
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
}

// String is "database.host (used by the root)" or "sentinel.hosts (used
// by cache)".
func (w Wire) String() string {
	user := "the root"
	if w.Consumer != "" {
		user = w.Consumer
	}
	return fmt.Sprintf("%s.%s (used by %s)", w.Instance, w.Output, user)
}

// Wiring compares the wiring of two revisions' values (the values bundle
// installs with: the user's, with every requirement's outputs under
// requires.INSTANCE of the bundle that requires it, and each requirement's
// own values under its instance name). It returns the outputs created,
// changed or deleted, sorted by instance path and output; before is nil
// for an install.
func Wiring(before, after map[string]any) []Wire {
	b, a := map[wireKey]string{}, map[wireKey]string{}
	collectWiring(before, "", b)
	collectWiring(after, "", a)
	keys := map[wireKey]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	var out []Wire
	for k := range keys {
		old, had := b[k]
		cur, has := a[k]
		w := Wire{Consumer: k.consumer, Instance: k.instance, Output: k.output, Before: old, After: cur}
		switch {
		case had && has && old == cur:
			continue
		case had && has:
			w.Action = Change
		case has:
			w.Action = Create
		default:
			w.Action = Delete
		}
		if secretOutput(k.output) {
			w.Before, w.After, w.Hidden = "", "", true
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Instance != out[j].Instance {
			return out[i].Instance < out[j].Instance
		}
		return out[i].Output < out[j].Output
	})
	return out
}

type wireKey struct{ consumer, instance, output string }

// collectWiring reads the outputs under vals' requires key, then descends
// into each requirement's own values (vals[INSTANCE]) for its wiring.
func collectWiring(vals map[string]any, consumer string, out map[wireKey]string) {
	req, _ := vals[bundle.RequiresKey].(map[string]any)
	for inst, v := range req {
		path := inst
		if consumer != "" {
			path = consumer + "." + inst
		}
		outputs, _ := v.(map[string]any)
		for name, val := range outputs {
			out[wireKey{consumer, path, name}] = outputText(val)
		}
		if sub, ok := vals[inst].(map[string]any); ok {
			collectWiring(sub, path, out)
		}
	}
}

func outputText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// secretOutput reports whether an output's name says it holds a secret
// itself (password, token, ...), not the name of a Secret
// (passwordSecret) or a key in one (passwordKey).
func secretOutput(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "passwd", "token", "apikey", "credentials", "privatekey"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}
