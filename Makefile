# Spate's everyday commands. `make test` is what CI runs (.ci/run).

GO           ?= go
BIN          := bin/spate
# Generous: the integration tests start the race-enabled server many times.
TEST_TIMEOUT ?= 20m
BENCHTIME    ?= 3s

.PHONY: all build run test proto bench fmt lint clean help console console-screenshots

all: build

## build: compile bin/spate
build:
	$(GO) build -o $(BIN) ./cmd/spate

## run: build, then serve on 127.0.0.1:4567 (Kinesis API) and :4568 (gRPC), data in ./spate-data
run: build
	./$(BIN) serve

## test: install missing test tools (scripts/test-deps.sh: a C compiler, the AWS CLI, PostgreSQL, chromium, the npm clients), check the committed web console bundle is what its sources build to, start a real S3 server (scripts/s3-server.sh: versitygw on loopback) and PostgreSQL (scripts/pg-server.sh: the analytics oracle), go vet, every unit and integration test with -race, stop whichever of the two servers it started, whatever happens
# A server that was already running belongs to someone else (a developer,
# make bench) and is left running.
test:
	./scripts/test-deps.sh
	./scripts/console-build.sh --check
	@s3_started=0; pg_started=0; \
	./scripts/s3-server.sh status >/dev/null 2>&1 || s3_started=1; \
	./scripts/pg-server.sh status >/dev/null 2>&1 || pg_started=1; \
	trap 'if [ $$pg_started = 1 ]; then ./scripts/pg-server.sh stop; fi; if [ $$s3_started = 1 ]; then ./scripts/s3-server.sh stop; fi' EXIT; trap 'exit 130' INT TERM; \
	./scripts/s3-server.sh start && ./scripts/pg-server.sh start && \
	eval "$$(./scripts/s3-server.sh env)" && eval "$$(./scripts/pg-server.sh env)" && \
	$(GO) vet ./... && $(GO) test -race -timeout $(TEST_TIMEOUT) ./...

## console: rebuild the web console's bundle (console/dist, embedded in the binary and committed) from console/web with the npm packages its package-lock.json pins (scripts/console-build.sh)
console:
	./scripts/console-build.sh

## console-screenshots: regenerate docs/console/*.png by running the console's browser tests (chromium, playwright-core) with screenshots on
console-screenshots:
	./scripts/test-deps.sh
	mkdir -p docs/console
	SPATE_SCREENSHOTS=$(CURDIR)/docs/console $(GO) test -count=1 -run 'TestConsole' ./integration/

## proto: regenerate proto/ Go code with the pinned tools scripts/proto.sh installs
proto:
	./scripts/proto.sh

## bench: install the peers (scripts/bench-peers.sh: nats-server and kinesalite into .tools), start the S3 server (scripts/s3-server.sh), build bin/spate-bench and run it (`spate bench`: Spate over gRPC and its Kinesis API beside raw Pebble, kfake, NATS JetStream and kinesalite; Analytics events/s per core on the q5/q7/q11-shaped queries; Firehose delivery to S3 beside GZIP alone; BENCHFLAGS=--quick for the two-minute run; see docs/benchmarks.md), then the Go benchmark of the shard store beside raw Pebble; stop the S3 server if it started it
# The S3 server is stopped at the end only if this target started it: one
# already running belongs to someone else (a test run, a developer).
bench: build
	$(GO) build -o bin/spate-bench ./cmd/spate-bench
	./scripts/bench-peers.sh
	@status=0; started=0; ./scripts/s3-server.sh status 2>/dev/null || started=1; \
	./scripts/s3-server.sh start && eval "$$(./scripts/s3-server.sh env)" && \
	./bin/spate-bench $(BENCHFLAGS) && \
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./shard/ || status=$$?; \
	if [ $$started = 1 ]; then ./scripts/s3-server.sh stop; fi; exit $$status

## fmt: gofmt every Go file
fmt:
	gofmt -w -l .

## lint: fail if a file is not gofmt'ed, then go vet
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## clean: remove build output (never ./spate-data)
clean:
	rm -rf bin

## help: list these targets
help:
	@sed -n 's/^## //p' Makefile
