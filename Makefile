# stampede — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/stampede
# Where `make run` serves the demo target, and the plan it runs against it.
ADDR  ?= 127.0.0.1:8080
PLAN  ?= examples/quickstart.yaml

.PHONY: all build run test fmt lint clean

all: build

## build: compile the CLI into bin/stampede
build:
	$(GO) build -o $(BIN) ./cmd/stampede

## run: serve the demo target on $(ADDR), run $(PLAN) against it, stop the target
run: build
	@rm -f bin/target.log; \
	$(BIN) target --addr $(ADDR) >bin/target.log 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 1 100); do \
	  grep -q 'listening on' bin/target.log 2>/dev/null && break; \
	  if ! kill -0 $$pid 2>/dev/null; then \
	    echo "make run: the demo target did not start:" >&2; cat bin/target.log >&2; exit 3; \
	  fi; \
	  sleep 0.1; \
	done; \
	grep -q 'listening on' bin/target.log || { echo "make run: the demo target did not answer in 10s" >&2; exit 3; }; \
	echo "demo target on http://$(ADDR) (log: bin/target.log)"; \
	$(BIN) run $(PLAN) --target http://$(ADDR)

## test: vet and race-test every package
test:
	$(GO) vet ./...
	$(GO) test -race ./...

## fmt: format every Go file
fmt:
	gofmt -w .

## lint: gofmt must have nothing to say, and go vet must pass
lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt -l found unformatted files:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## clean: remove build output (runs/ is kept: it holds your results)
clean:
	rm -rf bin dist
