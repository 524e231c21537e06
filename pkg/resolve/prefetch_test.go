package resolve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

// barrierSource is a registry whose Versions calls for the bundles in
// `together` each wait until all of them have been called, or give up
// after a while: it succeeds only when they are listed concurrently. It
// also counts the most Versions calls in flight at once.
type barrierSource struct {
	*registry
	together map[string]bool
	wait     time.Duration
	arrived  sync.WaitGroup
	inFlight atomic.Int32
	most     atomic.Int32
}

func newBarrierSource(reg *registry, wait time.Duration, together ...string) *barrierSource {
	b := &barrierSource{registry: reg, together: map[string]bool{}, wait: wait}
	for _, n := range together {
		b.together[n] = true
	}
	b.arrived.Add(len(together))
	return b
}

func (b *barrierSource) Versions(ctx context.Context, ref Ref) ([]*semver.Version, error) {
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	if b.together[ref.Name] {
		b.arrived.Done()
		all := make(chan struct{})
		go func() { b.arrived.Wait(); close(all) }()
		select {
		case <-all:
		case <-time.After(b.wait):
			return nil, fmt.Errorf("%s was listed alone", ref.Name)
		}
	}
	vs, ok := b.versions[ref]
	if !ok {
		return nil, fmt.Errorf("bundle %s: %w", ref, ErrNotFound)
	}
	return vs, nil
}

func diamond() (*registry, []Requirement) {
	reg := newRegistry()
	b, _ := parseReq("b *")
	c, _ := parseReq("c *")
	reg.add("a", "1.0.0", b, c)
	reg.add("b", "1.0.0")
	reg.add("c", "1.0.0")
	root, _ := parseReqs("a *")
	return reg, root
}

func TestSolveCallsItsSourceFromOneGoroutine(t *testing.T) {
	reg, root := diamond()
	src := newBarrierSource(reg, 50*time.Millisecond, "b", "c")
	_, err := Solve(context.Background(), src, root, Options{})
	if err == nil || errors.Is(err, ErrConflict) {
		t.Fatalf("b and c were listed together without Prefetch: %v", err)
	}
	if m := src.most.Load(); m != 1 {
		t.Errorf("%d Versions calls at once; want 1", m)
	}
}

// twoRoots is a registry of b and c, both required by the root.
func twoRoots() (*registry, []Requirement) {
	reg := newRegistry()
	reg.add("b", "1.0.0")
	reg.add("c", "2.0.0")
	root, _ := parseReqs("b ^1.0.0; c ^2.0.0")
	return reg, root
}

// Prefetch lists the bundles the solver will need together: the
// requirements of a bundle, and the root's.
func TestPrefetchListsBundlesTogether(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func() (*registry, []Requirement)
		want  string
	}{
		{"required bundles", diamond, "a 1.0.0, b 1.0.0, c 1.0.0"},
		{"root bundles", twoRoots, "b 1.0.0, c 2.0.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg, root := tt.setup()
			src := newBarrierSource(reg, 10*time.Second, "b", "c")
			ctx := context.Background()
			res, err := Solve(ctx, Prefetch(ctx, src, root), root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := show(res.Solution); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Prefetch changes when versions are listed, never what the solver
// concludes: the scenarios solve, fail and explain as without it.
func TestPrefetchSolvesTheScenariosAlike(t *testing.T) {
	ctx := context.Background()
	for _, sc := range loadScenarios(t, "testdata/scenarios.txt") {
		opts := Options{Prefer: sc.prefer}
		want, wantErr := Solve(ctx, sc.reg, sc.root, opts)
		got, gotErr := Solve(ctx, Prefetch(ctx, sc.reg, sc.root), sc.root, opts)
		switch {
		case wantErr != nil:
			if gotErr == nil || gotErr.Error() != wantErr.Error() || errors.Is(gotErr, ErrNotFound) != errors.Is(wantErr, ErrNotFound) {
				t.Errorf("%s: with Prefetch: %v\nwithout: %v", sc.name, gotErr, wantErr)
			}
		case gotErr != nil:
			t.Errorf("%s: with Prefetch: %v", sc.name, gotErr)
		case show(got.Solution) != show(want.Solution) || got.Decisions != want.Decisions:
			t.Errorf("%s: with Prefetch %s in %d decisions, without %s in %d", sc.name, show(got.Solution), got.Decisions, show(want.Solution), want.Decisions)
		}
	}
}

func TestPrefetchPassesSourceErrorsOn(t *testing.T) {
	boom := errors.New("connection refused")
	root, _ := parseReqs("a *")
	ctx := context.Background()
	_, err := Solve(ctx, Prefetch(ctx, failingSource{err: boom}, root), root, Options{})
	if !errors.Is(err, boom) || errors.Is(err, ErrConflict) {
		t.Errorf("error = %v; want the source's error, not a conflict", err)
	}
}
