package repo

import (
	"context"
	"strings"
)

// SearchResult is one bundle found by Search: its newest version.
type SearchResult struct {
	Ref         string // REPO/NAME
	Version     string
	AppVersion  string
	Description string
}

// Search lists the bundles of the stable catalog and of the configured
// repositories (from their cached indexes) whose name or description
// contains term (case-insensitive); an empty term lists everything.
func Search(ctx context.Context, cfg *Config, term string) ([]SearchResult, error) {
	term = strings.ToLower(term)
	match := func(name, desc string) bool {
		return term == "" || strings.Contains(strings.ToLower(name), term) || strings.Contains(strings.ToLower(desc), term)
	}
	var out []SearchResult
	cat := Stable()
	names, err := cat.Names()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b := cat.byName[n]
		if match(n, b.Description) {
			out = append(out, SearchResult{Ref: cat.name + "/" + n, Version: b.Version.String(), AppVersion: b.AppVersion, Description: b.Description})
		}
	}
	for _, e := range cfg.Repositories {
		h, err := NewHTTP(e.Name, e.URL, HTTPOptions{IndexFile: cachePath(cfg.cacheDir, e.Name)})
		if err != nil {
			return nil, err
		}
		idx, err := h.index(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range idx.names() {
			entries := idx.entries(n)
			if len(entries) == 0 || !match(n, entries[0].Description) {
				continue
			}
			newest := entries[0] // written newest first
			out = append(out, SearchResult{Ref: e.Name + "/" + n, Version: newest.Version, AppVersion: newest.AppVersion, Description: newest.Description})
		}
	}
	return out, nil
}
