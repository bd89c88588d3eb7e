# Spate's everyday commands. `make test` is what CI runs (.ci/run).

GO           ?= go
BIN          := bin/spate
# Generous: the integration tests start the race-enabled server many times.
TEST_TIMEOUT ?= 20m
BENCHTIME    ?= 3s

.PHONY: all build run test proto bench fmt lint clean help

all: build

## build: compile bin/spate
build:
	$(GO) build -o $(BIN) ./cmd/spate

## run: build, then serve on 127.0.0.1:4567 (Kinesis API) and :4568 (gRPC), data in ./spate-data
run: build
	./$(BIN) serve

## test: install missing test tools (scripts/test-deps.sh: a C compiler, the AWS CLI), start a real S3 server (scripts/s3-server.sh: versitygw on loopback), go vet, every unit and integration test with -race, stop the S3 server
test:
	./scripts/test-deps.sh
	./scripts/s3-server.sh start
	@status=0; eval "$$(./scripts/s3-server.sh env)"; \
	$(GO) vet ./... && $(GO) test -race -timeout $(TEST_TIMEOUT) ./... || status=$$?; \
	./scripts/s3-server.sh stop; exit $$status

## proto: regenerate proto/ Go code with the pinned tools scripts/proto.sh installs
proto:
	./scripts/proto.sh

## bench: storage benchmark (Spate's shard store and raw Pebble, same key layout) and Firehose delivery to S3 beside GZIP alone
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./shard/
	$(GO) test -run '^$$' -bench DeliveryGzipToS3 -benchtime 3x ./firehose/

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
