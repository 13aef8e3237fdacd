# Gatehouse — one binary, one Makefile. Nothing here needs more than Go; the
# test target installs what a fresh machine lacks (scripts/test-deps.sh).
SHELL   := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)
# Two packages at a time: the machine has two cores and -race is heavy.
TEST_P  ?= 2
FUZZTIME ?= 20s

.PHONY: all run build test test-deps bench fuzz lint clean

all: build

## build: bin/gatehouse with the version stamped in
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gatehouse ./cmd/gatehouse

## run: build and serve on http://localhost:8080 with SQLite under ./data
run: build
	./bin/gatehouse serve

## test-deps: Chromium and a PostgreSQL server for the suite (installs or starts them)
test-deps:
	@bash scripts/test-deps.sh

## test: vet, then every test (unit, both databases, end-to-end, fuzz seeds) with -race
test: test-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -p $(TEST_P) -timeout 30m ./...

## bench: Go benchmarks (GOBENCH=0 skips them), then the load run against a
## real server on SQLite and PostgreSQL (knobs DURATION, CONNS, USERS, TOKENS,
## SETTLE, SOAK: see scripts/load.sh)
GOBENCH ?= 1
bench:
	@if [ "$(GOBENCH)" != 0 ]; then $(GO) test -run '^$$' -bench . -benchmem -p 1 ./...; fi
	bash scripts/load.sh

## fuzz: each Fuzz target for $(FUZZTIME)
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

## lint: gofmt and go vet
lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
