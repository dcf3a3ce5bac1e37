# shellcheck shell=bash
# The one pass/fail reporter of the shell checks (scripts/k8s/check.sh, e2e/check-apiserver.sh):
# ok/ko/skip print one indented line each and count it; assert/pass/must_fail turn a condition
# or a command into one of them; summary lists the failures and the counts
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
# assert "what" test-args... : a condition (never aborts the script under set -e)
assert() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
# pass "what" cmd... : the command must succeed; its output's tail is shown when it does not
pass() {
  local what=$1 out; shift
  if out=$("$@" 2>&1); then ok "$what"; else ko "$what"; printf '%s\n' "$out" | sed 's/^/        /' | tail -40; fi
}
# must_fail "what" "expected substring"... -- cmd... : the command must fail and print every
# substring, so that a failure for another reason does not count as the expected rejection
must_fail() {
  local what=$1 expects=() out rc=0 e; shift
  while [ "$1" != "--" ]; do expects+=("$1"); shift; done; shift
  out=$("$@" 2>&1) || rc=$?
  if [ $rc -eq 0 ]; then ko "$what (expected a failure, the command passed)"; printf '%s\n' "$out" | sed 's/^/        /' | tail -20; return; fi
  for e in "${expects[@]}"; do
    if ! grep -qF -- "$e" <<<"$out"; then ko "$what (missing: $e)"; printf '%s\n' "$out" | sed 's/^/        /' | tail -20; return; fi
  done
  ok "$what (rejected as expected: ${#expects[@]} findings)"
}
