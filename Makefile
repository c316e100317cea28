# stampede — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/stampede
# Where `make run` serves the demo target, and the plan it runs against it.
ADDR  ?= 127.0.0.1:8080
PLAN  ?= examples/quickstart.yaml

.PHONY: all build run test chaos fmt lint clean deploy undeploy

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

## test: vet and race-test every package (infra/chaos through `make chaos`, which prints its table)
test: infra/localaws/node_modules
	$(GO) vet ./...
	$(GO) test -race $$($(GO) list ./... | grep -v '/infra/chaos$$')
	$(MAKE) --no-print-directory chaos

## chaos: the reliability scenarios on the local backend and the AWS-integration path, race-tested; prints their table (also in bin/chaos.md)
chaos: infra/localaws/node_modules
	@mkdir -p bin
	cd infra/chaos && $(GO) test -race -count=1 -timeout 15m -chaos.table ../../bin/chaos.md

# The local SQS server (npm) that the AWS adapters' tests start.
infra/localaws/node_modules: infra/localaws/package-lock.json
	npm ci --prefix infra/localaws --no-audit --no-fund --loglevel=error
	@touch $@

## deploy: build the generator once, deploy the stack to every region of $(REGIONS) (DRY_RUN=1 prints the commands)
REGIONS ?= us-east-1
STACK   ?= stampede
deploy: build
	$(BIN) deploy --regions "$(REGIONS)" --stack-name $(STACK) $(if $(DRY_RUN),--dry-run)

## undeploy: empty the results bucket and delete the stack in every region of $(REGIONS)
undeploy: build
	$(BIN) undeploy --regions "$(REGIONS)" --stack-name $(STACK) $(if $(DRY_RUN),--dry-run)

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

.PHONY: bench-peers bench-fleet
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin

## bench-peers: install nginx, wrk, vegeta, hey and fortio if missing, then measure stampede's engine against them (docs/benchmarks.md)
bench-peers:
	@command -v nginx >/dev/null && command -v wrk >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 nginx wrk; }
	@test -x $(GOBIN_DIR)/vegeta || $(GO) install github.com/tsenart/vegeta/v12@v12.13.0
	@test -x $(GOBIN_DIR)/hey    || $(GO) install github.com/rakyll/hey@v0.1.5
	@test -x $(GOBIN_DIR)/fortio || $(GO) install fortio.org/fortio@v1.68.2
	$(GO) build -o bin/engineload ./infra/bench/engineload
	$(GO) build -o bin/peers ./infra/bench/peers
	bin/peers -engineload bin/engineload -bin $(GOBIN_DIR) -duration 5s -reps 3 -out docs/benchmarks.md

## bench-fleet: the fleet figures of docs/benchmarks.md: split and enqueue 10,000 tasks (in-process queue and local-aws-sqs), collect and merge 10,000 results, the merge's hot paths side by side, the generator's cold start under the RIE
BENCHSTAT := $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench-fleet: infra/localaws/node_modules
	$(GO) test -run xxx -bench Fleet -benchtime 1x -count 3 -timeout 60m ./orchestrator/
	@mkdir -p bin
	$(GO) test -run xxx -bench AddResult -count 6 ./engine/ > bin/bench-merge.txt
	$(BENCHSTAT) -col /path bin/bench-merge.txt
	$(GO) test -run xxx -bench CheckPayload -count 6 ./engine/
	$(GO) test -run xxx -bench ColdStart -benchtime 20x ./infra/bench/coldstart/
