# shellcheck shell=bash
# The helpers every project script shares (sourced, never run): one progress function (say), one
# fatal error (die), one group filter (has). Each script sets, before calling them (all optional):
#   SAY_TAG       the tag of its progress lines: "==> [TAG] msg" (unset: "==> msg")
#   SAY_T0        `date +%s%N` at start: each line carries the seconds since, "==> [TAG 1.2s] msg"
#   SAY_SECONDS0  $SECONDS at start, for long runs made of phases: a blank line, then
#                 "==> [TAG   42s] msg" (whole seconds), on fd SAY_FD (default 2, stderr)
#   DIE_PREFIX    what precedes die's message (default "error: ")
#   want          the names asked for on the command line, for has ("all": everything)

say() {
  local tag=${SAY_TAG:-} d
  if [ -n "${SAY_SECONDS0:-}" ]; then
    printf '\n==> [%s %4ds] %s\n' "$tag" "$((SECONDS - SAY_SECONDS0))" "$*" >&"${SAY_FD:-2}"
    return 0
  fi
  if [ -n "${SAY_T0:-}" ]; then
    d=$(( ($(date +%s%N) - SAY_T0) / 100000000 ))
    tag+=" $((d / 10)).$((d % 10))s"
  fi
  if [ -n "$tag" ]; then printf '==> [%s] %s\n' "${tag# }" "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() { printf '%s%s\n' "${DIE_PREFIX-error: }" "$*" >&2; exit 1; }
# has NAME: NAME is among the words of $want (or $want is "all").
# shellcheck disable=SC2154 # want: set by the sourcing script
has() { [ "$want" = all ] || [[ " $want " == *" $1 "* ]]; }
