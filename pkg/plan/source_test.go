package plan

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/repo"
)

// --devel lets a bundle whose only version is a prerelease be chosen when
// no --version is given, as helm's --devel (the constraint >0.0.0-0).
func TestPrepareDevel(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"beta/Chart.yaml": "apiVersion: v2\nname: beta\nversion: 2.0.0-rc.1\n"})
	set := repo.NewSet(map[string]repo.Repository{"dev": repo.NewCatalog("dev", os.DirFS(dir))})
	ctx := context.Background()

	want := "dev/beta has no stable version (available: 2.0.0-rc.1)"
	var nv *errdefs.NoVersionError
	if _, err := Make(ctx, set, Source{Reference: "dev/beta"}); err == nil || err.Error() != want || !errors.As(err, &nv) || !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("without --devel: error\n got  %v\n want %s", err, want)
	}
	p, err := Make(ctx, set, Source{Reference: "dev/beta", Devel: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Root.Bundle.Version.String(); got != "2.0.0-rc.1" {
		t.Errorf("--devel chose %s", got)
	}
	// A --version given wins over --devel, as in Helm.
	caret1, _ := semver.NewConstraint("^1")
	if _, err := Make(ctx, set, Source{Reference: "dev/beta", Devel: true, Version: caret1}); err == nil || !strings.Contains(err.Error(), "satisfies ^1") {
		t.Errorf("--devel --version ^1: error %v", err)
	}
}
