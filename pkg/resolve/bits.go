package resolve

import "math/bits"

// set is an exact set over the versions a source lists for one bundle, plus
// one extra element, "not selected", at index n. A positive term ("foo is
// selected at a version in S") is S; a negative term ("foo is not selected
// at a version in S") is the complement of S, which includes "not
// selected". With that encoding every operation of the solver's term algebra
// is a word-wise boolean operation.
type set []uint64

func words(n int) int { return (n + 1 + 63) / 64 }

func singleSet(n, i int) set {
	s := make(set, words(n))
	s[i/64] |= 1 << (i % 64)
	return s
}

// anyVersion is every one of n versions, without "not selected": the
// positive term "selected at some version".
func anyVersion(n int) set {
	s := make(set, words(n))
	for i := range s {
		s[i] = ^uint64(0)
	}
	s.trim(n)
	s[n/64] &^= 1 << (n % 64)
	return s
}

// trim clears the bits past index n.
func (s set) trim(n int) {
	last := (n + 1) % 64
	if last != 0 {
		s[len(s)-1] &= (1 << last) - 1
	}
}

func (s set) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

func (s set) and(t set) set {
	out := make(set, len(s))
	for i := range s {
		out[i] = s[i] & t[i]
	}
	return out
}

func (s set) or(t set) set {
	out := make(set, len(s))
	for i := range s {
		out[i] = s[i] | t[i]
	}
	return out
}

// not complements s within n versions plus "not selected".
func (s set) not(n int) set {
	out := make(set, len(s))
	for i := range s {
		out[i] = ^s[i]
	}
	out.trim(n)
	return out
}

func (s set) subsetOf(t set) bool {
	for i := range s {
		if s[i]&^t[i] != 0 {
			return false
		}
	}
	return true
}

func (s set) disjoint(t set) bool {
	for i := range s {
		if s[i]&t[i] != 0 {
			return false
		}
	}
	return true
}

func (s set) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

func (s set) equal(t set) bool {
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// isFull reports whether s holds every version and "not selected".
func (s set) isFull(n int) bool { return s.not(n).empty() }

// positive reports whether s excludes "not selected": a term that requires
// the bundle to be selected.
func (s set) positive(n int) bool { return !s.has(n) }

// count returns how many versions (not "not selected") s holds.
func (s set) count(n int) int {
	c := 0
	for _, w := range s {
		c += bits.OnesCount64(w)
	}
	if s.has(n) {
		c--
	}
	return c
}

// highest returns the greatest version index in s, or -1.
func (s set) highest(n int) int {
	for i := len(s) - 1; i >= 0; i-- {
		w := s[i]
		if i == n/64 {
			w &^= 1 << (n % 64)
		}
		if w != 0 {
			return i*64 + 63 - bits.LeadingZeros64(w)
		}
	}
	return -1
}

// andWith intersects s with t in place.
func (s set) andWith(t set) {
	for i := range s {
		s[i] &= t[i]
	}
}

// orWith unions t into s in place.
func (s set) orWith(t set) {
	for i := range s {
		s[i] |= t[i]
	}
}
