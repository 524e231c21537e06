package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/bundlesh/bundle/pkg/bluegreen"
)

// The printers blue-green operations share: bundle upgrade --strategy
// blue-green, bundle diff upgrade of a blue-green app, and rollback and
// prune of one.

// printBlueGreenPlan says what a blue-green upgrade's diff is of: the
// colour it installs or upgrades, the claims made first, and the switch.
func printBlueGreenPlan(w io.Writer, ns string, next *bluegreen.State) {
	if next.Spare == "" {
		fmt.Fprintf(w, "Blue-green app %q in namespace %q: %s comes up; once ready, the stable Services select it", next.Name, ns, next.LiveRelease())
	} else {
		fmt.Fprintf(w, "Blue-green app %q in namespace %q: %s comes up beside the live colour; once ready, the stable Services switch to it and %s stays as the spare", next.Name, ns, next.LiveRelease(), next.SpareRelease())
	}
	fmt.Fprintln(w, ".")
	if len(next.NewClaims) > 0 {
		fmt.Fprintf(w, "First, the app's router makes its claims: %s.\n", strings.Join(next.NewClaims, ", "))
	}
	fmt.Fprintf(w, "The changes to %s:\n\n", next.LiveRelease())
}

// printReconciled says what a blue-green operation found wrong with the
// app's record and recorded, if anything.
func printReconciled(w io.Writer, st *bluegreen.State) {
	if st != nil && st.Reconciled != "" {
		fmt.Fprintf(w, "warning: %s\n", st.Reconciled)
	}
}

// printBlueGreen says which colour a blue-green app now serves.
func printBlueGreen(w io.Writer, ns string, st *bluegreen.State, verb string) {
	fmt.Fprintf(w, "Blue-green app %q in namespace %q %s %s (release %s, revision %d)\n", st.Name, ns, verb, st.Live, st.LiveRelease(), st.Revision)
	fmt.Fprintf(w, "Stable Services: %s\n", strings.Join(st.Services, ", "))
	if st.Spare != "" {
		fmt.Fprintf(w, "Spare: %s (bundle rollback %s switches back; bundle prune %s removes it)\n", st.SpareRelease(), st.Name, st.Name)
	} else {
		fmt.Fprintf(w, "Spare: none\n")
	}
}
