# bundle — build, test and demo.
#
#   make build        build ./bin/bundle
#   make test         unit tests + integration tests on a local control plane
#   make demo         start the local control plane, install stable/mediawiki, show it Ready
#   make cluster-up   start the local control plane (kubeconfig: .cache/cluster/run/kubeconfig;
#                     CLUSTER_NODES=1 for a single node, default 3)
#   make cluster-down stop it
#   make fuzz         run every fuzzer for FUZZTIME each (make test: FUZZ_SMOKE_TIME each)
#   make bench        resolver benchmarks; install/upgrade --wait, status, template and a
#                     600-object release against helm 4 and helm 3 on a local control plane
#
# The control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) is built from the Go module proxy at the versions
# below and cached under .cache/, keyed by version.

SHELL := /bin/bash
GO ?= go

K8S_VERSION  := v1.34.4
K8S_MINOR    := 34
KWOK_VERSION := v0.8.0

CACHE        := .cache
K8S_BIN      := $(CACHE)/cluster/k8s-$(K8S_VERSION)
KWOK_DIR     := $(CACHE)/cluster/kwok-$(KWOK_VERSION)
KWOK         := $(KWOK_DIR)/kwok
STAGES       := $(KWOK_DIR)/stages
CLUSTER      := $(CACHE)/cluster/cluster
# The Helm SDK bundle is built with (helm.sh/helm/v4), and the helm 4 CLI at
# that version for the conformance tests and the bench. Both are linked with
# the flags of Helm 4's release builds (its Makefile): the Helm version
# templates see (.Capabilities.HelmVersion). Helm 4 reads the Kubernetes
# version of a render without a cluster from client-go's module version in
# the build info, so only the Helm version is set; a plain go build says
# Helm v4.3 without the patch.
HELM4_VERSION := $(shell awk '$$1 == "helm.sh/helm/v4" { print $$2 }' go.mod)
HELM4         := $(CACHE)/helm-$(HELM4_VERSION)-release/helm
HELM4_LDFLAGS := -X helm.sh/helm/v4/internal/version.version=$(HELM4_VERSION) \
	-X helm.sh/helm/v4/internal/version.metadata= \
	-X helm.sh/helm/v4/internal/version.gitTreeState=clean
HELM_LDFLAGS  := $(HELM4_LDFLAGS)
# The helm 3 CLI (its last minor), for the hand-over and conformance tests:
# releases helm 3 made, charts it renders. Linked with the flags of Helm 3's
# release builds: its version, and the Kubernetes version of a render
# without a cluster (that of the client-go its go.mod names: v0.37 -> v1.37.0).
HELM3_VERSION := v3.22.0
HELM          := $(CACHE)/helm-$(HELM3_VERSION)-release/helm
HELM3_K8S_MINOR = $(shell grep -o 'k8s.io/client-go v0\.[0-9]*' "$$(GOFLAGS=-mod=mod $(GO) mod download -json helm.sh/helm/v3@$(HELM3_VERSION) | sed -n 's/^\t"GoMod": "\(.*\)",$$/\1/p')" | sed 's/.*v0\.//')
HELM3_LDFLAGS  = -X helm.sh/helm/v3/internal/version.version=$(HELM3_VERSION) \
	-X helm.sh/helm/v3/internal/version.metadata= \
	-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM3_K8S_MINOR) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM3_K8S_MINOR)
DEMO_STATE   := $(CACHE)/cluster/run
TEST_STATE   := $(CACHE)/cluster/test
# make test also installs the catalog on a second control plane of one node.
TEST_STATE_ONE_NODE := $(CACHE)/cluster/test-one-node
# Simulated nodes of the demo's and the tests' control plane (make cluster-up
# CLUSTER_NODES=1 for a single node).
CLUSTER_NODES ?= 3
KUBECONFIG_DEMO := $(abspath $(DEMO_STATE))/kubeconfig
FUZZTIME     ?= 30s

K8S_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=$(K8S_MINOR) \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/component-base/version.gitCommit=0000000000000000000000000000000000000000 \
	-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z

