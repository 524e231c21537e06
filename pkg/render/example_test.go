package render_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// Render stable/mediawiki with its database, without a cluster.
func ExampleTemplate() {
	ctx := context.Background()
	repos := repo.NewSet(nil)
	ref, _ := repo.ParseReference("stable/mediawiki")
	root, err := repos.LoadReference(ctx, ref, nil)
	if err != nil {
		panic(err)
	}
	plan, err := plan.Resolve(ctx, repos, root, plan.Options{})
	if err != nil {
		panic(err)
	}
	for _, r := range plan.Resolved() {
		fmt.Printf("%s: %s %s\n", r.Instance, r.Bundle, r.Version)
	}
	out, err := render.Template(ctx, plan, render.TemplateOptions{ReleaseName: "wiki"})
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "kind: StatefulSet") || strings.HasPrefix(line, "kind: Deployment") {
			fmt.Println(line)
		}
	}
	// Output:
	// database: mariadb 1.3.0
	// kind: Deployment
	// kind: StatefulSet
}
