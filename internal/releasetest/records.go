package releasetest

import (
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	hrelease "helm.sh/helm/v4/pkg/release"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
)

// Records is a configuration's release storage as tests read it: v1
// releases (Helm 4's storage hands out release.Releaser).
type Records struct{ s *storage.Storage }

// RecordsOf reads cfg's release storage.
func RecordsOf(cfg *action.Configuration) Records { return Records{cfg.Releases} }

// StorageRecords reads storage s.
func StorageRecords(s *storage.Storage) Records { return Records{s} }

// Get returns revision version of release name.
func (r Records) Get(name string, version int) (*helmrelease.Release, error) {
	return one(r.s.Get(name, version))
}

// Last returns the last revision of release name.
func (r Records) Last(name string) (*helmrelease.Release, error) { return one(r.s.Last(name)) }

// Deployed returns the deployed revision of release name.
func (r Records) Deployed(name string) (*helmrelease.Release, error) { return one(r.s.Deployed(name)) }

// History returns the stored revisions of release name.
func (r Records) History(name string) ([]*helmrelease.Release, error) { return all(r.s.History(name)) }

// ListReleases returns every stored revision.
func (r Records) ListReleases() ([]*helmrelease.Release, error) { return all(r.s.ListReleases()) }

// ListDeployed returns the deployed revisions.
func (r Records) ListDeployed() ([]*helmrelease.Release, error) { return all(r.s.ListDeployed()) }

func all(rs []hrelease.Releaser, err error) ([]*helmrelease.Release, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*helmrelease.Release, len(rs))
	for i, x := range rs {
		if out[i], err = one(x, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func one(r hrelease.Releaser, err error) (*helmrelease.Release, error) {
	if err != nil {
		return nil, err
	}
	rel, ok := r.(*helmrelease.Release)
	if !ok {
		return nil, fmt.Errorf("a stored release of type %T", r)
	}
	return rel, nil
}