.PHONY: build test test-tools unit-test vet-tools bench lock catalog demo cluster-build cluster-up cluster-down fuzz fuzz-smoke vet clean

build:
	$(GO) build -trimpath -ldflags "$(HELM_LDFLAGS)" -o bin/bundle ./cmd/bundle

vet:
	$(GO) vet ./...

# Vetting the control-plane module type-checks all of k8s.io/kubernetes:
# minutes, so it is not part of make test.
vet-tools:
	cd tools/cluster && $(GO) vet ./...

# Unit and integration tests. The integration tests get their own control
# planes (separate from the demo's), stopped again whatever the outcome: one
# of CLUSTER_NODES nodes for all of them, and one of a single node on which
# TestEveryCatalogBundleOnOneNode installs every catalog bundle.
test: build vet fuzz-smoke cluster-build $(HELM) $(HELM4) test-tools
	@$(CLUSTER) up --bin $(K8S_BIN) --kwok $(KWOK) --stages $(STAGES) --state $(TEST_STATE) --nodes $(CLUSTER_NODES) && \
	$(CLUSTER) up --bin $(K8S_BIN) --kwok $(KWOK) --stages $(STAGES) --state $(TEST_STATE_ONE_NODE) --nodes 1; \
	status=$$?; \
	if [ $$status = 0 ]; then \
		BUNDLE_TEST_KUBECONFIG=$(abspath $(TEST_STATE))/kubeconfig BUNDLE_TEST_KUBECONFIG_ONE_NODE=$(abspath $(TEST_STATE_ONE_NODE))/kubeconfig \
		BUNDLE_TEST_HELM=$(abspath $(HELM)) BUNDLE_TEST_HELM4=$(abspath $(HELM4)) BUNDLE_E2E_REQUIRED=1 \
			$(GO) test -count=1 -parallel 6 -ldflags "$(HELM_LDFLAGS)" ./... || status=$$?; \
	fi; \
	$(CLUSTER) down --state $(TEST_STATE_ONE_NODE); \
	$(CLUSTER) down --state $(TEST_STATE); \
	exit $$status

# Debian tools for test/catalog: shellcheck and varnishd check the catalog's
# shell scripts and VCL; varnishd, redis-server/redis-sentinel and
# PostgreSQL 15 run the catalog's VCL, redis-ha's failover and postgresql's
# first-start script for real (in network namespaces, from iproute2),
# PostgreSQL and MariaDB (mariadb-server) the claims of bindings; php
# runs magento's env.php wiring.
# Installed when missing and run as root.
TEST_TOOLS := shellcheck varnishd redis-server redis-sentinel redis-cli ip setpriv psql /usr/lib/postgresql/15/bin/initdb php mariadbd mariadb-install-db mariadb
TEST_PACKAGES := shellcheck varnish redis-server redis-sentinel redis-tools iproute2 util-linux postgresql-15 php-cli mariadb-server mariadb-client
test-tools:
	@missing=; for t in $(TEST_TOOLS); do PATH="$$PATH:/usr/sbin" command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing from Debian for test/catalog:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES) >/dev/null || exit 1; \
		else \
			echo "test/catalog needs$$missing: sudo apt-get install $(TEST_PACKAGES)"; exit 1; \
		fi; \
	fi

# Unit tests only: no cluster needed (integration tests skip).
unit-test:
	$(GO) test ./...

demo: build cluster-up
	@export KUBECONFIG=$(KUBECONFIG_DEMO); \
	if ./bin/bundle status mediawiki >/dev/null 2>&1; then \
		echo "stable/mediawiki is already installed; showing its status"; \
	else \
		./bin/bundle install stable/mediawiki --wait --timeout 5m || exit 1; \
	fi; \
	echo; ./bin/bundle status mediawiki; \
	echo; echo "Use it: export KUBECONFIG=$(KUBECONFIG_DEMO); ./bin/bundle list"

cluster-build: $(K8S_BIN)/.built $(KWOK) $(STAGES)/.copied $(CLUSTER)

