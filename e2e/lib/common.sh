# Shared by the e2e scripts (sourced, never run). Each script sets, before sourcing:
#   E2E_TAG   its name in messages ("cluster" -> "==> [e2e-cluster] ...", say in scripts/lib/common.sh)
# and, before calling the process helpers:
#   BIN       .tools/bin: only processes running one of these binaries can be "ours"
#   STATE     its state dir: pid files, logs, lock, and the mark on every process it starts
#   SPAWN_IN  (array, optional) a command prefix for spawn, e.g. (nsenter --net=/run/netns/X --)
#   OURS_LOOP (optional) "SCRIPT SUBCOMMAND": a bash loop started as `bash SCRIPT SUBCOMMAND
#             $STATE/` is ours as well (cluster.sh's LoadBalancer loop)
# shellcheck shell=bash disable=SC2034

SAY_TAG=${SAY_TAG:-e2e-$E2E_TAG} DIE_PREFIX="e2e/${0##*/}: "
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh" # say, die
now() { date +%s%N; }
since() { local d=$(( ($(date +%s%N) - $1) / 100000000 )); printf '%d.%d' $((d / 10)) $((d % 10)); } # seconds, 1 decimal
# The comment block between the shebang and `set -euo`, as the usage text.
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
hash_files() { cat "$@" | sha256sum | cut -c1-16; }
# pins NAME...: each NAME from pins.env, the project's one pin file. Read by name rather than
# sourced: pins.env's K8S_VERSION is the schema version of the offline checks, not this cluster's.
pins() {
  local n v
  for n; do v=$(sed -n "s/^$n=//p" "$ROOT/pins.env"); [ -n "$v" ] || die "pins.env has no $n"; printf -v "$n" %s "$v"; done
}

# Serialise the commands that change one state dir. The lock file sits beside the state dir because
# teardown deletes the dir itself. Spawned servers get fd 9 closed (9>&-), so they do not hold the
# lock after the script exits.
lock() { mkdir -p "$(dirname "$STATE")"; exec 9>"$STATE.lock"; flock 9; }

# ---- processes ------------------------------------------------------------------------------
# A pid is ours only if it runs one of our binaries (maybe "(deleted)" after a rebuild) AND its
# command line names our state dir (or it is OURS_LOOP for this state dir). This never matches a
# recycled pid, another instance's servers, or a shell/grep whose arguments merely contain the path.
ours() {
  local p=${1:-} exe cmd
  [ -n "$p" ] && exe=$(readlink "/proc/$p/exe" 2>/dev/null) || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline") || return 1 # 2> first: the pid may be gone
  # No bare `return` here: inside an EXIT trap it would return the status the script is exiting
  # with, and nothing would ever be "ours".
  if [[ $exe == "$BIN/"* ]]; then
    [[ $cmd == *"$STATE/"* ]] && return 0 || return 1
  fi
  [ -n "${OURS_LOOP:-}" ] && [[ $exe == */bash && $cmd == *"$OURS_LOOP $STATE/"* ]]
}
pid_of() { cat "$STATE/pids/$1.pid" 2>/dev/null || true; }
alive() { ours "$(pid_of "$1")"; }
# Every process of ours, pid files or not: nothing we started escapes teardown if a pid file is lost.
state_pids() { local d; for d in /proc/[0-9]*; do ours "${d#/proc/}" && echo "${d#/proc/}"; done; return 0; }
# Our processes running binary NAME.
named_pids() {
  local p exe
  for p in $(state_pids); do exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue; exe=${exe% (deleted)}; [ "${exe##*/}" = "$1" ] && echo "$p"; done
  return 0
}
kill_pids() { # SIGNAL PID... (only ours)
  local sig=$1 p; shift
  for p in "$@"; do ours "$p" && kill "-$sig" "$p" 2>/dev/null; done; return 0
}
stop_procs() { # NAME... : SIGTERM, wait up to 10 s, then SIGKILL
  local n pids="" p left
  for n in "$@"; do pids+=" $(pid_of "$n") $(named_pids "$n")"; done
  # shellcheck disable=SC2086
  kill_pids TERM $pids
  for _ in $(seq 1 100); do
    left=""; for p in $pids; do ours "$p" && left+=" $p"; done
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  say "did not exit on SIGTERM in 10s, SIGKILL:$left"
  # shellcheck disable=SC2086
  kill_pids KILL $left
}

