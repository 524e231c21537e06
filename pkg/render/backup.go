package render

import (
	"fmt"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// BackupScripts is the backup: of a data bundle's bundle.yaml rendered for
// one of its releases: what a backup or restore Job runs.
type BackupScripts struct {
	// Format is the dump's format (bundle.FormatSQL, bundle.FormatRDB).
	Format string
	// Image is the image the scripts run in.
	Image string
	// Dump and Restore are the scripts, run with sh.
	Dump, Restore string
	// AdminKey is the key of the administrator's password in the Secret of
	// the bundle's output passwordSecret.
	AdminKey string
	// Claims is the claim output that scopes one app's backup, if any.
	Claims string
}

// Backup renders the backup: of p's root bundle with vals (as Values
// returned them) and the release, as Outputs renders its outputs. A bundle
// without backup: is errdefs.ErrUnsupported.
func Backup(p *plan.Plan, vals map[string]any, rel ReleaseOptions) (*BackupScripts, error) {
	b := p.Root.Bundle.File.Backup
	if b == nil {
		return nil, fmt.Errorf("%s declares no backup (it is not a data bundle): %w", p.Root.Bundle.Name, errdefs.ErrUnsupported)
	}
	// Not names of outputs (which have no -), nor partials (_NAME: Helm
	// renders them to nothing).
	const image, dump, restore = "backup-image", "backup-dump", "backup-restore"
	outs, err := renderTemplates(p, deepCopyMap(vals), rel, 0, externals(p, vals), []bundle.Output{
		{Name: image, Template: b.Image}, {Name: dump, Template: b.DumpScript}, {Name: restore, Template: b.RestoreScript},
	})
	if err != nil {
		return nil, fmt.Errorf("rendering the backup scripts of %s: %w", p.Root.Bundle.Name, err)
	}
	o := outs[""]
	return &BackupScripts{Format: b.Format, Image: o[image], Dump: o[dump] + "\n", Restore: o[restore] + "\n", AdminKey: b.AdminKey, Claims: b.Claims}, nil
}
