package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
			return nil, &errdefs.OptionError{Option: "URL", Value: clean, Msg: "holds a user name or password, which would be published in index.yaml: drop them (clients keep theirs with their repository settings)"}
		}
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, &errdefs.OptionError{Option: "URL", Value: baseURL, Msg: "give an http(s) address, e.g. https://charts.example.com/stable"}
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
//
// A large index is not parsed as one document: sigs.k8s.io/yaml would hold
// a generic tree of it several times its size (11 bytes per byte of index
// at 16 MB). An index as Helm and bundle write it (block style, entries:
// at the top level, one key per chart under it) is cut into one small
// document per chart, parsed in turn, so that memory beyond the index's
// bytes stays under about twice its size. Any other layout, and any chart
// whose piece does not parse alone, is parsed whole, as before: both ways
// read the same index the same way.
func ParseIndex(name string, data []byte) (*Index, error) {
	idx, ok := parseIndexPieces(data)
	if !ok {
		var err error
		if idx, err = parseIndexWhole(name, data); err != nil {
			return nil, err
		}
	}
	if idx.APIVersion != "v1" {
		return nil, fmt.Errorf("%s: unsupported index apiVersion %q (want v1)", name, idx.APIVersion)
	}
	if idx.Entries == nil {
		idx.Entries = map[string][]*IndexEntry{}
	}
	idx.sort()
	return idx, nil
}

func parseIndexWhole(name string, data []byte) (*Index, error) {
	var idx Index
	if err := sigsyaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: not a chart repository index: %v", name, err)
	}
	return &idx, nil
}

// parseIndexPieces parses an index laid out as Helm writes it, one chart
// at a time; ok is false when the layout is another, or a piece does not
// parse alone.
func parseIndexPieces(data []byte) (*Index, bool) {
	const entriesKey = "entries:"
	if !utf8.Valid(data) {
		return nil, false // the whole parse says where (comments too are checked)
	}
	var head []byte     // the index without the lines under entries:
	var pieces [][2]int // each chart's lines under entries:
	indent := -1        // the charts' keys' indentation
	inEntries, seenEntries := false, false
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data) - pos
		}
		line := data[pos : pos+end]
		next := pos + end + 1
		trimmed := bytes.TrimLeft(line, " ")
		blank := len(bytes.TrimSpace(trimmed)) == 0 || trimmed[0] == '#'
		depth := len(line) - len(trimmed)
		switch {
		case len(line) > 0 && (line[0] == '\t' || line[0] == '{' || line[0] == '[' || line[0] == '%' ||
			bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))):
			return nil, false // tabs, flow style (JSON), directives, documents
		case blank:
			if !inEntries {
				head = append(head, data[pos:min(next, len(data))]...)
			}
		case depth == 0:
			inEntries = string(bytes.TrimRight(line, " \r")) == entriesKey
			if inEntries && seenEntries {
				return nil, false // given twice: the whole parse decides
			}
			seenEntries = seenEntries || inEntries
			head = append(head, data[pos:min(next, len(data))]...)
		case !inEntries:
			head = append(head, data[pos:min(next, len(data))]...)
		default:
			if indent < 0 {
				indent = depth
			}
			switch {
			case depth < indent:
				return nil, false
			case depth == indent && trimmed[0] != '-':
				pieces = append(pieces, [2]int{pos, pos})
			case len(pieces) == 0:
				return nil, false
			}
			pieces[len(pieces)-1][1] = min(next, len(data))
		}
		pos = next
	}
	var idx Index
	if err := sigsyaml.Unmarshal(head, &idx); err != nil || idx.Entries != nil {
		return nil, false
	}
	if len(pieces) == 0 {
		return &idx, true
	}
	idx.Entries = make(map[string][]*IndexEntry, len(pieces))
	for _, p := range pieces {
		var m map[string][]*IndexEntry
		if err := sigsyaml.Unmarshal(data[p[0]:p[1]], &m); err != nil || len(m) != 1 {
			return nil, false
		}
		for k, v := range m {
			idx.Entries[k] = v
		}
	}
	return &idx, true
}