# spawn NAME CMD...: in its own session (setsid), so that a Ctrl-C aimed at the caller, or the
# caller's exit, does not take the server down: only teardown does. All fds are redirected, so a
# caller capturing our stdout ($(...)) does not wait for the server's copy of the pipe. The pid
# file is written by the process itself right before exec ($! would be setsid's pid when it has to
# fork; nsenter into a net namespace execs without forking).
spawn() {
  local name=$1 p; shift
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
  setsid ${SPAWN_IN[@]+"${SPAWN_IN[@]}"} bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$STATE/pids/$name.pid" "$@" \
    </dev/null >>"$STATE/logs/$name.log" 2>&1 9>&- &
  # Wait until the exec happened (the pid runs our binary) or the process is already gone (a bad
  # flag: wait_until then shows its log).
  for _ in $(seq 1 100); do
    p=$(pid_of "$name")
    if [ -n "$p" ]; then ours "$p" || [ ! -d "/proc/$p" ] && return 0; fi
    sleep 0.05
  done
  die "$name did not start (pid file $STATE/pids/$name.pid)"
}

logtail() { say "last lines of $STATE/logs/$1.log:"; tail -n "${2:-30}" "$STATE/logs/$1.log" >&2 || true; }
# wait_until NAME TIMEOUT WHAT CMD...: poll CMD until it succeeds; fail early, with NAME's log, if
# NAME died (NAME "" : no process to watch).
wait_until() {
  local name=$1 timeout=$2 what=$3; shift 3
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [ -n "$name" ] && ! alive "$name"; then say "$name exited while waiting for: $what"; logtail "$name"; return 1; fi
    [ $SECONDS -lt $deadline ] || { say "timed out after ${timeout}s waiting for: $what"; [ -z "$name" ] || logtail "$name"; return 1; }
    sleep 0.2
  done
}

# chart_value PATH: a default of charts/gif-gateway/values.yaml (the Shim's RuntimeClass and handler,
# which the e2e's containerd and RuntimeClass stand in for).
chart_value() { python3 "$ROOT/scripts/lib/field.py" yaml "$ROOT/charts/gif-gateway/values.yaml" "$1"; }

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; } # PID VmRSS|VmHWM
kubectl_() { KUBECONFIG=$KUBECONFIG_PATH KUBECACHEDIR=$STATE/kube-cache "$BIN/kubectl" "$@"; }

# ---- templates ------------------------------------------------------------------------------
# render FILE: FILE with every ${NAME} replaced by the value of the shell variable NAME. An unset
# variable is an error, so a typo in a template cannot turn into an empty setting. Values are not
# scanned again, and nothing else ($x, $(...), backslashes) is special.
render() {
  local text out="" name
  text=$(cat "$1") || die "cannot read template $1"
  while [[ $text =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
    name=${BASH_REMATCH[1]}
    [ -n "${!name+set}" ] || die "${1#"$ROOT"/}: \${$name} is not set"
    out+=${text%%"${BASH_REMATCH[0]}"*}${!name}
    text=${text#*"${BASH_REMATCH[0]}"}
  done
  printf '%s%s\n' "$out" "$text"
}

# ---- Go modules -----------------------------------------------------------------------------
# Needs GO and TOOLS. moddir: the module's source in the module cache (downloaded if missing).
# modtime: its publication time (.info), used as build date so that rebuilds of a pin are identical.
gomod_json() { (cd "$TOOLS" && GOFLAGS=-mod=mod "$GO" mod download -json "$1"); }
moddir() { gomod_json "$1" | python3 "$ROOT/scripts/lib/field.py" json - Dir; }
modtime() { python3 "$ROOT/scripts/lib/field.py" json "$(gomod_json "$1" | python3 "$ROOT/scripts/lib/field.py" json - Info)" Time; }
