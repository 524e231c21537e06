package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
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
		data, err := bundle.ReadArchiveFile(p)
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
// at the top level, one plain key per chart under it) is cut into one
// small document per chart, parsed in turn, so that memory beyond the
// index's bytes stays under about twice its size. The pieces are used only
// when they are sure to read as the whole document does (see
// parseIndexPieces); any other index is parsed whole, so both ways accept
// the same indexes and read them the same way.
func ParseIndex(name string, data []byte) (*Index, error) {
	idx, ok := parseIndexPieces(data)
	if !ok {
		var err error
		if idx, err = parseIndexWhole(name, data); err != nil {
			return nil, err
		}
	}
	return checkIndex(name, idx)
}

// checkIndex refuses an index of another apiVersion and sorts its
// versions.
func checkIndex(name string, idx *Index) (*Index, error) {
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

// maxPieceDepth bounds how deep a piece may nest: the YAML and JSON
// parsers refuse documents nested more than 10,000 deep, and a piece is
// one level less deep alone than in the whole document.
const maxPieceDepth = 5000

// parseIndexPieces parses an index laid out as Helm writes it, one chart
// at a time. ok is false unless the pieces are sure to read as the whole
// document does; then the caller parses it whole. Sure means:
//
//   - the text is valid UTF-8 with no line breaks but \n and \r\n and no
//     byte order mark, and no tab, flow collection, directive or document
//     marker starts a line (what the pieces are cut by is what the YAML
//     parser sees);
//   - the document is a block mapping (its first line is KEY: ...) with
//     the line "entries:" once, and that line is the mapping's only key
//     entries (in any case): the rest of the document, parsed with the
//     entries in place of that line, says so (see checkHead);
//   - each chart starts with a line "  NAME:" at one indentation, NAME
//     plain and read as itself, given once, and its lines (every line up
//     to the next chart or the next line at column 0) parse alone as a
//     mapping of that one key: then no quote, flow collection or block
//     scalar is left open across charts;
//   - nothing could be an alias (the YAML parser limits aliases per
//     document, not per piece) and nothing nests anywhere near the
//     parsers' depth limits.
func parseIndexPieces(data []byte) (*Index, bool) {
	if !utf8.Valid(data) || oddBreaks(data) || mayHoldAlias(data) {
		return nil, false
	}
	type piece struct {
		start, end int
		key        string
		brackets   int
	}
	var head []byte    // the index without the lines under entries:
	var pieces []piece // each chart's lines under entries:
	entriesAt := -1    // where the line entries: is in head
	indent := -1       // the charts' keys' indentation
	inEntries, seenContent := false, false
	// How deep a piece or the head can nest: a block collection starts
	// only in a line's leading run of spaces and indicators, a flow one
	// at a bracket.
	maxLead, headBrackets, maxBrackets := 0, 0, 0
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data) - pos
		}
		line := data[pos : pos+end]
		start, next := pos, min(pos+end+1, len(data))
		pos = next
		trimmed := bytes.TrimLeft(line, " ")
		depth := len(line) - len(trimmed)
		if len(trimmed) == 0 || string(trimmed) == "\r" || trimmed[0] == '#' { // blank or a comment
			if inEntries && len(pieces) > 0 {
				pieces[len(pieces)-1].end = next
			} else {
				head = append(head, line...)
				head = append(head, '\n')
			}
			continue
		}
		if line[0] == '\t' || line[0] == '{' || line[0] == '[' || line[0] == '%' ||
			bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) {
			return nil, false // tabs, flow style (JSON), directives, documents
		}
		if !seenContent && (depth > 0 || !keyLine(line)) {
			return nil, false // not a block mapping
		}
		seenContent = true
		maxLead = max(maxLead, leadingIndicators(line))
		brackets := bytes.Count(line, []byte("[")) + bytes.Count(line, []byte("{"))
		switch {
		case depth == 0:
			inEntries = string(bytes.TrimRight(line, " \r")) == "entries:"
			if inEntries {
				if entriesAt >= 0 {
					return nil, false // given twice: the whole parse decides
				}
				entriesAt = len(head)
			}
			head = append(head, line...)
			head = append(head, '\n')
			headBrackets += brackets
		case !inEntries:
			head = append(head, line...)
			head = append(head, '\n')
			headBrackets += brackets
		default:
			if indent < 0 {
				indent = depth
			}
			switch {
			case depth < indent:
				return nil, false
			case depth == indent && trimmed[0] != '-':
				key, ok := pieceKey(trimmed)
				if !ok {
					return nil, false
				}
				pieces = append(pieces, piece{start: start, key: key})
			case len(pieces) == 0:
				return nil, false
			}
			p := &pieces[len(pieces)-1]
			p.end, p.brackets = next, p.brackets+brackets
			maxBrackets = max(maxBrackets, p.brackets)
		}
	}
	if entriesAt < 0 || bytes.Contains(head, []byte("<<")) || bytes.IndexByte(head, '!') >= 0 ||
		2*maxLead+max(headBrackets, maxBrackets)+8 > maxPieceDepth {
		return nil, false // no entries:, merge keys or tags, or nesting deep enough to worry
	}
	idx, ok := checkHead(head, entriesAt)
	if !ok {
		return nil, false
	}
	if len(pieces) == 0 {
		return idx, true
	}
	idx.Entries = make(map[string][]*IndexEntry, len(pieces))
	for _, p := range pieces {
		if _, dup := idx.Entries[p.key]; dup {
			return nil, false
		}
		var m map[string][]*IndexEntry
		if err := sigsyaml.Unmarshal(data[p.start:p.end], &m); err != nil || len(m) != 1 {
			return nil, false
		}
		v, ok := m[p.key]
		if !ok {
			return nil, false // the key reads as something else (yes, 1.0)
		}
		idx.Entries[p.key] = v
	}
	return idx, true
}

