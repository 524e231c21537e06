package repo

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// A compact index is what bundle keeps of a repository's index.yaml: one
// line per chart version, sorted by name, with only what resolving and
// downloading need (name, version, app version, digest, URL, description).
// bundle repo add/update write it once; loading it is a single pass over a
// few megabytes instead of parsing a YAML document of tens (Helm parses the
// full index.yaml, several times per operation).
const compactHeader = "bundle-index v1\n"

// Compact returns the compact form of an index.
func (idx *Index) Compact() []byte {
	names := make([]string, 0, len(idx.Entries))
	for n := range idx.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString(compactHeader)
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, n := range names {
		for _, e := range idx.Entries[n] {
			url := ""
			if len(e.URLs) > 0 {
				url = e.URLs[0]
			}
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\n", clean.Replace(n), clean.Replace(e.Version), clean.Replace(e.AppVersion),
				clean.Replace(e.Digest), clean.Replace(url), clean.Replace(e.Description))
		}
	}
	return b.Bytes()
}

// compactIndex is a loaded compact index: the bytes and, per chart name,
// the range of its lines.
type compactIndex struct {
	data  []byte
	spans map[string][2]int
}

func loadCompact(data []byte) (*compactIndex, error) {
	if !bytes.HasPrefix(data, []byte(compactHeader)) {
		return nil, errors.New("not a compact index")
	}
	c := &compactIndex{data: data, spans: map[string][2]int{}}
	pos := len(compactHeader)
	for pos < len(data) {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data) - pos
		}
		line := data[pos : pos+end]
		tab := bytes.IndexByte(line, '\t')
		if tab > 0 {
			name := string(line[:tab])
			s, ok := c.spans[name]
			if !ok {
				s[0] = pos
			}
			s[1] = pos + end + 1
			c.spans[name] = s
		}
		pos += end + 1
	}
	return c, nil
}

// entries returns the versions of one chart, newest first as written.
func (c *compactIndex) entries(name string) []*IndexEntry {
	s, ok := c.spans[name]
	if !ok {
		return nil
	}
	var out []*IndexEntry
	for _, line := range strings.Split(strings.TrimSuffix(string(c.data[s[0]:min(s[1], len(c.data))]), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 6)
		if len(f) < 6 {
			continue
		}
		e := &IndexEntry{Name: f[0], Version: f[1], AppVersion: f[2], Digest: f[3], Description: f[5]}
		if f[4] != "" {
			e.URLs = []string{f[4]}
		}
		out = append(out, e)
	}
	return out
}

// versions lists a chart's strict-semver versions.
func (c *compactIndex) versions(name string) []*semver.Version {
	var out []*semver.Version
	for _, e := range c.entries(name) {
		if v, err := semver.StrictNewVersion(e.Version); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// names lists the charts, sorted.
func (c *compactIndex) names() []string {
	out := make([]string, 0, len(c.spans))
	for n := range c.spans {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
