package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Index is a Helm chart repository index (index.yaml, apiVersion v1): for
// each chart name, its versions with their archive URLs and digests.
type Index struct {
	APIVersion string                   `json:"apiVersion"`
	Entries    map[string][]*IndexEntry `json:"entries"`
	Generated  time.Time                `json:"generated"`
}

// IndexEntry is one chart version in an index.
type IndexEntry struct {
	APIVersion  string    `json:"apiVersion"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	AppVersion  string    `json:"appVersion,omitempty"`
	Description string    `json:"description,omitempty"`
	URLs        []string  `json:"urls"`
	Digest      string    `json:"digest"`
	Created     time.Time `json:"created"`
}

// indexEpoch stands for creation times, so that indexing the same packages
// always writes the same bytes.
var indexEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// IndexDir builds the index of the chart archives (*.tgz) in dir, as bundle
// repo index does. baseURL, when set, prefixes each archive's file name.
func IndexDir(dir, baseURL string) (*Index, error) {
	if baseURL != "" {
		if clean, had := bundle.StripCredentials(baseURL); had {
			return nil, errdefs.New(errdefs.ErrInvalid, "--url %s holds a user name or password, which would be published in index.yaml: drop them (clients give theirs to bundle repo add with --username and --password-stdin)", clean)
		}
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("--url %q: give an http(s) address, e.g. https://charts.example.com/stable", baseURL)
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return nil, err
	}
	idx := &Index{APIVersion: "v1", Entries: map[string][]*IndexEntry{}, Generated: indexEpoch}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		b, err := bundle.LoadArchive(data, p)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		u := filepath.Base(p)
		if baseURL != "" {
			u = strings.TrimSuffix(baseURL, "/") + "/" + u
		}
		for _, e := range idx.Entries[b.Name] {
			if e.Version == b.Version.String() {
				return nil, fmt.Errorf("%s: %s %s is already indexed from %s", p, b.Name, b.Version, e.URLs[0])
			}
		}
		idx.Entries[b.Name] = append(idx.Entries[b.Name], &IndexEntry{
			APIVersion: "v2", Name: b.Name, Version: b.Version.String(), AppVersion: b.AppVersion,
			Description: b.Description, URLs: []string{u}, Digest: hex.EncodeToString(sum[:]), Created: indexEpoch,
		})
	}
	idx.sort()
	return idx, nil
}

// sort orders each chart's versions newest first, as Helm does.
func (idx *Index) sort() {
	for _, list := range idx.Entries {
		sort.SliceStable(list, func(i, j int) bool {
			vi, ei := semver.NewVersion(list[i].Version)
			vj, ej := semver.NewVersion(list[j].Version)
			if ei != nil || ej != nil {
				return list[i].Version > list[j].Version
			}
			return vi.GreaterThan(vj)
		})
	}
}

// Marshal writes the index as YAML; map keys are sorted, so the bytes are
// deterministic.
func (idx *Index) Marshal() ([]byte, error) {
	return sigsyaml.Marshal(idx)
}

// ParseIndex reads an index.yaml. name is used in messages.
func ParseIndex(name string, data []byte) (*Index, error) {
	var idx Index
	if err := sigsyaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: not a chart repository index: %v", name, err)
	}
	if idx.APIVersion != "v1" {
		return nil, fmt.Errorf("%s: unsupported index apiVersion %q (want v1)", name, idx.APIVersion)
	}
	if idx.Entries == nil {
		idx.Entries = map[string][]*IndexEntry{}
	}
	idx.sort()
	return &idx, nil
}
