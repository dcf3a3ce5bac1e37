#!/usr/bin/env python3
"""prometheus-adapter rules, end to end, on loopback only.

Topology (labels as prometheus-operator would set them from our ServiceMonitors):
  replica pods gif-minio-replicas-a / -b  (service gif-minio-replicas)  <- 10 GET/s and 5 GET/s
                                                                         (+ 5 HEAD/s on b)
  primary pod gif-minio-0                 (service gif-minio)            <- 7 GET/s (must not count)
Prometheus scrapes /minio/v2/metrics/node and /minio/v2/metrics/bucket of each every 2s; the
adapter runs the rendered rules against it. Its Kubernetes side is a real kube-apiserver (started
by adapter-e2e.sh, $KUBECONFIG) holding the namespace and the three pods; the test's requests carry
the admin token, which the adapter checks with TokenReview and SubjectAccessReview there.
Asserts:
  * custom.metrics.k8s.io lists exactly pods/minio_replica_s3_get_requests_per_second
  * per-pod values ~10 and ~5 (HEAD and the primary excluded), by selector and by name
  * external.metrics.k8s.io lists gif_gateway_s3_get_requests_per_second and its value
    with labelSelector bucket=gifs is ~15 (sum over replicas, primary excluded)
With `spin` on PATH and the component built (target/wasm32-wasip2/release/gif_gateway.wasm), also
the gateway's own metric: two `spin up` instances of the app ("pods" gif-gateway-a / -b, each
with its OTEL_RESOURCE_ATTRIBUTES as terraform/main.tf sets them) push spin.request_count over
OTLP into the same Prometheus (receiver on, k8s.* attributes promoted, as in
kube-prometheus-stack.yaml.tftpl) while they answer 6 and 3 invalid-key requests/s (400, no S3):
  * external.metrics.k8s.io also lists gif_gateway_requests_per_second, ~9 with labelSelector
    k8s_deployment_name=gif-gateway (the sum over both instances), 0 in another namespace
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
from testkit.minio import Credentials, Minio  # noqa: E402 - the repository's test kit, found through ROOT
from testkit.waits import Processes, free_port, wait_http  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, ".tools", "bin")
WORK, VALUES = os.path.abspath(sys.argv[1]), sys.argv[2]
PROCS = Processes(WORK)
start, stop_all = PROCS.start, PROCS.stop_all
NS, REPLICA_SVC, PRIMARY_SVC = "gif", "gif-minio-replicas", "gif-minio"
USER, PASSWORD = "e2e-root", "e2e-root-password-1234"
LOAD_SECONDS = int(os.environ.get("E2E_LOAD_SECONDS", "80"))
RATES = {"gif-minio-replicas-a": 10.0, "gif-minio-replicas-b": 5.0, "gif-minio-0": 7.0}
APP_RATES = {"gif-gateway-a": 6.0, "gif-gateway-b": 3.0}
SPIN = shutil.which("spin")
APP_WASM = os.path.join(ROOT, "target", "wasm32-wasip2", "release", "gif_gateway.wasm")
T0 = time.time()


def log(msg):
    print(f"  [e2e {time.time() - T0:5.1f}s] {msg}", flush=True)


def quantity(q):
    q = str(q)
    if q.endswith("m"):
        return float(q[:-1]) / 1000
    if q.endswith("k"):
        return float(q[:-1]) * 1000
    return float(q)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    # --- MinIO servers --------------------------------------------------------------------
    minio, servers = {}, {}
    for pod in RATES:
        server = Minio(os.path.join(WORK, "data-" + pod), os.path.join(WORK, f"minio-{pod}.log"),
                       root=Credentials(USER, PASSWORD), public_metrics=True, home=WORK).start(wait=False)
        PROCS.add(server.proc)
        servers[pod], minio[pod] = server, server.port
    gif = os.path.join(WORK, "animation.gif")
    with open(gif, "wb") as f:
        f.write(b"GIF89a" + os.urandom(2048))
    mcenv = {"MC_CONFIG_DIR": os.path.join(WORK, "mc")}
    for pod, port in minio.items():
        servers[pod].wait_ready()
        mcenv[f"MC_HOST_{pod.replace('-', '_')}"] = f"http://{USER}:{PASSWORD}@127.0.0.1:{port}"
    for pod in minio:
        alias = pod.replace("-", "_")
        for args in (["mb", "--ignore-existing", f"{alias}/gifs"], ["cp", gif, f"{alias}/gifs/animation.gif"],
                     ["anonymous", "set", "download", f"{alias}/gifs"]):
            subprocess.run([os.path.join(BIN, "mc"), "--quiet", *args], check=True, env={**os.environ, **mcenv},
                           stdout=subprocess.DEVNULL)
    log(f"MinIO servers up and seeded: {minio}")

    # --- Prometheus ------------------------------------------------------------------------
    scrape = []
    for pod, port in minio.items():
        svc = PRIMARY_SVC if pod == "gif-minio-0" else REPLICA_SVC
        for path in ("/minio/v2/metrics/node", "/minio/v2/metrics/bucket"):
            scrape.append({
                "job_name": f"{pod}{path.replace('/', '-')}",
                "scrape_interval": "2s", "scrape_timeout": "1s", "metrics_path": path,
                "static_configs": [{"targets": [f"127.0.0.1:{port}"],
                                    "labels": {"namespace": NS, "service": svc, "pod": pod, "endpoint": "http-s3",
                                               "metrics_path": path}}],
                "relabel_configs": [{"target_label": "job", "replacement": svc}],
            })
    # The OTLP settings of kube-prometheus-stack.yaml.tftpl (prometheusSpec.enableOTLPReceiver, otlp).
    tftpl = yaml.safe_load(open(os.path.join(ROOT, "terraform", "values", "kube-prometheus-stack.yaml.tftpl")).read()
                           .replace("${install_grafana}", "false"))["prometheus"]["prometheusSpec"]
    otlp = {"promote_resource_attributes": tftpl["otlp"]["promoteResourceAttributes"]}
    with open(os.path.join(WORK, "prometheus.yml"), "w") as f:
        yaml.safe_dump({"global": {"scrape_interval": "2s", "evaluation_interval": "2s"}, "scrape_configs": scrape,
                        "otlp": otlp}, f)
    prom_port = free_port()
    start("prometheus", [os.path.join(BIN, "prometheus"), f"--config.file={WORK}/prometheus.yml",
                         f"--storage.tsdb.path={WORK}/tsdb", f"--web.listen-address=127.0.0.1:{prom_port}"]
          + (["--web.enable-otlp-receiver"] if tftpl.get("enableOTLPReceiver") else []))
    wait_http(f"http://127.0.0.1:{prom_port}/-/ready")
    log(f"Prometheus up on :{prom_port}")

    # --- the app under Spin, pushing its own metrics over OTLP ---------------------------------
    app = {}
    if SPIN and os.path.exists(APP_WASM):
        for pod in APP_RATES:
            port = free_port()
            start(
                "spin-" + pod,
                [SPIN, "up", "--from", os.path.join(ROOT, "spin.toml"), "--listen", f"127.0.0.1:{port}"],
                {
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": f"http://127.0.0.1:{prom_port}/api/v1/otlp/v1/metrics",
                    "OTEL_METRIC_EXPORT_INTERVAL": "2000",
                    "OTEL_RESOURCE_ATTRIBUTES": f"service.instance.id={pod},k8s.pod.name={pod},k8s.namespace.name={NS},"
                    "k8s.deployment.name=gif-gateway",
                    # Never reached: the load below sends invalid keys only (400 before any S3 call).
                    "SPIN_VARIABLE_S3_ENDPOINT": "http://127.0.0.1:1",
                    "SPIN_VARIABLE_S3_ACCESS_KEY": "unused",
                    "SPIN_VARIABLE_S3_SECRET_KEY": "unused",
                },
            )
            app[pod] = port
        for port in app.values():
            wait_http(f"http://127.0.0.1:{port}/", timeout=120)
        log(f"spin up instances of the app: {app}")
    else:
        log(f"SKIPPED the gateway's own metric: spin on PATH: {SPIN}, {APP_WASM} built: {os.path.exists(APP_WASM)}")

    # --- the pods, in a real kube-apiserver ---------------------------------------------------
    kubeconfig = os.environ["KUBECONFIG"]
    token = yaml.safe_load(open(kubeconfig))["users"][0]["user"]["token"]
    kubectl = os.path.join(BIN, "kubectl")
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
               # No controller-manager runs, so nothing creates the default ServiceAccount pods need.
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": NS}}]
    for pod in RATES:
        component = "primary" if pod == "gif-minio-0" else "replica"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod,
                    "namespace": NS,
                    "labels": {"app.kubernetes.io/name": "gif-minio", "app.kubernetes.io/component": component},
                },
                "spec": {"containers": [{"name": "minio", "image": "gif-minio:e2e"}]},
            }
        )
    subprocess.run([kubectl, "apply", "-f", "-"], input=yaml.safe_dump_all(objects), text=True, check=True,
                   stdout=subprocess.DEVNULL)
    log("namespace and pods created in the real kube-apiserver")

    def start_adapter(name, rules):
        """A prometheus-adapter serving `rules`; its Kubernetes side is the real kube-apiserver."""
        config = os.path.join(WORK, f"{name}-config.yaml")
        with open(config, "w") as f:
            yaml.safe_dump(rules, f)
        port = free_port()
        start(name, [os.path.join(BIN, "adapter"), f"--prometheus-url=http://127.0.0.1:{prom_port}/",
                     f"--config={config}", "--metrics-relist-interval=5s",
                     f"--lister-kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                     f"--authorization-kubeconfig={kubeconfig}", "--authentication-skip-lookup",
                     "--authorization-always-allow-paths=/healthz,/readyz,/livez",
                     f"--secure-port={port}", "--bind-address=127.0.0.1", f"--cert-dir={WORK}/{name}-certs", "--v=2"])
        return port

    values = yaml.safe_load(open(VALUES))
    cfg = {"rules": values["rules"].get("custom") or [], "externalRules": values["rules"].get("external") or []}
    adapter_port = start_adapter("adapter", cfg)
    # A second adapter with the filters stripped from the rules (the classic mistake): the same
    # assertions must fail against it, which proves they can detect broken rules.
    broken = json.loads(json.dumps(cfg))
    for r in broken["rules"] + broken["externalRules"]:
        for k in ("seriesQuery", "metricsQuery"):
            r[k] = re.sub(r',?(service|api|metrics_path)="[^"]*"', "", r[k]).replace("{,", "{")
    broken_port = start_adapter("adapter-broken", broken)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    base = f"https://127.0.0.1:{adapter_port}"
    wait_http(base + "/healthz", ctx=ctx, timeout=90)
    wait_http(f"https://127.0.0.1:{broken_port}/healthz", ctx=ctx, timeout=90)
    log(f"prometheus-adapter up on :{adapter_port} (rules under test) and :{broken_port} (filters stripped)")

    # --- load: paced GET/HEAD loops ---------------------------------------------------------
    stop = threading.Event()
    counts = {}

    def loop(pod, rate, method):
        url = f"http://127.0.0.1:{minio[pod]}/gifs/animation.gif"
        n, start_t = 0, time.time()
        while not stop.is_set():
            due = start_t + n / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            try:
                with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as r:
                    r.read()
            except Exception as e:
                log(f"{method} {pod} failed: {e}")
            n += 1
        counts[(pod, method)] = n

    def app_loop(pod, rate):
        url = f"http://127.0.0.1:{app[pod]}/bad%00key.gif"
        n, start_t = 0, time.time()
        while not stop.is_set():
            delay = start_t + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            try:
                urllib.request.urlopen(url, timeout=5).read()
                log(f"GET {url}: 200, want 400")
            except urllib.error.HTTPError as e:
                if e.code != 400:
                    log(f"GET {url}: {e.code}, want 400")
            except Exception as e:
                log(f"GET {pod} failed: {e}")
            n += 1
        counts[(pod, "GET (invalid key)")] = n

    threads = [threading.Thread(target=loop, args=(p, r, "GET")) for p, r in RATES.items()]
    threads += [threading.Thread(target=app_loop, args=(p, r)) for p, r in APP_RATES.items() if p in app]
    threads.append(threading.Thread(target=loop, args=("gif-minio-replicas-b", 5.0, "HEAD")))
    for t in threads:
        t.start()
    log(f"load running for {LOAD_SECONDS}s: GET/s {RATES}, HEAD 5/s on gif-minio-replicas-b")

    def get(base, path, empty_ok=False):
        try:
            request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=10, context=ctx) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if empty_ok and e.code == 404:
                return {"items": []}
            raise SystemExit(f"GET {path}: HTTP {e.code}: {e.read()[:500]!r}") from e

    def check(base, quiet=False):
        problems = []
        disc = get(base, "/apis/custom.metrics.k8s.io/v1beta1")
        names = sorted(r["name"] for r in disc["resources"])
        quiet or log(f"custom metrics discovered: {names}")
        if names != [
            "namespaces/minio_replica_s3_get_requests_per_second",
            "pods/minio_replica_s3_get_requests_per_second",
        ] and names != ["pods/minio_replica_s3_get_requests_per_second"]:
            problems.append(f"unexpected custom metric list {names}")
        m = get(
            base, f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{NS}/pods/*/minio_replica_s3_get_requests_per_second"
        )
        vals = {i["describedObject"]["name"]: quantity(i["value"]) for i in m["items"]}
        quiet or log(f"custom metric per pod: {vals}")
        for pod, want in (("gif-minio-replicas-a", 10.0), ("gif-minio-replicas-b", 5.0)):
            got = vals.get(pod)
            if got is None or not (0.7 * want <= got <= 1.3 * want):
                problems.append(f"{pod}: custom metric {got}, want {want} +-30%")
        if "gif-minio-0" in vals:
            problems.append(f"the primary leaked into the replica metric: {vals['gif-minio-0']}")
        if "gif-minio-replicas-a" in vals and "gif-minio-replicas-b" in vals and vals["gif-minio-replicas-b"] > 0:
            ratio = vals["gif-minio-replicas-a"] / vals["gif-minio-replicas-b"]
            if not 1.5 <= ratio <= 2.6:
                problems.append(f"per-pod ratio {ratio:.2f}, want ~2 (HEADs must not count)")
        one = get(
            base,
            f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{NS}/pods/gif-minio-replicas-a/minio_replica_s3_get_requests_per_second",
        )
        if not one["items"] or one["items"][0]["describedObject"]["name"] != "gif-minio-replicas-a":
            problems.append(f"metric by pod name failed: {one}")

        edisc = get(base, "/apis/external.metrics.k8s.io/v1beta1")
        enames = sorted(r["name"] for r in edisc["resources"])
        quiet or log(f"external metrics discovered: {enames}")
        want = sorted(["gif_gateway_s3_get_requests_per_second"] + (["gif_gateway_requests_per_second"] if app else []))
        if enames != want:
            problems.append(f"unexpected external metric list {enames}, want {want}")
        external = f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NS}/"
        elsewhere = "/apis/external.metrics.k8s.io/v1beta1/namespaces/elsewhere/"

        def total(path, empty_ok=True):
            items = get(base, path, empty_ok=empty_ok)["items"]
            return sum(quantity(i["value"]) for i in items), len(items)

        def zero(path, what):
            value = total(path)[0]
            if value != 0:
                problems.append(f"{what} should give 0, gave {value}")

        if app:
            got, series = total(
                external + "gif_gateway_requests_per_second?labelSelector=k8s_deployment_name%3Dgif-gateway")
            quiet or log(f"external metric gif_gateway_requests_per_second: {got:.2f} from {series} series")
            want_app = sum(APP_RATES.values())
            if not (0.7 * want_app <= got <= 1.3 * want_app):
                problems.append(f"app request rate {got}, want {want_app} +-30% (both instances, every request)")
            zero(elsewhere + "gif_gateway_requests_per_second", "the app request rate in another namespace")
        got, series = total(external + "gif_gateway_s3_get_requests_per_second?labelSelector=bucket%3Dgifs", False)
        quiet or log(f"external metric (bucket=gifs): {got:.2f} from {series} series")
        if not (0.7 * 15 <= got <= 1.3 * 15):
            problems.append(f"external metric {got}, want 15 +-30% (replicas only, GETs only)")
        zero(external + "gif_gateway_s3_get_requests_per_second?labelSelector=bucket%3Dother",
             "labelSelector bucket=other")
        zero(elsewhere + "gif_gateway_s3_get_requests_per_second", "another namespace")
        return problems

    problems = []
    # Delegated auth is real: without the token the adapter must refuse (anonymous is not an admin).
    try:
        urllib.request.urlopen(base + "/apis/custom.metrics.k8s.io/v1beta1", timeout=10, context=ctx)
        problems.append("the adapter answered an unauthenticated request")
    except urllib.error.HTTPError as e:
        if e.code not in (401, 403):
            problems.append(f"unauthenticated request: HTTP {e.code}, want 401 or 403")
        else:
            log(f"unauthenticated request refused with {e.code} (TokenReview/SubjectAccessReview via kube-apiserver)")
    try:
        time.sleep(LOAD_SECONDS)
        # assertions while the load still runs, so rate[1m] covers a full minute of it
        problems = check(base)
        try:
            broken_problems = check(f"https://127.0.0.1:{broken_port}", quiet=True)
        except SystemExit as e:
            broken_problems = [str(e)]
        log(f"filter-less rules are caught: {len(broken_problems)} findings, e.g. {broken_problems[:2]}")
        if not broken_problems:
            problems.append("the assertions did not detect the adapter with filter-less rules")
    finally:
        stop.set()
        for t in threads:
            t.join()
        stop_all()
    log(f"requests sent: { {f'{k[0]} {k[1]}': v for k, v in counts.items()} }")
    for p in problems:
        print("  e2e FAIL:", p, flush=True)
    if problems:
        print(f"  logs: {WORK}", flush=True)
        sys.exit(1)
    log("adapter rules serve the expected custom and external metric values")


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        stop_all()
        raise
