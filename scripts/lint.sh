#!/usr/bin/env bash
# The lint gate (`make lint`, which `make test` runs first): every linter runs, each failure is
# listed, and the exit status is 1 when any failed. The tools are the pinned ones that
# `scripts/install-tools.sh lint` puts into .tools/ (versions: pins.env).
#   clippy, rustfmt   cargo +RUST_LINT_TOOLCHAIN, the workspace natively and the components for wasm32-wasip2
#   ruff              the Python of tests/, bench/, scripts/, e2e/ (ruff.toml)
#   ShellCheck        every tracked *.sh and .ci/run (.shellcheckrc)
#   go vet            each Go module with Go code of its own
#   terraform fmt     terraform/ (terraform or tofu from PATH, as `make k8s-check` uses), and tflint
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
. "$ROOT/pins.env"

failed=()
lint() { # name command...: runs it, records a failure, carries on
  local name=$1 t0=$SECONDS; shift
  printf '==> [lint] %s\n' "$name" >&2
  if "$@"; then printf '    ok   %s (%ss)\n' "$name" "$((SECONDS - t0))" >&2
  else printf '    FAIL %s\n' "$name" >&2; failed+=("$name"); fi
}

cargo_lint=(cargo "+$RUST_LINT_TOOLCHAIN")
lint "cargo fmt" "${cargo_lint[@]}" fmt --all --check
lint "clippy (native, workspace)" "${cargo_lint[@]}" clippy --locked --quiet --workspace --all-targets -- -D warnings
# The crates that are Spin/WASI components, for their real target: cfg(target_arch = "wasm32")
# code is only seen there.
lint "clippy (wasm32-wasip2 components)" "${cargo_lint[@]}" clippy --locked --quiet --target wasm32-wasip2 \
  -p gif-gateway -p spin-variables-adapter -p floor-proxy --all-targets -- -D warnings

lint "ruff" "$TOOLS/lint-venv/bin/ruff" check --quiet tests bench scripts e2e

mapfile -t shell_scripts < <(git ls-files '*.sh' .ci/run)
lint "shellcheck (${#shell_scripts[@]} scripts)" "$TOOLS/lint-venv/bin/shellcheck" "${shell_scripts[@]}"

# go vet for the modules with Go code of their own (images/, e2e/node/echo, bench/s3www-compat).
# The wrapper modules (e2e/kube, e2e/etcd, e2e/platform/build/*) hold only a go.mod and go.sum
# that build upstream binaries (Kubernetes, etcd, the operators): no code of this project to vet,
# and vetting them would download and type-check those whole dependency trees.
go_vet() { (cd "$1" && go vet ./...); }
while read -r mod; do
  dir=$(dirname "$mod")
  if [ -n "$(git ls-files "$dir/*.go")" ]; then lint "go vet $dir" go_vet "$dir"; fi
done < <(git ls-files '*go.mod' | sort)

TF=${TERRAFORM:-$(command -v terraform || command -v tofu || true)}
if [ -n "$TF" ]; then
  # An empty CLI configuration: fmt needs no providers, and this keeps a missing ~/.terraformrc quiet.
  lint "terraform fmt" env TF_CLI_CONFIG_FILE=/dev/null "$TF" fmt -check -recursive -diff terraform/
else
  printf '    FAIL terraform fmt: terraform (or tofu) not found on PATH\n' >&2; failed+=("terraform fmt")
fi
lint "tflint" "$TOOLS/bin/tflint" --chdir=terraform --format=compact

if [ ${#failed[@]} -gt 0 ]; then
  printf 'lint: %d failed: %s\n' "${#failed[@]}" "$(IFS=,; echo "${failed[*]}")" >&2
  exit 1
fi
echo "lint: all passed" >&2
