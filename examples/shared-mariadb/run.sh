#!/bin/sh
# The walkthrough of README.md, end to end (test/e2e/examples_test.go runs
# the same commands). Run from the repository's root, against a cluster
# that can pull the images:  sh examples/shared-mariadb/run.sh
set -eu
NS=${NS:-shared}
bundle install team-db stable/mariadb -n "$NS" --create-namespace --wait --timeout 3m
bundle install wiki stable/mediawiki -n "$NS" -f examples/shared-mariadb/wiki.yaml
bundle install blog stable/wordpress -n "$NS" -f examples/shared-mariadb/blog.yaml
bundle list --bindings -n "$NS"
bundle list -o mermaid -n "$NS"
if bundle uninstall team-db -n "$NS"; then
  echo "team-db was uninstalled while bound" >&2
  exit 1
fi
bundle uninstall blog -n "$NS"
bundle uninstall wiki -n "$NS"
bundle uninstall team-db -n "$NS"
