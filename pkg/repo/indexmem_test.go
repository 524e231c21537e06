package repo

import (
	"encoding/json"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap runs f and returns the most heap it held at once (sampled, with
// the collector kept busy so that garbage does not count) and the bytes it
// allocated in all.
func peakHeap(f func()) (peak, total uint64) {
	runtime.GC()
	old := debug.SetGCPercent(5)
	defer debug.SetGCPercent(old)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var max atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > max.Load() {
				max.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if max.Load() > before.HeapAlloc {
		peak = max.Load() - before.HeapAlloc
	}
	return peak, after.TotalAlloc - before.TotalAlloc
}

// Parsing an index holds at most about twice its size in memory (beyond
// the index's own bytes): measured on a 15,000-entry index.
func TestParseIndexMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a large index")
	}
	yamlPath, _ := bigIndex(t)
	data, err := os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	var idx *Index
	peak, total := peakHeap(func() {
		idx, err = ParseIndex("index.yaml", data)
	})
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(idx)
	size := float64(len(data))
	t.Logf("index %d bytes: peak heap %.2f bytes per byte, %.1f bytes allocated per byte", len(data), float64(peak)/size, float64(total)/size)
	if float64(peak) > 2*size {
		t.Errorf("peak heap %d bytes for a %d-byte index: over twice its size", peak, len(data))
	}
}

// indexSamples are index layouts the piecewise parser must read exactly as
// the whole-document parser does, or leave to it.
var indexSamples = []string{
	emptyIndex,
	"apiVersion: v1\nentries:\n  a:\n  - {name: a, version: 1.0.0, urls: [a.tgz]}\n  b:\n    - name: b\n      version: 2.0.0\ngenerated: \"2026-01-01T00:00:00Z\"\n",
	"# a comment\napiVersion: v1\nentries:\n\n# between\n  a:\n  # inside\n  - name: a\n    version: 1.0.0\n    description: |\n      two\n      lines\n",
	"{\"apiVersion\": \"v1\", \"entries\": {\"a\": [{\"name\": \"a\", \"version\": \"1.0.0\"}]}}",
	"apiVersion: v1\nentries:\n  a: &x\n  - name: a\n    version: 1.0.0\n  b: *x\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  a:\n  - name: a\n    version: 2.0.0\n",
	"apiVersion: v1\nentries:\n  \"quoted\":\n  - name: quoted\n    version: \"1.0\"\n    description: \"multi\n      line\"\n",
	"apiVersion: v1\nentries:\n    a:\n    - name: a\n      version: 1.0.0\n  b: []\n",
	"apiVersion: v1\nentries:\n  - a\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n---\napiVersion: v2\n",
	"apiVersion: v1\nentries: {a: [{name: a, version: 1.0.0}]}\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\nentries:\n  b: []\n",
	"apiVersion: v2\nentries:\n  a: []\n",
	"apiVersion: v1\r\nentries:\r\n  a:\r\n  - name: a\r\n    version: 1.0.0\r\n",
	// Valid, but not as the pieces would cut them: a line break they are
	// not cut by, entries: inside a quoted scalar beside another entries,
	// a chart's quoted scalar running on past the next chart.
	"apiVersion: v1\nentries:\n  a: []\u2028b: []\n",
	"apiVersion: \"v1\nentries:\n  a: []\n\"\nentries: {}\n",
	"apiVersion: v1\nentries:\n  a:\n  - description: \"x\n  b: y\"\n",
	// Keys that read as something else, given twice, in another case.
	"apiVersion: v1\nentries:\n  yes: []\n  1.0: []\n  1: []\n",
	"apiVersion: v1\nentries:\n  a: []\n  a:\n  - name: b\n",
	"apiVersion: v1\nEntries:\n  a: []\nentries:\n  b: []\n",
	"apiVersion: v1\nentries:\n  b: []\nENTRIES: {c: []}\n",
	// Block scalars keeping their trailing lines and comment-like lines.
	"apiVersion: v1\nentries:\n  a:\n  - description: |+\n      x\n\n  b:\n  - description: |\n      y\n      # z\n# c\ngenerated: \"2026-01-01T00:00:00Z\"\n",
}

// invalidIndexes are indexes the YAML parser refuses: ParseIndex must
// refuse them too, whichever way it reads them.
var invalidIndexes = []string{
	// A piece that parses alone but not under entries: (the fuzzer's
	// finding: sigs.k8s.io/yaml reads " {0}0" alone as {"0": null}).
	"entries:\n {0}0",
	"apiVersion: v1\nentries:\n  {a: []}x\n",
	// Blank-looking lines that are not blank to the YAML parser.
	"apiVersion: v1\nentries:\n\u00a0\n  a: []\n",
	"apiVersion: v1\nentries:\n  \t\n  a: []\n",
	"apiVersion: v1\nentries:\n  a: []\n  \t\n",
	// Line breaks the pieces are not cut by.
	"apiVersion: v1\nentries:\n  a: []\rb\n",
	// entries: inside a flow mapping merged into the top level.
	"apiVersion: v1\n<<: {x: 1,\nentries:\n  b: []\n}\n",
	// A chart's lines continuing past the next chart.
	"apiVersion: v1\nentries:\n  a: [x,\n  b: y]\n",
	// An alias to an anchor in another chart.
	"apiVersion: v1\nentries:\n  a: &x\n  - name: a\n  b: *y\n",
	// Nested past the YAML parser's limit in the whole document only.
	"apiVersion: v1\nentries:\n  a:\n  - x: " + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + "\n",
	// Not a mapping, and not UTF-8.
	"- a\nentries:\n  a: []\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: \xff\n",
	// Tabs for indentation.
	"apiVersion: v1\nentries:\n\ta: []\n",
	"apiVersion: v1\nentries:\n  a:\n\t- name: a\n",
}

// ParseIndex refuses what the YAML parser refuses, and the pieces leave it
// to the YAML parser.
func TestParseIndexRefusesInvalid(t *testing.T) {
	for _, s := range invalidIndexes {
		if _, err := parseIndexWhole("index.yaml", []byte(s)); err == nil {
			t.Errorf("%q: the YAML parser accepts it: not an invalid case", s)
			continue
		}
		if idx, err := ParseIndex("index.yaml", []byte(s)); err == nil {
			t.Errorf("%q: accepted: %+v", s, idx)
		}
		checkIndexAgrees(t, []byte(s))
	}
}

// The piecewise parser and the whole-document parser agree.
func TestParseIndexPiecesAgree(t *testing.T) {
	for _, s := range indexSamples {
		checkIndexAgrees(t, []byte(s))
	}
}

// Real indexes are read in pieces: those Helm and bundle write.
func TestParseIndexPiecesUsed(t *testing.T) {
	yamlPath, _ := writeIndex(t, 3, 5)
	generated, err := os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := IndexDir(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	idx.Entries["a"] = []*IndexEntry{{APIVersion: "v2", Name: "a", Version: "1.0.0", Description: "x: \"y\" #z", URLs: []string{"a.tgz"}}}
	written, err := idx.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"generated": generated, "written": written, "sample": []byte(indexSamples[1]), "crlf": []byte(indexSamples[len(indexSamples)-1])} {
		if _, ok := parseIndexPieces(data); !ok {
			t.Errorf("%s: not read in pieces", name)
		}
		checkIndexAgrees(t, data)
	}
}

// checkIndexAgrees checks that ParseIndex reads data as the YAML parser
// does (the same index, or the same error), and that the pieces, when
// they are used, are exactly the whole document.
func checkIndexAgrees(t *testing.T, data []byte) {
	t.Helper()
	whole, werr := parseIndexWhole("index.yaml", data)
	want, wantErr := whole, werr
	if werr == nil {
		want, wantErr = checkIndex("index.yaml", whole)
		whole, _ = parseIndexWhole("index.yaml", data) // checkIndex sorted it
	}
	got, err := ParseIndex("index.yaml", data)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%q: ParseIndex says %v, the YAML parser %v", data, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n ParseIndex %s\n YAML       %s", data, asJSON(got), asJSON(want))
	}
	pieces, ok := parseIndexPieces(data)
	if !ok {
		return // left to the whole-document parser
	}
	if werr != nil {
		t.Fatalf("%q: pieces parse, the whole does not: %v", data, werr)
	}
	if !reflect.DeepEqual(whole, pieces) {
		t.Fatalf("%q:\n whole  %s\n pieces %s", data, asJSON(whole), asJSON(pieces))
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// FuzzParseIndex is a differential fuzz test: whatever the input,
// ParseIndex reads it as sigs.k8s.io/yaml reads the whole document.
func FuzzParseIndex(f *testing.F) {
	for _, s := range indexSamples {
		f.Add([]byte(s))
	}
	for _, s := range invalidIndexes {
		if len(s) < 1<<10 { // not the deep one: slow to mutate
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIndexAgrees(t, data)
	})
}
