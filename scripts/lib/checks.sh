# shellcheck shell=bash
# The one pass/fail reporter of the shell checks (scripts/k8s/check.sh, e2e/check-apiserver.sh):
# ok/ko/skip print one indented line each and count it; summary lists the failures and the counts
# and returns 1 on any failure, so a script can end with it.
PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()
ok() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$*"; }
ko() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); printf '  FAIL  %s\n' "$*"; }
skip() { SKIPPED=$((SKIPPED + 1)); printf '  skip  %s\n' "$*"; }
# summary [LABEL [skips]]: "  FAILED: ..." lines, then "LABEL: N passed, N failed[, N skipped]".
summary() {
  local f
  for f in ${FAILURES[@]+"${FAILURES[@]}"}; do printf '  FAILED: %s\n' "$f"; done
  printf '%s%d passed, %d failed%s\n' "${1:+$1: }" "$PASSED" "$FAILED" "${2:+, $SKIPPED skipped}"
  [ "$FAILED" -eq 0 ]
}
