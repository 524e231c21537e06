// Package resolve chooses one version of every bundle a root requires,
// directly or transitively, so that every constraint in the graph holds,
// and explains in plain words when no choice can.
//
// Semantics: one version per bundle name across the whole graph (Helm's
// named templates share one namespace, so two versions of one chart cannot
// coexist in a release); among the versions that satisfy every constraint,
// the newest is preferred, unless Options.Prefer names one that still
// fits (for that bundle in that repository). Prereleases are chosen only when a constraint names one
// (Masterminds/semver rules).
//
// # The solver
//
// The solver is PubGrub, as Dart's pub describes it in doc/solver.md, and
// its files follow pub's vocabulary:
//
//   - resolve.go: the API. Solve takes a Source (a bundle's versions, one
//     version's requirements), the root requirements and Options, and
//     returns a Solution or a *NoSolutionError.
//   - term.go: terms, "foo is (not) selected at a version in S", and how a
//     term relates to what the partial solution allows: satisfied,
//     contradicted or neither.
//   - incompatibility.go: incompatibilities, sets of terms that must not
//     all hold, with their causes (the root, a dependency, no versions
//     left, a bundle not found, one name from two repositories, or a
//     conflict they were learned from), and
//     the resolution rule that derives a prior cause.
//   - partial_solution.go: the partial solution, an ordered list of
//     assignments (decisions and derivations) at decision levels, with
//     the relation of an incompatibility to it, the satisfier search, and
//     backtracking.
//   - solver.go: pub's main loop and its three parts: unit propagation
//     (propagate), conflict resolution (resolveConflict) and decision
//     making (choosePackageVersion).
//   - explain.go: the derivation graph of the terminal incompatibility
//     written as sentences, as pub reports failures (the repository rule
//     is left implicit: "bar requires shared from R1 and foo requires
//     shared from R2, so bar is incompatible with foo"), with version sets
//     written as the constraint a requirement wrote when one matches, and
//     otherwise in the constraint language from the ranges the derivation
//     combined (symbols.go, ranges.go): the complement of ^1.2.0 is
//     "<1.2.0 || >=2.0.0", whichever versions exist; and with the
//     prereleases a range leaves out named wherever that is why no
//     version matched.
//
// What the solver knows of bundles and how it goes faster than pub's
// description live apart, behind the same calls:
//
//   - packages.go: the catalog of bundles met, with the versions and
//     requirements read once through the Source. A bundle is a name in a
//     repository, as pub's package is a name with a source and a
//     description: one name met from two repositories is two packages,
//     and the incompatibility "a from R1 is incompatible with a from R2"
//     keeps both from being selected, so that a version requiring a name
//     from another repository is a conflict like any other, learned from
//     and backtracked around.
//   - bits.go: version sets as bitsets over the versions a bundle has,
//     with one extra element, "not selected", so that every term operation
//     is word-wise boolean arithmetic.
//   - constraint.go: a Masterminds constraint turned into such a set, with
//     caches, and why it reads the comparators itself.
//   - ranges.go: version sets as the constraint language sees them
//     (unions of intervals over semver precedence, as pub's
//     VersionConstraint), for explanations only; symbols.go replays a
//     derivation's set operations on them.
//   - watch.go: the watch index, which tells unit propagation which
//     incompatibilities a new assignment may have made almost satisfied
//     without looking at all of them (two watched terms, blockers, buckets
//     by version).
//
// The core is pure and sequential: it does I/O only through its Source,
// from the goroutine that called Solve, checks the context it is given
// between decisions and keeps none. Prefetch (prefetch.go) is a Source
// adapter that lists versions ahead of the solver, concurrently.
//
// As in pub, versions of one bundle with the same requirement on another
// share one dependency incompatibility, and a version whose requirements
// are already violated is not decided (its incompatibilities are
// propagated first instead). The prior cause joins the two terms on the
// satisfier's package, which is pub's "add the inverse of the satisfier's
// difference with the term" in another form.
package resolve
