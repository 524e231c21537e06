package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/bluegreen"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release"
)

// --strategy takes blue-green only, and blue-green refuses
// --rollback-on-failure (--atomic) (it adds nothing), before reading anything, in upgrade and diff upgrade.
func TestUpgradeStrategyUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--strategy", "canary"}, `--strategy "canary": give blue-green`},
		{[]string{"--strategy", "blue-green", "--atomic"}, "--rollback-on-failure (--atomic) adds nothing to --strategy blue-green"},
		{[]string{"--strategy", "blue-green", "--rollback-on-failure"}, "--rollback-on-failure (--atomic) adds nothing to --strategy blue-green"},
	} {
		for _, cmd := range [][]string{{"upgrade"}, {"diff", "upgrade"}} {
			code, _, errs := run(t, append(append(cmd, "shop", "./shop"), tt.args...)...)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Errorf("%v %v: exit %d: %s, want %q", cmd, tt.args, code, errs, tt.want)
			}
		}
	}
}

func TestPrintBlueGreen(t *testing.T) {
	var b bytes.Buffer
	printBlueGreen(&b, "web", &bluegreen.State{Name: "shop", Live: "green", Spare: "blue", Services: []string{"shop", "shop-admin"}, Revision: 3}, "switched to")
	want := `Blue-green app "shop" in namespace "web" switched to green (release shop-green, revision 3)
Stable Services: shop, shop-admin
Spare: shop-blue (bundle rollback shop switches back; bundle prune shop removes it)
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printBlueGreen(&b, "web", &bluegreen.State{Name: "shop", Live: "blue", Services: []string{"shop"}, Revision: 1}, "switched to")
	if !strings.HasSuffix(b.String(), "Spare: none\n") {
		t.Errorf("without a spare:\n%s", b.String())
	}
}

func TestPrintBlueGreenPlan(t *testing.T) {
	var b bytes.Buffer
	printBlueGreenPlan(&b, "web", &bluegreen.State{Name: "shop", Live: "blue", NewClaims: []string{"database on web/db"}})
	want := `Blue-green app "shop" in namespace "web": shop-blue comes up; once ready, the stable Services select it.
First, the app's router makes its claims: database on web/db.
The changes to shop-blue:

`
	if b.String() != want {
		t.Errorf("first colour: got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printBlueGreenPlan(&b, "web", &bluegreen.State{Name: "shop", Live: "green", Spare: "blue"})
	want = `Blue-green app "shop" in namespace "web": shop-green comes up beside the live colour; once ready, the stable Services switch to it and shop-blue stays as the spare.
The changes to shop-green:

`
	if b.String() != want {
		t.Errorf("switch: got\n%s\nwant\n%s", b.String(), want)
	}
}

// status shows the colour the stable Services select as LIVE, and says
// when the router's record says another; when they do not all select one
// colour, LIVE says so with the fix.
func TestPrintStatusBlueGreenTruth(t *testing.T) {
	st := &bluegreen.Status{Status: &release.Status{Details: &release.Details{Release: &release.Release{Name: "shop", Namespace: "web"}}, Drifted: -1},
		BlueGreen: &bluegreen.State{Name: "shop", Live: "green", Spare: "blue", Record: &bluegreen.State{Name: "shop", Live: "blue", Spare: "green"}}}
	var b bytes.Buffer
	if err := printStatus(&b, st, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"LIVE:       shop-green (blue-green: these Services select it; the router's record says shop-blue: bundle upgrade, rollback or prune shop records what they select)\n",
		"SPARE:      shop-blue (bundle rollback shop",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	st.BlueGreenError = errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Run: []string{"rollback", "shop", "-n", "web"}}}, "blue-green app %q: its stable Services do not all select one colour", "shop")
	b.Reset()
	if err := printStatus(&b, st, false); err != nil {
		t.Fatal(err)
	}
	if want := "LIVE:       unknown: blue-green app \"shop\": its stable Services do not all select one colour: run bundle rollback shop -n web\n"; !strings.Contains(b.String(), want) || strings.Contains(b.String(), "SPARE") {
		t.Errorf("status with split Services:\n%s\nwant %q and no SPARE", b.String(), want)
	}
}
