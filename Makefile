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

demo: setup
	./$(BIN) inspect testdata/models/tiny_cam.onnx
	./$(BIN) predict --top-k 3 testdata/models/tiny_cam.onnx testdata/images/shapes.png testdata/images/shapes.jpg testdata/images/gray.png

test: setup
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./... ./testdata/gen
	$(GO) run ./testdata/gen && git diff --exit-code --stat -- testdata || { echo "testdata/gen no longer reproduces the committed fixtures"; exit 1; }
	CGO_ENABLED=0 $(GO) build $(PURE)
	$(GO) test -count=1 ./...
	$(MAKE) --no-print-directory demo

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./...
