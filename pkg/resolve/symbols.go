package resolve

import (
	"github.com/Masterminds/semver/v3"
)

// symbols replays, for an explanation, the set operations of a derivation
// on vranges (ranges.go) instead of bitsets: the ranges a requirement
// wrote, their complements, and the unions and intersections the
// resolution rule made of them (priorCause). The bitsets are what the
// solver decided with; the vranges say the same of every version that
// exists, and what the constraint language says of the rest.
type symbols struct {
	s     *solver
	terms map[int][]vrange // by incompatibility, one per term: the versions it holds
	// cons caches constraintRange by constraint text.
	cons     map[string]consRange
	releases map[int][]*semver.Version // by package
}

type consRange struct {
	r  vrange
	ok bool
}

func (s *solver) symbols() *symbols {
	if s.syms == nil {
		s.syms = &symbols{s: s, terms: map[int][]vrange{}, cons: map[string]consRange{}, releases: map[int][]*semver.Version{}}
	}
	return s.syms
}

// term returns the versions incompatibility id's term on package pkg holds.
func (x *symbols) term(id, pkg int) (vrange, bool) {
	rs := x.of(id)
	for i, t := range x.s.incompats[id].terms {
		if t.pkg == pkg {
			return rs[i], true
		}
	}
	return nil, false
}

// of returns the versions each term of incompatibility id holds.
func (x *symbols) of(id int) []vrange {
	if rs, ok := x.terms[id]; ok {
		return rs
	}
	inc := x.s.incompats[id]
	out := make([]vrange, len(inc.terms))
	switch inc.cause {
	case dependencyCause, notFoundCause:
		for i, t := range inc.terms {
			if i > 0 && t.pkg == inc.to {
				out[i] = x.required(inc.to, inc.reqs).complement()
			} else {
				out[i] = x.fromBits(t.pkg, t.set)
			}
		}
	case repositoryCause:
		for i := range out {
			out[i] = fullRange()
		}
	case conflictCause:
		// priorCause: the terms on the satisfier's package are joined,
		// the others intersected.
		a, b := x.of(inc.cause1), x.of(inc.cause2)
		ia, ib := x.s.incompats[inc.cause1], x.s.incompats[inc.cause2]
		for i, t := range inc.terms {
			var r vrange
			first := true
			add := func(u vrange) {
				switch {
				case first:
					r, first = u, false
				case t.pkg == inc.sat:
					r = r.union(u)
				default:
					r = r.intersect(u)
				}
			}
			for k, u := range ia.terms {
				if u.pkg == t.pkg {
					add(a[k])
				}
			}
			for k, u := range ib.terms {
				if u.pkg == t.pkg {
					add(b[k])
				}
			}
			out[i] = r
		}
	default:
		for i, t := range inc.terms {
			out[i] = x.fromBits(t.pkg, t.set)
		}
	}
	x.terms[id] = out
	return out
}

// required is the versions of package d that every one of reqs allows.
func (x *symbols) required(d int, reqs []Requirement) vrange {
	r := fullRange()
	for _, q := range reqs {
		r = r.intersect(x.constraint(d, q))
	}
	return r
}

// constraint is the versions of package d a requirement allows: its
// constraint read as ranges, or, for a form constraintRange does not
// read, the versions it allows as ranges over what exists.
func (x *symbols) constraint(d int, q Requirement) vrange {
	if q.Constraint == nil {
		return fullRange()
	}
	text := q.Constraint.String()
	c, ok := x.cons[text]
	if !ok {
		c.r, c.ok = constraintRange(text)
		x.cons[text] = c
	}
	if c.ok {
		return c.r
	}
	return x.fromBits(d, x.s.cat.pkgs[d].allows(q))
}

// releasesOf lists the release versions of package p, ascending.
func (x *symbols) releasesOf(p int) []*semver.Version {
	if rs, ok := x.releases[p]; ok {
		return rs
	}
	var rs []*semver.Version
	for _, v := range x.s.cat.pkgs[p].versions {
		if v.Prerelease() == "" {
			rs = append(rs, v)
		}
	}
	x.releases[p] = rs
	return rs
}

// fromBits writes the release versions of a set as ranges over the
// release versions that exist, as pub's package lister bounds the versions
// of a package that share a dependency: a run of versions is >=FIRST
// <NEXT, without a lower bound from the first version that exists and
// without an upper bound to the last. That is how the versions of a
// depender read (a set of versions the solver tried, not a range anyone
// wrote).
func (x *symbols) fromBits(p int, s set) vrange {
	pk := x.s.cat.pkgs[p]
	var in []bool
	var rel []*semver.Version
	for i, v := range pk.versions {
		if v.Prerelease() == "" {
			rel = append(rel, v)
			in = append(in, s != nil && s.has(i))
		}
	}
	var out vrange
	for i := 0; i < len(rel); i++ {
		if !in[i] {
			continue
		}
		j := i
		for j+1 < len(rel) && in[j+1] {
			j++
		}
		var iv interval
		if i > 0 {
			iv.lo = bound{v: rel[i], incl: true}
		}
		if j+1 < len(rel) {
			iv.hi = bound{v: rel[j+1], incl: false}
		}
		out = append(out, iv)
		i = j
	}
	return out
}

// write renders r, the versions a term allows, for package p in the
// constraint language, with the prereleases pos holds named one by one
// (r speaks of releases only), and whether every bound in it is one a
// constraint wrote; "" when the text would not allow exactly the versions
// in pos.
func (x *symbols) write(p int, r vrange, pos set) (string, bool) {
	pk := x.s.cat.pkgs[p]
	n := pk.n()
	r = r.onReleases().simplify(x.releasesOf(p))
	written, other := r.written()
	if written == 0 {
		// Ranges over what exists, as the depender's versions: listing
		// them says the same, more plainly.
		return "", false
	}
	text := r.String()
	if len(r) == 0 {
		text = ""
	}
	for i, v := range pk.versions {
		if v.Prerelease() != "" && pos.has(i) {
			if text != "" {
				text += " || "
			}
			text += v.String()
		}
	}
	if text == "" {
		if pos.count(n) == 0 {
			return "(no versions)", false
		}
		return "", false
	}
	c, err := semver.NewConstraint(text)
	if err != nil {
		return "", false
	}
	for i, v := range pk.versions {
		if c.Check(v) != pos.has(i) {
			return "", false
		}
	}
	return text, other == 0
}
