#!/usr/bin/env bash
# The reference tables of the Kubernetes delivery are generated, never edited by hand:
#   - charts/*/README.md, section "## Parameters": from the `## @section` / `## @param` comments of
#     the chart's values.yaml (@bitnami/readme-generator-for-helm; it also refuses a value without
#     an @param and an @param without a value);
#   - terraform/README.md, between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->: requirements,
#     inputs and outputs (terraform-docs, settings in terraform/.terraform-docs.yml).
# Both tools are pinned and installed into .tools/ by scripts/k8s/tools.sh.
#
#   scripts/k8s/docs.sh                 # regenerate the tables in place
#   scripts/k8s/docs.sh --check [DIR]   # regenerate a copy of DIR's charts/ and terraform/ (default:
#                                       # this checkout) and fail, printing the diff, when a README differs
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

mode="write"
if [ "${1:-}" = --check ]; then mode=check; shift; fi
SRC=$(cd "${1:-$ROOT}" && pwd)

scripts/k8s/tools.sh terraform-docs readme-generator
READMEGEN=$ROOT/.tools/readme-generator/node_modules/.bin/readme-generator
TFDOCS=$ROOT/.tools/bin/terraform-docs

# Every README is attempted even after a failure, so one run reports all of them.
failed=0
quiet() { # run a generator; on failure show its error lines (readme-generator adds a Node stack trace)
  local out
  if ! out=$("$@" 2>&1); then
    { grep -E '^(ERROR|Error):' <<<"$out" || printf '%s\n' "$out"; } | sed 's/^/    /' >&2
    return 1
  fi
}

generate() { # DIR: rewrite the tables of DIR/charts/*/README.md and DIR/terraform/README.md in place
  local dir=$1 chart
  for chart in "$dir"/charts/*/; do
    chart=${chart%/}
    quiet "$READMEGEN" --values "$chart/values.yaml" --readme "$chart/README.md" \
      || { echo "docs: readme-generator failed for charts/$(basename "$chart")" >&2; failed=1; }
  done
  # inject mode refuses a README without the BEGIN/END markers instead of appending to it.
  quiet "$TFDOCS" --config "$dir/terraform/.terraform-docs.yml" "$dir/terraform" \
    || { echo "docs: terraform-docs failed for terraform/" >&2; failed=1; }
}

if [ "$mode" = write ]; then
  generate "$SRC"
  python3 "$ROOT/scripts/docs/make-table.py" "$SRC" || failed=1 # README.md's make targets table
  [ "$failed" -eq 0 ] && echo "docs: charts/*/README.md and terraform/README.md regenerated"
  exit "$failed"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A local terraform/.terraform/ (provider binaries after `terraform init`) is not needed.
tar -C "$SRC" --exclude=terraform/.terraform -cf - charts terraform | tar -C "$tmp" -xf -
generate "$tmp"
stale=()
for readme in "$SRC"/charts/*/README.md "$SRC/terraform/README.md"; do
  rel=${readme#"$SRC"/}
  if ! diff -u --label "$rel (committed)" --label "$rel (generated)" "$readme" "$tmp/$rel"; then
    stale+=("$rel")
  fi
done
if [ "${#stale[@]}" -gt 0 ]; then
  echo "docs: out of date: ${stale[*]} (regenerate with scripts/k8s/docs.sh)" >&2
  failed=1
fi
python3 "$ROOT/scripts/docs/make-table.py" --check "$SRC" || failed=1 # README.md's make targets table
[ "$failed" -eq 0 ] && echo "docs: every generated README table is up to date"
exit "$failed"
