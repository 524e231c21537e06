package resolve

import (
	"context"
	"sync"

	"github.com/Masterminds/semver/v3"
)

// Prefetch wraps a Source so that version lists are fetched ahead of the
// solver, concurrently. The solver lists the bundles a version requires
// one after the other, from the goroutine that called Solve; over network
// repositories those round trips add up. The returned Source starts
// listing, each in its own goroutine, the versions of every bundle in root
// at once and of every bundle a Requirements answer names as soon as it
// returns; Versions then waits for that listing rather than starting its
// own.
//
// Listings, errors included, are kept for the life of the returned Source:
// make one per resolution. A listing runs with the context of the call
// that started it (ctx for root) and ends when the wrapped Versions
// returns, even if the solver no longer waits for it.
func Prefetch(ctx context.Context, src Source, root []Requirement) Source {
	p := &prefetcher{src: src, listings: map[Ref]*listing{}}
	for _, r := range root {
		p.start(ctx, r.Ref)
	}
	return p
}

type prefetcher struct {
	src      Source
	mu       sync.Mutex
	listings map[Ref]*listing
}

// listing is one Versions call, under way or done.
type listing struct {
	done     chan struct{} // closed when versions and err are set
	versions []*semver.Version
	err      error
}

// start starts listing ref's versions unless it is under way or done.
func (p *prefetcher) start(ctx context.Context, ref Ref) *listing {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.listings[ref]; ok {
		return l
	}
	l := &listing{done: make(chan struct{})}
	p.listings[ref] = l
	go func() {
		defer close(l.done)
		l.versions, l.err = p.src.Versions(ctx, ref)
	}()
	return l
}

// Versions implements Source.
func (p *prefetcher) Versions(ctx context.Context, ref Ref) ([]*semver.Version, error) {
	l := p.start(ctx, ref)
	select {
	case <-l.done:
		return l.versions, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Requirements implements Source.
func (p *prefetcher) Requirements(ctx context.Context, ref Ref, v *semver.Version) ([]Requirement, error) {
	reqs, err := p.src.Requirements(ctx, ref, v)
	if err != nil {
		return nil, err
	}
	for _, r := range reqs {
		p.start(ctx, r.Ref)
	}
	return reqs, nil
}
