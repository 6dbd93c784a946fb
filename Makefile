# Lantern: getting word of domestic abuse to the people who protect children.
#
#   make run    start the whole pipeline locally (embedded NATS, PostgreSQL)
#   make test   run every test against real NATS JetStream and PostgreSQL
#
# Narrow a test run with PKG (a directory) and T (a test regexp):
#   make test PKG=services/intake T=TestEndToEnd

.DEFAULT_GOAL := help
SHELL := /bin/bash

# One module for the whole repository (see README, design notes); the loops
# below still walk `go list -m`, so a second module would be checked too.
MODULES  := $(shell GOWORK=off go list -m -f '{{.Dir}}' 2>/dev/null)
# Tests run one top-level directory at a time, as they did when each service
# was its own module: two heavy process-level suites never share the 2 cores.
TEST_DIRS := pkg schemas $(sort $(wildcard services/*))
SERVICES := intake router delivery ledger escalation workspace gateway lantern
BIN      := $(CURDIR)/bin
# BUILD_TAGS is empty for production binaries; make run builds with devidp,
# the development identity provider, which production binaries never contain.
BUILD_TAGS ?=
PKG      ?=
T        ?=
# staticcheck pinned here rather than in go.mod, so that its dependencies never
# move the versions the services build with.
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_FLAGS ?= -race -count=1 -shuffle=on -timeout=30m

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
.PHONY: help

build: ## build every service binary into bin/ (production: no development identity provider)
	@mkdir -p $(BIN)
	@for s in $(SERVICES); do (cd services/$$s && go build -tags '$(BUILD_TAGS)' -o $(BIN)/$$s ./cmd/$$s) || exit 1; done
.PHONY: build

# Jaeger is a program built from the module proxy, only when asked for:
# LANTERN_JAEGER=true make run starts it and prints its address.
JAEGER_VERSION := v1.75.0
LANTERN_JAEGER ?=
# Mailpit, the development mail server with a web view, is built the same
# way unless LANTERN_SMTP_URL names a mail server of the user's own.
MAILPIT_VERSION := v1.33.1
LANTERN_SMTP_URL ?=

run: BUILD_TAGS = devidp
run: build ## run the whole pipeline locally and print where to go (LANTERN_JAEGER=true adds Jaeger for traces)
	@$(if $(filter true,$(LANTERN_JAEGER)),test -x $(BIN)/jaeger || { echo "building Jaeger $(JAEGER_VERSION) (once)…"; GOBIN=$(BIN) go install github.com/jaegertracing/jaeger/cmd/jaeger@$(JAEGER_VERSION); })
	@$(if $(LANTERN_SMTP_URL),,test -x $(BIN)/mailpit || { echo "building Mailpit $(MAILPIT_VERSION) (once)…"; GOBIN=$(BIN) go install github.com/axllent/mailpit@$(MAILPIT_VERSION); })
	@LANTERN_JAEGER=$(LANTERN_JAEGER) $(BIN)/lantern run --root $(CURDIR)
.PHONY: run

test: ## run every module's tests with the race detector, then each fuzz target briefly
	@scripts/install-chromium.sh
	@scripts/install-npm-packages.sh
	@set -e; dirs="$(if $(PKG),$(PKG),$(TEST_DIRS))"; \
	for d in $$dirs; do echo "== $$d"; go test $(TEST_FLAGS) $(if $(T),-run '$(T)') ./$$d/...; done
	@$(if $(PKG)$(T),,$(MAKE) --no-print-directory fuzz)
.PHONY: test

chaos: ## run the long fault suite (kill -9, SIGSTOP, crash points, network, disk and corruption faults, a 10-minute restart storm) and print its figures; T=F5 runs one fault, T=F8/blackhole one variant
	cd services/lantern && LANTERN_CHAOS=long go test -count=1 -timeout 60m -v -run 'TestChaos/$(T)' ./internal/chaos/
	cd services/lantern && LANTERN_CHAOS=long go test -count=1 -timeout 40m -v ./internal/natscluster/
.PHONY: chaos

FUZZ_TIME ?= 5s
FUZZ_TARGETS := pkg/ppn:FuzzDecodeIncident pkg/cloudevent:FuzzFromMsg pkg/calendar:FuzzDeadlines

fuzz: ## run each fuzz target for FUZZ_TIME (seed corpora live in testdata/fuzz)
	@set -e; for t in $(FUZZ_TARGETS); do dir=$${t%%:*}; name=$${t##*:}; \
	echo "== fuzz $$name ($(FUZZ_TIME))"; (cd $$dir && go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZ_TIME) .); done
.PHONY: fuzz

BENCH ?= .
bench: ## measure Lantern end to end against this machine's raw JetStream and PostgreSQL, then a national year in the ledger (BENCH_NATIONAL_INCIDENTS, default 500,000; see docs/benchmarks.md)
	@cd services/lantern && go test -run '^$$' -bench '$(BENCH)' -benchtime 1x -timeout 120m ./internal/bench/
	@go test -run '^$$' -bench 'BenchmarkRuleEvaluation' -benchtime 3s ./services/router/internal/routing/
.PHONY: bench

lint: ## gofmt, go vet, staticcheck, and every module tidy and building on its own
	@test -z "$$(gofmt -l pkg schemas services)" || { gofmt -l pkg schemas services; exit 1; }
	@for d in $(MODULES); do (cd $$d && \
	  { GOWORK=off go mod tidy -diff || { echo "$$d: go.mod is not tidy (make tidy)"; exit 1; }; } && \
	  { GOWORK=off go build ./... || { echo "$$d: does not build outside go.work"; exit 1; }; } && \
	  go vet ./... && go vet -tags devidp ./... && $(STATICCHECK) -tags devidp ./...) || exit 1; done
.PHONY: lint

tidy: ## go mod tidy in every module
	@for d in $(MODULES); do (cd $$d && GOWORK=off go mod tidy) || exit 1; done
.PHONY: tidy

clean: ## remove binaries (keeps .lantern, the local data)
	rm -rf $(BIN)
.PHONY: clean
