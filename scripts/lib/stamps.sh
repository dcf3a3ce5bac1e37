# shellcheck shell=bash
# Stamp files in $TOOLS/stamps record the pinned version a tool in .tools/ was built or installed
# at, so installers skip work that is already done. Sourced by every installer; needs $TOOLS.

# stamp_ok NAME VALUE [PATH]: the stamp says VALUE and, when given, PATH still exists (a deleted
# binary is rebuilt even though its stamp survived).
stamp_ok() { [ -f "$TOOLS/stamps/$1" ] && [ "$(cat "$TOOLS/stamps/$1")" = "$2" ] && { [ -z "${3:-}" ] || [ -e "$3" ]; }; }
stamp_set() { mkdir -p "$TOOLS/stamps"; printf '%s' "$2" > "$TOOLS/stamps/$1"; }
