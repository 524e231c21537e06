package plan

import "sort"

// BoundApp is a release as bundle list --bindings shows it: its
// requirements bound to other releases (its providers). A blue/green app
// is one BoundApp, named as its router, with its live colour (the one its
// stable Services select, whose bindings are shown) and its spare.
type BoundApp struct {
	// Name is NAMESPACE/NAME.
	Name    string `json:"name"`
	Bundle  string `json:"bundle,omitempty"`
	Version string `json:"version,omitempty"`
	// Live and Spare are a blue/green app's colours (Spare empty without
	// a spare); both empty for another release.
	Live  string `json:"live,omitempty"`
	Spare string `json:"spare,omitempty"`
	// Recorded, of a blue/green app, is the live colour its router's
	// record says ("none" for none) when that is not the one its stable
	// Services select (or that is unknown); empty when they agree.
	Recorded string `json:"recorded,omitempty"`
	// LiveUnknown, of a blue/green app whose live colour is not known
	// (its stable Services do not all select one colour, or could not be
	// read), says why; Live and Spare are empty then, and the bindings
	// are those its router holds.
	LiveUnknown string  `json:"liveUnknown,omitempty"`
	Bindings    []Bound `json:"bindings,omitempty"`
	// Consumers are the apps bound to this one, as Consumers gives them
	// (filled by whoever lists the apps; drawing does not use them).
	Consumers []string `json:"consumers,omitempty"`
}

// Colours says which colours blue/green app a has, and what its router's
// record says when that differs: "live green, spare blue", "live green
// (record says blue)", "live unknown (record says blue)"; "" for another
// release.
func (a BoundApp) Colours() string {
	var s string
	switch {
	case a.LiveUnknown != "":
		s = "live unknown"
	case a.Live == "":
		return ""
	default:
		s = "live " + a.Live
	}
	if a.Recorded != "" {
		s += " (record says " + a.Recorded + ")"
	}
	if a.Spare != "" {
		s += ", spare " + a.Spare
	}
	return s
}

// Bound is one binding: requirement Instance bound to release Provider
// (NAMESPACE/NAME), with a claim of its own on it (its own database and
// user, say) when Claim.
type Bound struct {
	Instance string `json:"instance"`
	Provider string `json:"provider"`
	Claim    bool   `json:"claim,omitempty"`
}

// Consumers maps each provider (NAMESPACE/NAME) to the apps bound to it,
// as "NAMESPACE/NAME (INSTANCE)", sorted.
func Consumers(apps []BoundApp) map[string][]string {
	out := map[string][]string{}
	for _, a := range apps {
		for _, b := range a.Bindings {
			out[b.Provider] = append(out[b.Provider], a.Name+" ("+b.Instance+")")
		}
	}
	for _, cs := range out {
		sort.Strings(cs)
	}
	return out
}