// checkHead parses the index without its charts' lines: head, whose line
// entries: starts at head[at:]. It reads that line first as entries: {}
// strictly (no key given twice), then as entries: {"": []}: the mapping's
// entries, in any case, must be that line's and nothing else, so that in
// the whole document the charts under it are all there is of entries. It
// returns the rest of the index, without entries.
func checkHead(head []byte, at int) (*Index, bool) {
	rest := head[at+bytes.IndexByte(head[at:], '\n')+1:]
	with := func(value string) []byte {
		b := make([]byte, 0, len(head)+len(value))
		b = append(b, head[:at]...)
		b = append(b, "entries: "+value+"\n"...)
		return append(b, rest...)
	}
	j, err := sigsyaml.YAMLToJSONStrict(with("{}"))
	if err != nil {
		return nil, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(j, &top) != nil || string(top["entries"]) != "{}" {
		return nil, false
	}
	for k := range top {
		if k != "entries" && strings.EqualFold(k, "entries") {
			return nil, false // both would fill Index.Entries
		}
	}
	var idx Index
	if sigsyaml.Unmarshal(with(`{"": []}`), &idx) != nil || len(idx.Entries) != 1 {
		return nil, false
	}
	if e, ok := idx.Entries[""]; !ok || e == nil || len(e) != 0 {
		return nil, false // that line is not the mapping's entries
	}
	idx.Entries = nil
	return &idx, true
}

// keyLine says whether line starts a block mapping: KEY: or KEY: VALUE,
// KEY plain.
func keyLine(line []byte) bool {
	n := plainKeyLen(line)
	if n == 0 || n >= len(line) || line[n] != ':' {
		return false
	}
	return n+1 == len(line) || line[n+1] == ' ' || line[n+1] == '\r'
}

// pieceKey returns the chart name of a line "NAME:" (trimmed of its
// indentation), NAME plain: letters, digits, '_', '.', '-', not first.
func pieceKey(trimmed []byte) (string, bool) {
	n := plainKeyLen(trimmed)
	if n == 0 || n >= len(trimmed) || trimmed[n] != ':' || len(bytes.TrimRight(trimmed[n+1:], " \r")) != 0 {
		return "", false
	}
	return string(trimmed[:n]), true
}

// plainKeyLen is the length of the run of name characters line starts
// with; 0 when it starts with '-' or '.'.
func plainKeyLen(line []byte) int {
	n := 0
	for n < len(line) {
		c := line[n]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || (n > 0 && (c == '.' || c == '-')) {
			n++
			continue
		}
		break
	}
	return n
}

// leadingIndicators is the length of the run of spaces, tabs and block
// indicators ('-', '?', ':') line starts with: where any block collection
// of the line starts, at the latest.
func leadingIndicators(line []byte) int {
	n := 0
	for n < len(line) && (line[n] == ' ' || line[n] == '\t' || line[n] == '-' || line[n] == '?' || line[n] == ':') {
		n++
	}
	return n
}

// oddBreaks says whether data holds a line break but \n and \r\n (a lone
// \r, NEL, LS, PS) or a byte order mark: the YAML parser would see lines
// the pieces are not cut by.
func oddBreaks(data []byte) bool {
	for i, c := range data {
		switch {
		case c == '\r':
			if i+1 == len(data) || data[i+1] != '\n' {
				return true
			}
		case c == 0xc2:
			if i+1 < len(data) && data[i+1] == 0x85 {
				return true
			}
		case c == 0xe2:
			if i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xa8 || data[i+2] == 0xa9) {
				return true
			}
		case c == 0xef:
			if i+2 < len(data) && data[i+1] == 0xbb && data[i+2] == 0xbf {
				return true
			}
		}
	}
	return false
}

// mayHoldAlias says whether data may hold an alias (*NAME where a node
// starts): the YAML parser bounds the nodes aliases expand to per
// document, so a document of pieces each within the bound may not be.
func mayHoldAlias(data []byte) bool {
	for i := 0; ; i++ {
		j := bytes.IndexByte(data[i:], '*')
		if j < 0 {
			return false
		}
		i += j
		if i == 0 || bytes.IndexByte([]byte(" \t\n-?:,[{"), data[i-1]) >= 0 {
			return true
		}
	}
}
