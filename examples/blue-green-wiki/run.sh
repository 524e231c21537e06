#!/bin/sh
# The walkthrough of README.md, end to end (test/e2e/examples_test.go runs
# the same commands). Run from the repository's root, against a cluster
# that can pull the images:  sh examples/blue-green-wiki/run.sh
set -eu
NS=${NS:-web}
bundle install team-db stable/mariadb -n "$NS" --create-namespace --wait --timeout 3m
bundle upgrade wiki stable/mediawiki -n "$NS" --strategy blue-green --bind database=team-db
bundle upgrade wiki stable/mediawiki -n "$NS" --strategy blue-green --set wiki.name=Green
bundle status wiki -n "$NS"
bundle list --bindings -n "$NS"
bundle rollback wiki -n "$NS"
bundle list --bindings -n "$NS"
bundle prune wiki -n "$NS"
bundle list --bindings -n "$NS"
