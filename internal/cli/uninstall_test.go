package cli

import (
	"bytes"
	"testing"

	"github.com/bundlesh/bundle/pkg/release"
)

// uninstall says which claims and Secrets the data was initialised with it
// kept, with the commands that delete them in their namespace (the claims
// first), which it deleted, and, in a dry run, what it would do.
func TestPrintUninstalled(t *testing.T) {
	rel := &release.Release{Name: "wiki", Namespace: "team"}
	two := []release.Claim{{Namespace: "team", Name: "data-wiki-db-0", StatefulSet: "wiki-db"}, {Namespace: "team", Name: "wiki-files"}}
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
		{"kept one in another namespace", release.Uninstalled{Release: rel, Kept: []release.Claim{{Namespace: "data", Name: "files"}}},
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
