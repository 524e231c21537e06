package repo

import (
	"context"
	"strings"
)

// SearchResult is one bundle found by Search: its newest version, or one
// of its versions (SearchOptions.Versions).
type SearchResult struct {
	Ref         string // REPO/NAME
	Version     string
	AppVersion  string
	Description string
}

// SearchOptions say what Search looks for.
type SearchOptions struct {
	// Term is matched against names and descriptions (case-insensitive);
	// empty matches everything.
	Term string
	// Versions lists every version of each bundle found, newest first
	// (helm search repo --versions), instead of the newest only. The
	// stable catalog holds one version of each.
	Versions bool
}

// Search lists the bundles of the stable catalog and of the configured
// repositories (from their cached indexes) whose name or description
// contains opts.Term.
func Search(ctx context.Context, cfg *Config, opts SearchOptions) ([]SearchResult, error) {
	term := strings.ToLower(opts.Term)
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
			if !opts.Versions {
				entries = entries[:1] // sorted newest first when the index was read
			}
			for _, v := range entries {
				out = append(out, SearchResult{Ref: e.Name + "/" + n, Version: v.Version, AppVersion: v.AppVersion, Description: v.Description})
			}
		}
	}
	return out, nil
}
