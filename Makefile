# Two entry points (see README): `make demo` runs the main job on the
# committed fixtures, `make test` runs every check CI runs. Both provision
# ONNX Runtime themselves through `cutmix-cam setup`.

GO ?= go
BIN := bin/cutmix-cam
# Packages that must build without cgo (everything but onnx and cmd).
PURE := $(shell $(GO) list ./... 2>/dev/null | grep -v -e '/cmd/' -e '/onnx$$' -e '/onnx/onnxpb' -e '/internal/scratch')

.PHONY: build setup demo test bench

build:
	$(GO) build -o $(BIN) ./cmd/cutmix-cam

setup: build
	./$(BIN) setup

# The main job: compare the four fixture checkpoints (baseline, CutMix,
# Mixup, Cutout) on the evaluation split; writes out/demo/report.html,
# results.json and summary.md. Reruns reuse out/demo/.cache.
FIXTURES := $(foreach m,baseline cutmix mixup cutout,testdata/models/fmnist_$(m).onnx)

demo: setup
	./$(BIN) compare --norm unit --out out/demo --data testdata/fmnist-wsol $(FIXTURES)

test: setup
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./... ./testdata/gen ./testdata/gen/fmnistscenes ./testdata/torchref/kinks
	$(GO) run ./testdata/gen && git diff --exit-code --stat -- testdata || { echo "testdata/gen no longer reproduces the committed fixtures"; exit 1; }
	CGO_ENABLED=0 $(GO) build $(PURE)
	$(GO) test -count=1 ./... ./testdata/gen/fmnistscenes
	$(MAKE) --no-print-directory demo

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./...