$(K8S_BIN)/.built:
	@echo "building the control plane $(K8S_VERSION) into $(K8S_BIN) (once; a few minutes cold)"
	mkdir -p $(K8S_BIN)
	cd tools/cluster && $(GO) build -trimpath -ldflags "$(K8S_LDFLAGS)" -o $(abspath $(K8S_BIN))/ \
		./cmd/etcd ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler
	touch $@

$(KWOK):
	@echo "building kwok $(KWOK_VERSION) into $(KWOK_DIR) (once)"
	mkdir -p $(KWOK_DIR)
	GOBIN=$(abspath $(KWOK_DIR)) GOFLAGS=-mod=mod $(GO) install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)

# kwok's Stage files, from the same module version: fast node and pod
# lifecycles, node heartbeats, and volume provisioning.
$(STAGES)/.copied: $(KWOK)
	mkdir -p $(STAGES)
	dir=$$(cd $(KWOK_DIR) && GOFLAGS=-mod=mod $(GO) mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	test -n "$$dir" || { echo "cannot find the kwok module"; exit 1; }; \
	for d in node/fast node/heartbeat pod/fast volume/fast; do \
		for f in $$dir/kustomize/stage/$$d/*.yaml; do \
			if grep -q '^kind: Stage' $$f; then install -m 0644 $$f $(STAGES)/ || exit 1; fi; \
		done; \
	done
	touch $@

# The helm 3 CLI, for the hand-over and conformance tests.
$(HELM):
	GOBIN=$(abspath $(dir $(HELM))) GOFLAGS=-mod=mod $(GO) install -trimpath -ldflags "-s -w $(HELM3_LDFLAGS)" helm.sh/helm/v3/cmd/helm@$(HELM3_VERSION)

# The helm 4 CLI at the version of our Helm dependency, for the conformance
# tests and the bench (cached like $(HELM)).
$(HELM4):
	GOBIN=$(abspath $(dir $(HELM4))) GOFLAGS=-mod=mod $(GO) install -trimpath -ldflags "-s -w $(HELM4_LDFLAGS)" helm.sh/helm/v4/cmd/helm@$(HELM4_VERSION)

$(CLUSTER): $(shell find tools/cluster -name '*.go') tools/cluster/go.mod tools/cluster/go.sum
	cd tools/cluster && $(GO) build -trimpath -o $(abspath $(CLUSTER)) ./cmd/cluster

cluster-up: cluster-build
	$(CLUSTER) up --bin $(K8S_BIN) --kwok $(KWOK) --stages $(STAGES) --state $(DEMO_STATE) --nodes $(CLUSTER_NODES)

cluster-down:
	@if [ -x $(CLUSTER) ]; then $(CLUSTER) down --state $(DEMO_STATE); fi

# Every fuzzer, PACKAGE:FUNCTION: make fuzz runs each for FUZZTIME, make
# test each for FUZZ_SMOKE_TIME (fuzz-smoke). A new Fuzz function is
# listed here.
FUZZERS := \
	./pkg/bundle:FuzzLoadArchive \
	./pkg/bundle:FuzzParseLock \
	./pkg/bundle:FuzzParseFile \
	./pkg/bundle:FuzzParseValues \
	./pkg/bundle:FuzzParseConstraint \
	./pkg/bundle:FuzzValuesSettings \
	./pkg/bundle:FuzzKeyLine \
	./pkg/repo:FuzzParseIndex \
	./pkg/plan:FuzzParseGrantRecord \
	./pkg/sign:FuzzParsePolicy
# A count, not a duration: a fuzzer whose -fuzztime deadline passes while a
# worker is still busy (a loaded machine) can fail with "context deadline
# exceeded" though it found nothing; a count of inputs ends it cleanly.
FUZZ_SMOKE_TIME ?= 5000x
FUZZ_BIN := $(CACHE)/fuzz

# run_fuzzers runs every fuzzer for $(1) as go test -fuzz would, but
# builds each package's instrumented test binary once: in the package's
# directory (a failing input is written to its testdata/fuzz, to add to
# the corpus), with go test's cache of interesting inputs. A fuzzer listed
# but not there fails it. (make fuzz FUZZERS=./pkg/repo:FuzzParseIndex
# runs one.)
define run_fuzzers
	@set -e; mkdir -p $(FUZZ_BIN); \
	for f in $(FUZZERS); do \
		grep -qs "^func $${f#*:}(" $${f%%:*}/*_test.go || { echo "FUZZERS lists $$f, which is not there"; exit 1; }; \
	done; \
	cache="$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m)"; \
	for p in $(sort $(foreach f,$(FUZZERS),$(firstword $(subst :, ,$(f))))); do \
		$(GO) test -c -fuzz . -o $(FUZZ_BIN)/$$(echo $$p | tr ./ __).test $$p; \
	done; \
	for f in $(FUZZERS); do \
		p=$${f%%:*}; fn=$${f#*:}; echo "fuzzing $$p $$fn for $(1)"; \
		(cd $$p && $(abspath $(FUZZ_BIN))/$$(echo $$p | tr ./ __).test -test.run '^$$' -test.fuzz "^$$fn\$$" \
			-test.fuzztime $(1) -test.fuzzcachedir "$$cache/$${p#./}" -test.paniconexit0 -test.timeout 10m); \
	done
endef

fuzz:
	$(call run_fuzzers,$(FUZZTIME))

# Each fuzzer briefly, in make test; a Fuzz function missing from FUZZERS
# fails it.
fuzz-smoke:
	@for fn in $$(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' cmd internal pkg test | cut -c6-); do \
		case " $(FUZZERS) " in *:$$fn" "*) ;; *) echo "$$fn is not in the Makefile's FUZZERS: list it"; exit 1;; esac; \
	done
	$(call run_fuzzers,$(FUZZ_SMOKE_TIME))

# Resolver benchmarks (a)-(e); see pkg/resolve/bench_test.go. Then, on a
# control plane of its own, bundle side by side with helm 4 (the anchor) and
# helm 3, each run as a process: the same chart archive's install --wait,
# upgrade --wait, status and template (BenchmarkWaitVsHelm), and a release of
# 600 ConfigMaps installed and upgraded by bundle and helm 4
# (BenchmarkScaleVsHelm4), each with bundle's ratios (bundle/helm4 first);
# and bundle install stable/mediawiki --wait; see test/e2e/wait_bench_test.go.
# 10 rounds of the first (single runs vary by 30%), 3 of the second: about
# 5 minutes on 2 cores.
BENCH_STATE := $(CACHE)/cluster/bench
bench: cluster-build $(HELM) $(HELM4)
	$(GO) test ./pkg/resolve -run '^$$' -bench . -benchtime 5x
	@$(CLUSTER) up --bin $(K8S_BIN) --kwok $(KWOK) --stages $(STAGES) --state $(BENCH_STATE) --nodes $(CLUSTER_NODES); \
	status=$$?; \
	if [ $$status = 0 ]; then \
		export BUNDLE_TEST_KUBECONFIG=$(abspath $(BENCH_STATE))/kubeconfig BUNDLE_TEST_HELM=$(abspath $(HELM)) BUNDLE_TEST_HELM4=$(abspath $(HELM4)); \
		$(GO) test ./test/e2e -run '^$$' -bench '^BenchmarkWaitVsHelm$$' -benchtime 10x -ldflags "$(HELM_LDFLAGS)" && \
		$(GO) test ./test/e2e -run '^$$' -bench '^BenchmarkScaleVsHelm4$$' -benchtime 3x -ldflags "$(HELM_LDFLAGS)" || status=$$?; \
	fi; \
	$(CLUSTER) down --state $(BENCH_STATE); \
	exit $$status

# Record the catalog's versions and digests (after bumping a bundle's version).
catalog: lock
	$(GO) test ./pkg/repo -run '^TestCatalogVersionBumps$$' -update-catalog

# Rewrite the lock files of catalog bundles that have requirements. The
# catalog pins its images by tag: its locks record no image digests.
lock: build
	for d in bundles/stable/*/ examples/*/; do \
		if grep -q '^requires:' $$d/bundle.yaml 2>/dev/null; then ./bin/bundle lock --skip-images $$d || exit 1; fi; \
	done

clean: cluster-down
	rm -rf bin $(DEMO_STATE) $(TEST_STATE) $(TEST_STATE_ONE_NODE)
