package cli

import (
	"strings"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/plan"
)

// bundle template reads no cluster: --bind, and bundle.bind in values,
// are refused in one line.
func TestTemplateRefusesBind(t *testing.T) {
	for _, args := range [][]string{
		{"template", "stable/mediawiki", "--bind", "database=team-db"},
		{"template", "stable/mediawiki", "--set", "bundle.bind.database=team-db"},
	} {
		code, out, errs := run(t, args...)
		if code == 0 || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "database=team-db") || !strings.Contains(errs, "bundle diff install") && !strings.Contains(errs, "bind with install, upgrade or diff") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// A provider's status lists its consumers; its uninstall is refused,
// naming them with the commands that free it, unless --force.
func TestProviderStatusAndUninstall(t *testing.T) {
	f := releasetest.New("data")
	f.Store(t, releasetest.Release("team-db", "data", 1, rcommon.StatusDeployed, "mariadb", "1.0.2", "11.4"))
	wiki := releasetest.Release("wiki", "team", 1, rcommon.StatusDeployed, "mediawiki", "1.1.2", "1.43")
	wiki.Chart.Metadata.Annotations = map[string]string{
		plan.ResolvedAnnotation:   `[{"instance":"database","bundle":"mariadb","version":"1.0.2","repository":"stable","bound":"data/team-db","constraint":"^1.0.0"}]`,
		plan.RepositoryAnnotation: "stable",
	}
	f.Store(t, wiki)

	_, out, errs := runWith(t, f, "status", "team-db")
	if !strings.Contains(out, "CONSUMERS") || !strings.Contains(out, "team/wiki  database  mariadb ^1.0.0") {
		t.Errorf("status:\n%s%s", out, errs)
	}
	code, _, errs := runWith(t, f, "uninstall", "team-db")
	want := `Error: release "team-db" is bound by 1 release: team/wiki (database): run bundle upgrade wiki stable/mediawiki -n team --unbind database, or run bundle uninstall wiki -n team, or use --force`
	if code == 0 || strings.TrimSpace(errs) != want {
		t.Errorf("uninstall: exit %d\n got %s\nwant %s", code, errs, want)
	}
	if code, _, errs := runWith(t, f, "uninstall", "team-db", "--force"); code != 0 {
		t.Errorf("uninstall --force: exit %d: %s", code, errs)
	}
}
