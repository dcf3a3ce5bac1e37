# shellcheck shell=bash
# The start of the installers in scripts/ (sourced): at the repository root, with ROOT, TOOLS and
# .tools/bin, the shared helpers (say, die, has) and the stamps.
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit
ROOT=$PWD
TOOLS=$ROOT/.tools
mkdir -p "$TOOLS/bin"
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/stamps.sh
. "$ROOT/scripts/lib/stamps.sh"
