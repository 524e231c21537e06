package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/release"
)

// --strategy takes blue-green only, and blue-green refuses the flags it
// does not support yet, before reading anything.
func TestUpgradeStrategyUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--strategy", "canary"}, `--strategy "canary": give blue-green`},
		{[]string{"--strategy", "blue-green", "--dry-run"}, "--dry-run is not supported with --strategy blue-green"},
		{[]string{"--strategy", "blue-green", "--diff"}, "--diff is not supported with --strategy blue-green"},
		{[]string{"--strategy", "blue-green", "--atomic"}, "--atomic is not supported with --strategy blue-green"},
	} {
		code, _, errs := run(t, append([]string{"upgrade", "shop", "./shop"}, tt.args...)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d: %s, want %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestPrintBlueGreen(t *testing.T) {
	var b bytes.Buffer
	printBlueGreen(&b, "web", &release.BlueGreen{Name: "shop", Live: "green", Spare: "blue", Services: []string{"shop", "shop-admin"}, Revision: 3}, "switched to")
	want := `Blue-green app "shop" in namespace "web" switched to green (release shop-green, revision 3)
Stable Services: shop, shop-admin
Spare: shop-blue (bundle rollback shop switches back; bundle prune shop removes it)
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printBlueGreen(&b, "web", &release.BlueGreen{Name: "shop", Live: "blue", Services: []string{"shop"}, Revision: 1}, "switched to")
	if !strings.HasSuffix(b.String(), "Spare: none\n") {
		t.Errorf("without a spare:\n%s", b.String())
	}
}
