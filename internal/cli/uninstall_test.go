package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/release"
)

// uninstall says which claims and Secrets the data was initialised with it
// kept, with the commands that delete them in their namespace (the claims
// first), which it deleted, and, in a dry run, what it would do.
func TestPrintUninstalled(t *testing.T) {
	rel := &release.Release{Name: "wiki", Namespace: "team"}
	two := []release.VolumeClaim{{Namespace: "team", Name: "data-wiki-db-0", StatefulSet: "wiki-db"}, {Namespace: "team", Name: "wiki-files"}}
	secrets := []release.DataSecret{{Namespace: "team", Name: "wiki-db"}, {Namespace: "team", Name: "wiki-mediawiki"}}
	for _, tt := range []struct {
		name string
		res  release.Uninstalled
		want string
	}{
		{"no claims", release.Uninstalled{Release: rel}, "Uninstalled \"wiki\" from namespace \"team\"\n"},
		{"kept", release.Uninstalled{Release: rel, Kept: two},
			"Uninstalled \"wiki\" from namespace \"team\"\n" +
				"Kept 2 claims with the data: data-wiki-db-0, wiki-files\n" +
				"Delete them with: kubectl delete pvc -n team data-wiki-db-0 wiki-files\n"},
		{"kept one in another namespace", release.Uninstalled{Release: rel, Kept: []release.VolumeClaim{{Namespace: "data", Name: "files"}}},
			"Uninstalled \"wiki\" from namespace \"team\"\n" +
				"Kept 1 claim with the data: data/files\n" +
				"Delete it with: kubectl delete pvc -n data files\n"},
		{"deleted", release.Uninstalled{Release: rel, Deleted: two},
			"Uninstalled \"wiki\" from namespace \"team\"\n" +
				"Deleted 2 claims with the data: data-wiki-db-0, wiki-files\n"},
		{"dry run keeping", release.Uninstalled{Release: rel, Kept: two, DryRun: true},
			"Would uninstall \"wiki\" from namespace \"team\"\n" +
				"Would keep 2 claims with the data (--delete-data deletes them): data-wiki-db-0, wiki-files\n"},
		{"dry run deleting", release.Uninstalled{Release: rel, Deleted: two[:1], DryRun: true},
			"Would uninstall \"wiki\" from namespace \"team\"\n" +
				"Would delete 1 claim with the data: data-wiki-db-0\n"},
		{"kept with secrets", release.Uninstalled{Release: rel, Kept: two, KeptSecrets: secrets},
			"Uninstalled \"wiki\" from namespace \"team\"\n" +
				"Kept 2 claims with the data: data-wiki-db-0, wiki-files\n" +
				"Kept 2 Secrets the data was initialised with: wiki-db, wiki-mediawiki\n" +
				"Delete them with: kubectl delete pvc -n team data-wiki-db-0 wiki-files && kubectl delete secret -n team wiki-db wiki-mediawiki\n"},
		{"kept one secret in another namespace", release.Uninstalled{Release: rel, Kept: two[:1], KeptSecrets: []release.DataSecret{{Namespace: "data", Name: "db"}}},
			"Uninstalled \"wiki\" from namespace \"team\"\n" +
				"Kept 1 claim with the data: data-wiki-db-0\n" +
				"Kept 1 Secret the data was initialised with: data/db\n" +
				"Delete them with: kubectl delete pvc -n team data-wiki-db-0\n" +
				"Delete them with: kubectl delete secret -n data db\n"},
		{"deleted with secrets", release.Uninstalled{Release: rel, Deleted: two, DeletedSecrets: secrets[:1]},
			"Uninstalled \"wiki\" from namespace \"team\"\n" +
				"Deleted 2 claims with the data: data-wiki-db-0, wiki-files\n" +
				"Deleted 1 Secret the data was initialised with: wiki-db\n"},
		{"dry run keeping secrets", release.Uninstalled{Release: rel, Kept: two[:1], KeptSecrets: secrets[:1], DryRun: true},
			"Would uninstall \"wiki\" from namespace \"team\"\n" +
				"Would keep 1 claim with the data (--delete-data deletes it): data-wiki-db-0\n" +
				"Would keep 1 Secret the data was initialised with (--delete-data deletes it): wiki-db\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printUninstalled(&b, &tt.res)
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

// bundle uninstall takes several names, as helm 4 (and 3) does: each is
// uninstalled in order with the same flags, and the first that fails
// stops the command, those before it uninstalled, those after it left.
func TestUninstallSeveral(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out      string
		errs     string
		gone     []string
		left     []string
		historic []string // uninstalled, history kept
	}{
		{
			args: []string{"uninstall", "wiki", "blog"}, out: "Uninstalled \"wiki\" from namespace \"team\"\nUninstalled \"blog\" from namespace \"team\"\n",
			gone: []string{"wiki", "blog"},
		},
		{
			args: []string{"uninstall", "blog", "nope", "wiki"}, code: ExitError,
			out:  "Uninstalled \"blog\" from namespace \"team\"\n",
			errs: "Error: release \"nope\" not found in namespace \"team\" (see bundle list -A)\n",
			gone: []string{"blog"}, left: []string{"wiki"},
		},
		{
			args: []string{"uninstall", "--dry-run", "wiki", "blog"}, out: "Would uninstall \"wiki\" from namespace \"team\"\nWould uninstall \"blog\" from namespace \"team\"\n",
			left: []string{"wiki", "blog"},
		},
		{
			args: []string{"uninstall", "wiki", "blog", "--keep-history"}, out: "Uninstalled \"wiki\" from namespace \"team\"\nUninstalled \"blog\" from namespace \"team\"\n",
			historic: []string{"wiki", "blog"},
		},
		{args: []string{"uninstall"}, code: ExitUsage, errs: "Error: expected NAME [NAME...], got 0 arguments (see bundle uninstall --help)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := fixture(t)
			code, out, errs := runWith(t, f, tt.args...)
			if code != tt.code || out != tt.out || errs != tt.errs {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, %q, %q", code, out, errs, tt.code, tt.out, tt.errs)
			}
			_, all, _ := runWith(t, f, "list", "-q", "--all")
			_, listed, _ := runWith(t, f, "list", "-q", "--deployed", "--failed")
			_, uninstalled, _ := runWith(t, f, "list", "-q", "--uninstalled")
			for _, n := range tt.gone {
				if slices.Contains(strings.Fields(all), n) {
					t.Errorf("%s not uninstalled: %q", n, all)
				}
			}
			for _, n := range tt.left {
				if !slices.Contains(strings.Fields(listed), n) {
					t.Errorf("%s uninstalled: %q", n, listed)
				}
			}
			for _, n := range tt.historic {
				if !slices.Contains(strings.Fields(uninstalled), n) {
					t.Errorf("%s: history not kept: %q", n, uninstalled)
				}
			}
		})
	}
}
