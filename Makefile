# Custos — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/custos

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

generate: ## regenerate ent (ent/, graph/ent.graphql) and then gqlgen (graph/generated.go)
	cd ent && $(GO) generate .
	$(GO) run ./graph/cmd/gqlgen

verify: generate ## regenerate and fail if generated code differs from what is committed
	@git add -N . && git diff --exit-code --stat -- ent graph gqlgen.yml || \
	  (echo "generated code is out of date: run 'make generate' and commit" && exit 1)

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

build: ## build bin/custos
	$(GO) build -o $(BIN) .

run: build ## run the server on the embedded database with a demo tenant
	CUSTOS_DEMO=true ./$(BIN) serve

test: ## run all tests (SQLite; PostgreSQL too when CUSTOS_TEST_DATABASE_URL is set)
	$(GO) test -count=1 ./...

seed: build ## fill a tenant with generated data, e.g. make seed ARGS='--tenant big --customers 1000000'
	./$(BIN) seed $(ARGS)

bench: ## run the benchmark pairs on PostgreSQL (CUSTOS_BENCH_DATABASE_URL) and print the table; BENCH_FLAGS passes flags
	$(GO) test -run '^$$' -bench . ./internal/bench/
	$(GO) run ./internal/bench/cmd/benchtable $(BENCH_FLAGS)

soak: ## run the load mix for 30 minutes on the bench database and report errors, p99 drift and memory (server log: soak-server.log, heap profile: soak-heap.pprof)
	$(GO) run ./internal/bench/cmd/benchtable -soak 30m -server-log soak-server.log -memprofile soak-heap.pprof $(BENCH_FLAGS)

include Makefile.migration.mk
