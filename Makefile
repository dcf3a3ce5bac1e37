# The single entry point: build, run, test, bench. Tools are installed, pinned, into .tools/.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

WASM_TARGET := wasm32-wasip2
COMPONENT   := target/$(WASM_TARGET)/release/gif_gateway.wasm
ADAPTER     := target/$(WASM_TARGET)/release/spin_variables_adapter.wasm
COMPOSED    := target/gif_gateway.wasmtime.wasm
SEEDER      := target/release/seeder
TOOLS       := .tools
PYTHON      := $(TOOLS)/venv/bin/python

.PHONY: help tools test-tools lint-tools build run test lint unit-test integration-test k8s-check e2e k8s-images docs bench bench-quick bench-explore clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

tools: ## Install the pinned tools `make run` needs into .tools/ (MinIO from source, wasmtime, wac)
	scripts/install-tools.sh run

test-tools: ## Install the pinned tools `make test` needs on top of `make tools` (wasm-tools, the test virtualenv, Chromium)
	scripts/install-tools.sh test

lint-tools: ## Install the pinned linters `make lint` needs into .tools/ (clippy and rustfmt of pins.env's toolchain, ruff, shellcheck, tflint)
	scripts/install-tools.sh lint

build: tools ## Build the component, the variables adapter, the seeder and the wasmtime composition
	@# Two builds: built together, the adapter's wit-bindgen features would be unified into the
	@# component's, and `spin build` (the manifest's command, the component alone) would make
	@# a different .wasm.
	cargo build --release --locked --target $(WASM_TARGET) -p gif-gateway
	cargo build --release --locked --target $(WASM_TARGET) -p spin-variables-adapter
	cargo build --release --locked -p seeder
	@# The very same component, with Spin's variables interface supplied from SPIN_VARIABLE_* env.
	$(TOOLS)/bin/wac plug $(COMPONENT) --plug $(ADAPTER) -o $(COMPOSED)

run: build ## Start MinIO, seed it and serve the GIF (Ctrl-C stops)
	scripts/local-stack.sh

test: lint test-tools build unit-test integration-test k8s-check e2e ## All tests: the lint gate, unit, integration (real MinIO, spin up and wasmtime, Chromium), Kubernetes checks, end-to-end on a real cluster

lint: lint-tools ## The lint gate: cargo fmt and clippy (native and wasm32-wasip2, -D warnings), ruff, shellcheck, go vet, terraform fmt and tflint
	scripts/lint.sh

unit-test: test-tools ## Native unit tests: the workspace (cargo test) and the benchmark's pure parts (pytest bench/tests)
	cargo test --locked --workspace
	PYTHONPATH=bench:. $(PYTHON) -m pytest -q bench/tests

integration-test: ## Integration tests against real MinIO, the seeder and Chromium, under spin up (when on PATH) and wasmtime serve
	$(PYTHON) -m pytest -ra tests/

k8s-check: test-tools ## Offline checks of charts/, terraform/, images/ (helm, kubeconform, kube-apiserver dry-run, promtool, real Prometheus + adapter)
	e2e/check-apiserver.sh
	scripts/k8s/check.sh

e2e: test-tools build ## terraform apply on a two-node Kubernetes built from source, then policy, drain, telemetry, HPA, data and destroy checks (needs root)
	e2e/run.sh

k8s-images: build ## Image tarballs (app, MinIO + mc, seeder) for `minikube image load`, built without Docker
	scripts/k8s/build-images.sh

docs: ## Regenerate the chart and Terraform README tables (readme-generator-for-helm, terraform-docs) and the README's make targets table
	scripts/k8s/docs.sh

bench: build ## Benchmark the GIF path under spin up (Spin 4) and wasmtime against the WASIp3 Spin floor, nginx-s3-gateway, s3www, MinIO direct and nginx (~12 min); writes bench/results.*
	scripts/install-bench-tools.sh
	PYTHONPATH=bench:. $(TOOLS)/bench-venv/bin/python -m gifbench

bench-quick: build ## Smoke run of the benchmark (one short round, ~2 min); writes .local/bench-quick/, never bench/results.*
	scripts/install-bench-tools.sh
	PYTHONPATH=bench:. $(TOOLS)/bench-venv/bin/python -m gifbench --quick

bench-explore: build ## Compare wasmtime serve options for the component (~5 min); writes bench/explore.*
	scripts/install-bench-tools.sh
	PYTHONPATH=bench:. $(TOOLS)/bench-venv/bin/python -m gifbench --explore

clean: ## Remove build output (keeps .tools/ and the .local/ stack data)
	cargo clean
