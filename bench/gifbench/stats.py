"""Pure arithmetic over the raw runs: medians per target, the ratios between targets (from one run),
per-round ratios and the goals' verdicts. No I/O, so it is unit-tested natively."""

from __future__ import annotations

import statistics


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


SUMMARY_KEYS = ("rps", "p50_ms", "p90_ms", "p99_ms", "peak_rss_kib", "cold_start_ms", "server_cpu_us_per_req",
                "minio_cpu_us_per_req", "wrk_cpu_us_per_req", "stack_cpu_us_per_req", "c1_rps", "c1_p50_ms",
                "c1_p90_ms", "c1_p99_ms")


def summarize(runs: list[dict], names: list[str]) -> dict:
    for r in runs:
        r["stack_cpu_us_per_req"] = round(r["server_cpu_us_per_req"] + (r.get("minio_cpu_us_per_req") or 0), 1)
    return {n: {k: median([r.get(k) for r in runs if r["target"] == n]) for k in SUMMARY_KEYS} for n in names}


def ratio_of(med: dict, a: str, b: str, k: str, bk: str | None = None) -> float | None:
    x, y = med.get(a, {}).get(k), med.get(b, {}).get(bk or k)
    return round(x / y, 4) if x and y else None


# name: (numerator target, denominator target, key) for the ratio table. The goals' own ratios
# (verdicts() below) come first; the rest explain them.
RATIOS = {
    "spin req/s ÷ nginx-s3-gateway (cache off) req/s": ("spin", "nginx-s3gw", "rps"),
    "spin req/s ÷ floor req/s": ("spin", "floor", "rps"),
    "spin p99 ÷ MinIO-direct p99": ("spin", "minio-direct", "p99_ms"),
    "spin -c1 p99 ÷ floor -c1 p99": ("spin", "floor", "c1_p99_ms"),
    "spin peak RSS ÷ hello peak RSS": ("spin", "hello", "peak_rss_kib"),
    "cache hit (SQLite) req/s ÷ MinIO-direct req/s": ("cache-hit", "minio-direct", "rps"),
    "cache hit (memory) req/s ÷ MinIO-direct req/s": ("cache-hit-mem", "minio-direct", "rps"),
    "cache hit (SQLite) req/s ÷ nginx-s3-gateway (cache on) req/s": ("cache-hit", "nginx-s3gw-cache", "rps"),
    "cache hit (memory) req/s ÷ nginx-s3-gateway (cache on) req/s": ("cache-hit-mem", "nginx-s3gw-cache", "rps"),
    "cache hit (memory) req/s ÷ cache hit (SQLite) req/s": ("cache-hit-mem", "cache-hit", "rps"),
    "floor req/s ÷ nginx-s3-gateway (cache off) req/s": ("floor", "nginx-s3gw", "rps"),
    "floor peak RSS ÷ hello peak RSS": ("floor", "hello", "peak_rss_kib"),
    "nginx-s3-gateway (cache off) req/s ÷ MinIO-direct req/s": ("nginx-s3gw", "minio-direct", "rps"),
    "spin -c1 p99 ÷ nginx-s3-gateway (cache off) -c1 p99": ("spin", "nginx-s3gw", "c1_p99_ms"),
    "spin -c1 p99 ÷ MinIO-direct -c1 p99": ("spin", "minio-direct", "c1_p99_ms"),
    "spin (Spin+MinIO) CPU/req ÷ nginx-s3-gateway (nginx+MinIO) CPU/req": (
        "spin",
        "nginx-s3gw",
        "stack_cpu_us_per_req",
    ),
    "spin-varfile req/s ÷ spin req/s": ("spin-varfile", "spin", "rps"),
    "wasmtime req/s ÷ spin req/s": ("wasmtime", "spin", "rps"),
    "spin req/s ÷ s3www req/s": ("spin", "s3www", "rps"),
    "cache hit (memory) req/s ÷ s3www req/s": ("cache-hit-mem", "s3www", "rps"),
    "spin req/s ÷ MinIO-direct req/s": ("spin", "minio-direct", "rps"),
}


def ratios(med: dict) -> dict:
    return {key: ratio_of(med, *spec) for key, spec in RATIOS.items()}


def per_round_ratio(runs: list[dict], a: str, b: str, key: str) -> float | None:
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["target"]] = r.get(key)
    vals = [v[a] / v[b] for v in by.values() if v.get(a) and v.get(b)]
    return round(statistics.median(vals), 3) if vals else None


def best_cache_row(med: dict) -> str:
    """The store configuration that measured best in this run (the one to recommend)."""
    return max(("cache-hit", "cache-hit-mem"), key=lambda n: med.get(n, {}).get("rps") or 0)


WASM_LIMIT = 512 << 10
MEMORY_GROWTH_LIMIT_KIB = 4 << 10  # "flat": 4x the object size costs < 4 MiB more peak RSS


def verdicts(result: dict) -> dict:
    """The goals of issue 18, each against this run (met None: a row it needs is missing). The
    gateway is the `spin` row; the edge-cache goals take the better of the two cache-hit rows."""
    med, facts = result["medians"], result["facts"]
    mem = {m["target"]: m for m in result.get("memory", [])}
    growth = mem.get("spin", {}).get("growth_kib")

    best_cache = best_cache_row(med)

    def goal(value, op, limit, text):
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        return {"value": value, "target": text, "met": met}

    return {
        "spin_rps_vs_nginx_s3_gateway": goal(ratio_of(med, "spin", "nginx-s3gw", "rps"), ">=", 1.0,
                                             "req/s >= 1.0x nginx-s3-gateway's, cache off"),
        "spin_rps_vs_floor": goal(ratio_of(med, "spin", "floor", "rps"), ">=", 0.95,
                                  "req/s >= 0.95x the WASIp3 floor's"),
        "spin_p99_vs_minio_direct": goal(ratio_of(med, "spin", "minio-direct", "p99_ms"), "<=", 1.3,
                                         "p99 <= 1.3x MinIO-direct's"),
        "spin_c1_p99_vs_floor": goal(ratio_of(med, "spin", "floor", "c1_p99_ms"), "<=", 1.2,
                                     "-c1 keep-alive p99 <= 1.2x the floor's"),
        "spin_rss_vs_hello": goal(ratio_of(med, "spin", "hello", "peak_rss_kib"), "<=", 1.2,
                                  "peak RSS under spin up <= 1.2x the WASIp3 hello world's"),
        "memory_flat": goal(growth, "<=", MEMORY_GROWTH_LIMIT_KIB,
                            "spin peak RSS, largest minus smallest large object, < 4 MiB"),
        "cache_hit_vs_minio_direct": goal(ratio_of(med, best_cache, "minio-direct", "rps"), ">=", 1.0,
                                          f"edge-cache hit ({best_cache}) req/s >= 1.0x MinIO-direct's"),
        "cache_hit_vs_nginx_s3_gateway_cache": goal(ratio_of(med, best_cache, "nginx-s3gw-cache", "rps"), ">=", 0.5,
                                                    f"edge-cache hit ({best_cache}) req/s >= 0.5x nginx-s3-gateway's "
                                                    "cache hit"),
        "wasm_bytes": goal(facts["wasm_bytes"], "<=", WASM_LIMIT, f"<= {WASM_LIMIT:,} bytes (512 KiB)"),
    }
