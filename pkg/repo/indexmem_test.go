package repo

import (
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
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
}

// The piecewise parser and the whole-document parser agree.
func TestParseIndexPiecesAgree(t *testing.T) {
	for _, s := range indexSamples {
		checkIndexAgrees(t, []byte(s))
	}
}

func checkIndexAgrees(t *testing.T, data []byte) {
	t.Helper()
	whole, werr := parseIndexWhole("index.yaml", data)
	pieces, ok := parseIndexPieces(data)
	if !ok {
		return // left to the whole-document parser
	}
	if werr != nil {
		t.Fatalf("%q: pieces parse, the whole does not: %v", data, werr)
	}
	if whole.Entries == nil {
		whole.Entries = map[string][]*IndexEntry{}
	}
	if pieces.Entries == nil {
		pieces.Entries = map[string][]*IndexEntry{}
	}
	if !reflect.DeepEqual(whole, pieces) {
		t.Fatalf("%q:\n whole  %+v\n pieces %+v", data, whole, pieces)
	}
}

func FuzzParseIndex(f *testing.F) {
	for _, s := range indexSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIndexAgrees(t, data)
	})
}
