"""Side-by-side benchmark of the GIF path on loopback (`make bench`; `python -m gifbench` from bench/).

One MinIO holds the project's GIF in a private bucket, seeded by the project's seeder. The same
wrk load (fixed threads, connections and duration) is sent, in interleaved rounds, to:

  spin           the component under `spin up` (Spin 4), configured as the README says:
                 SPIN_VARIABLE_* environment variables. The headline row: the host users run.
  spin-varfile   the same, with the variables from a file (`spin up --variable @vars.toml`)
  wasmtime       the same .wasm (composed with the Spin-variables adapter) under a tuned
                 `wasmtime serve` (flags in the label): a second host
  floor          bench/floor-proxy (WASIp3, spin-sdk 6) under `spin up`: one
                 spin_sdk::http::send of a presigned URL, the body read whole, answered complete.
                 The least any Spin proxy in front of MinIO costs.
  cache-hit      the gateway with its opt-in edge cache on (`edge_cache=ttl=60s`), a cache hit
                 from Spin's default key-value store (a SQLite file in the state directory)
  cache-hit-mem  the same with an in-memory store (`--runtime-config-file`)
  hello          bench/floor-proxy's hello world (WASIp3) under `spin up`: Spin's own cost and memory
  hello-vars     the hello world after reading the gateway's Spin variables (from spin.toml)
  nginx-s3gw     nginx-s3-gateway (../shared/anchors/nginx-s3-gateway, nginx + njs) with the
                 gateway's GetObject-only key, its proxy cache off: every request goes to MinIO
  nginx-s3gw-cache  the same with its proxy cache on, a hit
  s3www          upstream s3www v1.0.0 (../shared/anchors/bin/s3www) with MinIO's root
                 credentials, or, labelled as such, the bench/s3www-compat stand-in
  minio-direct   a presigned GET straight to MinIO: the "no gateway" floor
  nginx          nginx serving the same file from local disk: the upper bound

The spin rows need Spin >= 4 ($SPIN_BIN, else `spin` on PATH, else ../shared/spin4/bin/spin);
without any Spin they are left out and the RESULT line says NA. The nginx-s3-gateway rows need its
kit ($NGINX_S3_GATEWAY_DIR or ../shared/anchors/nginx-s3-gateway) and are left out without it.

For each: requests/s, p50/p99 latency, peak RSS (VmHWM) of the serving process tree, first-response
latency after a cold start, CPU time per request of the server and of MinIO, and the same GET on one
kept-alive connection (`wrk -t1 -c1`); for the component also the .wasm size. Medians over the
rounds, ratios from the same run. A memory check serves a 16 MiB and a 64 MiB object through the
gateways: flat means the peak RSS does not follow the size.

Writes results.json (every run, raw), results.md and results.png into --out-dir (default bench/),
and ends with one `RESULT ...` line. `--quick` is a smoke run (one short round, small memory
check) that writes into .local/bench-quick/ unless --out-dir says otherwise, so that it never
replaces the committed results. `--explore` instead compares wasmtime serve options for the
component and writes explore.{json,md}.

Everything listens on 127.0.0.1 ports picked at run time; every load is bounded in connections
and time; every process started here is stopped at the end (also on Ctrl-C).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .config import (
    BENCH_DIR,
    COMPONENT,
    COMPOSED,
    FLOOR_WASM,
    GIF,
    MINIO_BIN,
    NGINX_BIN,
    ROOT,
    SEEDER_BIN,
    SERVE_BASE,
    SPIN_BIN,
    TUNED_VARIANT,
    VARIANTS,
    WASMTIME_BIN,
    WRK_BIN,
    find_nginx_s3_gateway,
    find_s3www,
    spin_version,
)
from .machine import machine_facts
from .processes import loadavg
from .report import result_line, write_explore_markdown, write_markdown, write_plot
from .runner import Bench
from .stats import ratios, summarize, verdicts
from .targets import Component, MinioDirect, Nginx, NginxS3Gateway, S3www, Target, spin_targets
from .util import log

ALL_TARGETS = ("spin,spin-varfile,wasmtime,floor,floor-stream,floor-vars,cache-hit,cache-hit-mem,hello,hello-vars,"
               "nginx-s3gw,nginx-s3gw-cache,s3www,minio-direct,nginx")
OPTIONAL_TARGETS = {"floor-stream", "floor-vars"}
# What --quick changes; options given on the command line still win.
QUICK = {"rounds": 1, "duration": 3, "warmup": 1, "solo_seconds": 2, "large_mib": "4,16", "mem_seconds": 2}


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m gifbench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    ap.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 10)), help="seconds per measurement"
    )
    ap.add_argument(
        "--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", 2)), help="seconds of warm-up load"
    )
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    ap.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 32)))
    ap.add_argument("--solo-seconds", type=float, default=float(os.environ.get("BENCH_SOLO_SECONDS", 4)),
                    help="seconds of the one-connection keep-alive load (0 skips it)")
    ap.add_argument("--large-mib", default=os.environ.get("BENCH_LARGE_MIB", "16,64"),
                    help="comma-separated sizes (MiB) of the objects for the memory check ('' skips it)")
    ap.add_argument("--mem-connections", type=int, default=4)
    ap.add_argument("--mem-seconds", type=float, default=3)
    ap.add_argument("--targets", default=os.environ.get("BENCH_TARGETS", ""),
                    help=f"comma-separated subset of {ALL_TARGETS}")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                    + "; results go to .local/bench-quick/ unless --out-dir is given")
    ap.add_argument("--explore", action="store_true", help="compare wasmtime serve options instead")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="with --explore: which of " + ", ".join(VARIANTS))
    ap.add_argument("--out-dir", type=Path, default=None, help="default: bench/ (with --quick: .local/bench-quick/)")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary work dir (logs, MinIO data)")
    ap.add_argument("--report-only", action="store_true",
                    help="only rewrite results.md and results.png from the results.json in --out-dir")
    args = ap.parse_args()
    if args.quick:
        # Defaults, not overrides: a --duration on the command line beats the quick one.
        ap.set_defaults(**QUICK)
        args = ap.parse_args()
    if args.out_dir is None:
        # A smoke run's numbers are not results: they never land where the committed ones are.
        args.out_dir = ROOT / ".local" / "bench-quick" if args.quick else BENCH_DIR
    args.large_mib = [int(x) for x in args.large_mib.split(",") if x.strip()]
    if args.report_only:
        result = json.loads((args.out_dir / "results.json").read_text())
        write_markdown(result, args.out_dir / "results.md")
        write_plot(result, args.out_dir / "results.png")
        print(result["result_line"])
        return 0

    needed = [MINIO_BIN, WASMTIME_BIN, COMPONENT, COMPOSED, SEEDER_BIN, Path(WRK_BIN), Path(NGINX_BIN)]
    if SPIN_BIN and not args.explore:
        needed += [FLOOR_WASM]
    for tool in needed:
        if not Path(tool).exists():
            print(f"error: {tool} is missing; run `make bench` (it builds and installs first)", file=sys.stderr)
            return 2

    if SPIN_BIN and not args.explore:
        version = spin_version(SPIN_BIN)
        if not version or int(version.split(".")[0]) < 4:
            print(f"error: {SPIN_BIN} is Spin {version or '(unknown version)'}; the floor and hello rows are WASIp3 "
                  "components and need Spin >= 4: set SPIN_BIN (e.g. ../shared/spin4/bin/spin)", file=sys.stderr)
            return 2

    if args.explore:
        targets: list[Target] = [Component(v) for v in args.variants.split(",")] + [MinioDirect()]
    else:
        others: list[Target] = [S3www(), MinioDirect(), Nginx()]
        if find_nginx_s3_gateway():
            others = [NginxS3Gateway(cache=False), NginxS3Gateway(cache=True)] + others
        else:
            log("nginx-s3-gateway not found ($NGINX_S3_GATEWAY_DIR, ../shared/anchors/nginx-s3-gateway): "
                "its rows are left out")
        targets = [Component(TUNED_VARIANT, name="wasmtime")] + others
        if SPIN_BIN:
            targets = spin_targets()[:1] + targets[:1] + spin_targets()[1:] + targets[1:]
        else:
            log("spin not found ($SPIN_BIN, PATH, ../shared/spin4/bin): the Spin rows are left out")
        if args.targets:
            wanted = set(args.targets.split(","))
            unknown = wanted - set(ALL_TARGETS.split(","))
            if unknown:
                print(f"error: unknown targets {sorted(unknown)}; known: {ALL_TARGETS}", file=sys.stderr)
                return 2
            targets = [t for t in targets if t.name in wanted]
        else:
            targets = [t for t in targets if t.name not in OPTIONAL_TARGETS]
    names = [t.name for t in targets]

    work = Path(tempfile.mkdtemp(prefix="gif-gateway-bench-"))
    bench = Bench(args, work)
    interrupted = {"sig": None}

    def on_signal(signum, _frame):
        interrupted["sig"] = signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    started_wall = time.monotonic()
    result: dict = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "loadavg_start": loadavg()}
    try:
        result["machine"] = machine_facts()
        bench.setup()
        if not args.explore:
            # Every row answers correctly once before the rounds start: a row that cannot start
            # fails the run in its first minute, not after most of it.
            log("checking that every target answers")
            for t in targets:
                bench.preflight(t)
        runs: list[dict] = []
        for rnd in range(1, args.rounds + 1):
            log(f"round {rnd}/{args.rounds}")
            order = targets[(rnd - 1) % len(targets):] + targets[:(rnd - 1) % len(targets)]
            for t in order:
                runs.append(bench.measure(t, rnd))
        memory = []
        if args.large_mib and not args.explore:
            log("memory vs object size")
            for t in targets:
                if t.name in ("spin", "wasmtime", "s3www"):
                    memory.append(bench.memory_check(t))
    except KeyboardInterrupt:
        print("interrupted; stopping everything this benchmark started", file=sys.stderr)
        bench.procs.stop_all()
        return 130
    except Exception:
        bench.procs.stop_all()
        for logfile in sorted(bench.logdir.glob("*.log")):
            tail = logfile.read_text(errors="replace").splitlines()[-15:]
            if tail:
                print(f"--- last lines of {logfile.name}:\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        bench.procs.stop_all()
        if args.keep_work:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    med = summarize(runs, names)
    facts = dict(bench.facts, gif_bytes=GIF.stat().st_size)
    s3www_upstream = find_s3www()[1]
    result.update({
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started_wall, 1),
        "loadavg_end": loadavg(),
        "params": {"rounds": args.rounds, "duration": args.duration, "warmup": args.warmup, "threads": args.threads,
                   "connections": args.connections, "large_mib": args.large_mib,
                   "mem_connections": args.mem_connections, "mem_seconds": args.mem_seconds,
                   "solo_seconds": args.solo_seconds, "quick": args.quick,
                   "wasmtime_serve_options": SERVE_BASE + VARIANTS[TUNED_VARIANT][1],
                   "seeded_with": "seeder"},
        "targets": names,
        "labels": {t.name: t.label for t in targets},
        "credentials": {t.name: t.credentials for t in targets},
        "facts": facts,
        "runs": runs,
        "medians": med,
    })
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.explore:
        (args.out_dir / "explore.json").write_text(json.dumps(result, indent=1) + "\n")
        write_explore_markdown(result, args.out_dir / "explore.md")
        log(f"wrote {args.out_dir / 'explore.md'} and explore.json in {result['elapsed_s']}s")
        return 0
    result["memory"] = memory
    result["ratios"] = ratios(med)
    result["verdicts"] = verdicts(result)
    result["result_line"] = result_line(med, facts, s3www_upstream, spin_version(SPIN_BIN))
    (args.out_dir / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.out_dir / "results.md")
    try:
        write_plot(result, args.out_dir / "results.png")
    except ImportError as exc:
        log(f"no plot ({exc}); install the bench venv with scripts/install-bench-tools.sh")
    log(f"wrote results.md, results.json, results.png in {args.out_dir} ({result['elapsed_s']}s)")
    for key, v in result["verdicts"].items():
        state = "n/a" if v["met"] is None else "met" if v["met"] else "NOT met"
        log(f"goal {key}: {v['value']} ({v['target']}) -> {state}")
    errors = {r["target"]: r["non_2xx"] + r["socket_errors"] for r in runs if r["non_2xx"] + r["socket_errors"]}
    if errors:
        log(f"WARNING: error responses or socket errors during the load: {errors}; see results.json")
    print(result["result_line"], flush=True)
    return 0
