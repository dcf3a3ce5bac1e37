"""Native tests of the benchmark's pure parts (wrk parsing, the statistics, the goals) and of the
wrk runner against a real loopback server. `make unit-test` runs them; no Spin, MinIO or cluster."""

import http.server
import threading

import pytest

from gifbench import stats, wrk

# What wrk 4.1 prints with --latency (the layout parse_wrk reads).
WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8080/animation.gif
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.50ms  800.00us  40.00ms   90.00%
    Req/Sec     6.40k   300.00     7.00k    70.00%
  Latency Distribution
     50%    2.10ms
     75%    2.80ms
     90%    3.50ms
     99%    1.20s
  38400 requests in 3.00s, 1.98GB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  12800.00
Transfer/sec:    675.00MB
"""


def test_durations_in_every_unit_wrk_prints():
    assert wrk.parse_duration_ms("250us") == pytest.approx(0.25)
    assert wrk.parse_duration_ms("2.5ms") == 2.5
    assert wrk.parse_duration_ms("1.20s") == 1200
    assert wrk.parse_duration_ms("2m") == 120000
    with pytest.raises(ValueError):
        wrk.parse_duration_ms("3h")


def test_parse_wrk_reads_rate_latencies_and_errors():
    res = wrk.parse_wrk(WRK_OUTPUT)
    assert res["rps"] == 12800.0
    assert res["requests"] == 38400 and res["seconds"] == 3.0
    assert (res["p50_ms"], res["p75_ms"], res["p90_ms"], res["p99_ms"]) == (2.1, 2.8, 3.5, 1200.0)
    assert (res["mean_ms"], res["stdev_ms"], res["max_ms"]) == (2.5, 0.8, 40.0)
    assert res["non_2xx"] == 7
    assert res["socket_errors"] == 6


def test_parse_wrk_refuses_output_without_a_rate():
    with pytest.raises(RuntimeError, match="Requests/sec"):
        wrk.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_run_wrk_against_a_loopback_server_counts_what_the_server_saw():
    served = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            served.append(self.path)
            body = b"gif" if self.path == "/ok" else b"no"
            self.send_response(200 if self.path == "/ok" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        ok = wrk.run_wrk(f"{url}/ok", threads=1, connections=2, seconds=1)
        assert ok["requests"] > 0 and ok["rps"] > 0 and ok["non_2xx"] == 0
        # wrk counts completed responses; the server may have answered a few more at the stop.
        assert ok["requests"] <= len(served)
        assert ok["p50_ms"] <= ok["p99_ms"]
        assert ok["wrk_cpu_s"] > 0
        missing = wrk.run_wrk(f"{url}/missing", threads=1, connections=1, seconds=1)
        assert missing["non_2xx"] == missing["requests"] > 0
    finally:
        server.shutdown()


def run(target, rnd, **values):
    return {"target": target, "round": rnd, "server_cpu_us_per_req": 100.0, **values}


def test_medians_per_target_skip_missing_values():
    runs = [run("spin", 1, rps=900.0), run("spin", 2, rps=2000.0), run("spin", 3, rps=1000.0, p99_ms=5.0),
            run("nginx-s3gw", 1, rps=400.0, minio_cpu_us_per_req=50.0)]
    med = stats.summarize(runs, ["spin", "nginx-s3gw", "floor"])
    assert med["spin"]["rps"] == 1000.0  # the middle value, not the mean (1300)
    assert med["spin"]["p99_ms"] == 5.0
    assert med["nginx-s3gw"]["stack_cpu_us_per_req"] == 150.0
    assert med["floor"]["rps"] is None


def test_ratios_are_from_the_same_medians_and_none_when_a_row_is_missing():
    med = {"spin": {"rps": 1000.0, "p99_ms": 4.0}, "nginx-s3gw": {"rps": 800.0}, "minio-direct": {"p99_ms": 2.0}}
    assert stats.ratio_of(med, "spin", "nginx-s3gw", "rps") == 1.25
    assert stats.ratio_of(med, "spin", "minio-direct", "p99_ms") == 2.0
    assert stats.ratio_of(med, "spin", "floor", "rps") is None
    table = stats.ratios(med)
    assert table["spin req/s ÷ nginx-s3-gateway (cache off) req/s"] == 1.25
    assert table["spin req/s ÷ floor req/s"] is None


def test_per_round_ratio_pairs_targets_within_each_round():
    runs = [run("spin", 1, rps=100.0), run("floor", 1, rps=200.0),
            run("spin", 2, rps=300.0), run("floor", 2, rps=300.0),
            run("spin", 3, rps=500.0)]  # round 3 has no floor: left out, not divided by None
    assert stats.per_round_ratio(runs, "spin", "floor", "rps") == 0.75


def test_verdicts_say_met_not_met_and_unknown():
    result = {
        "medians": {"spin": {"rps": 1200.0, "p99_ms": 3.0}, "nginx-s3gw": {"rps": 1000.0},
                    "minio-direct": {"p99_ms": 2.0, "rps": 2000.0}, "cache-hit-mem": {"rps": 2500.0},
                    "cache-hit": {"rps": 100.0}},
        "facts": {"wasm_bytes": stats.WASM_LIMIT + 1},
        "memory": [{"target": "spin", "growth_kib": 1024}],
    }
    v = stats.verdicts(result)
    assert v["spin_rps_vs_nginx_s3_gateway"] == {"value": 1.2, "target": v["spin_rps_vs_nginx_s3_gateway"]["target"],
                                                 "met": True}
    assert v["spin_p99_vs_minio_direct"]["met"] is False  # 1.5x > 1.3x
    assert v["spin_rps_vs_floor"]["met"] is None          # no floor row in this run
    assert v["cache_hit_vs_minio_direct"]["met"] is True  # the better store (memory) counts
    assert "cache-hit-mem" in v["cache_hit_vs_minio_direct"]["target"]
    assert v["memory_flat"]["met"] is True
    assert v["wasm_bytes"]["met"] is False
