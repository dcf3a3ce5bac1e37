"""The app's own metrics: Spin's OTLP export into Prometheus, the gateway HPA on it, the dashboard.

Runs before test_stack.py (file order), right after `terraform apply`: the gateway is at its
minimum size and nothing else sends traffic.
"""

import time

import requests

from app_metrics import (
    APP_RATE,
    APP_SERIES,
    GATEWAY,
    MINIO_GET_RATE,
    REPLICAS,
    dashboard,
    panel_queries,
    query,
    scalar,
)
from testkit.cluster import (
    NAMESPACE,
    gateway_settled_at,
    get_raw,
    kjson,
    need_shim,
    node_ip,
    pod_ready,
    record,
    service_ip,
    wait_for,
)
from testkit.load import KeepAliveLoad

# e2e/run.sh: app_hpa min 1, target 5 requests/s per pod.
APP_MIN, APP_TARGET = 1, 5.0
KEY = "animation.gif"
# A NUL byte is not a valid object key: the gateway answers 400 without calling MinIO.
BAD_KEY_PATH = "/bad%00key.gif"


def ready_gateway_pods():
    pods = kjson("-n", NAMESPACE, "get", "pods", "-l", f"core.spinkube.dev/app-name={GATEWAY}")["items"]
    return sorted(
        p["metadata"]["name"] for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and pod_ready(p)
    )


def hpa():
    return kjson("-n", NAMESPACE, "get", "hpa", GATEWAY)


def external(metric, selector):
    """The External metric's value; 0 while prometheus-adapter has no series for it (it answers
    NotFound: e.g. MinIO's GetObject counter before the first GET)."""
    try:
        items = get_raw(
            f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/{metric}?labelSelector={selector}"
        )["items"]
    except AssertionError as err:
        if "could not find the metric" in str(err):
            return 0.0
        raise
    return sum(float(i["value"].rstrip("m")) / (1000 if i["value"].endswith("m") else 1) for i in items)


def test_each_gateway_pod_pushes_its_own_series():
    need_shim()
    dep = wait_for(
        "spin-operator's Deployment with the OTLP env (executor) and the pod identity (terraform kubernetes_env)",
        lambda: (d := kjson("-n", NAMESPACE, "get", "deployment", GATEWAY, check=False))
        and {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES"}
        <= {e["name"] for e in d["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        and d,
        120,
    )
    env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]["value"].endswith("/api/v1/otlp/v1/metrics")
    wait_for("gateway pods Ready", ready_gateway_pods, 300)

    # instance = service.instance.id = the pod name: one series per pod, never one shared
    # counter that jumps between pods.
    def instances():
        seen = {labels.get("instance") for labels, _ in query(APP_SERIES)}
        return seen >= set(ready_gateway_pods()) and seen

    seen = wait_for("a spin_request_count_total series for every Ready gateway pod", instances, 120)
    assert None not in seen, seen
    labels = query(APP_SERIES)[0][0]
    assert labels["app_id"] == "gif-gateway" and labels["component_id"] == "gif-gateway", labels
    assert labels.get("k8s_pod_name") == labels["instance"], labels
    record(app_metric_series=sorted(seen), app_pods=ready_gateway_pods())


def test_bad_keys_raise_the_app_rate_and_scale_the_app_while_minio_stays_flat():
    """Requests that never reach MinIO (invalid keys, 400): the old metric (MinIO's bucket GET
    rate) would see nothing, the app's own rate sees all of them and its HPA scales out."""
    need_shim()
    wait_for(f"{GATEWAY} settled at its minimum of {APP_MIN}", lambda: gateway_settled_at(APP_MIN), 600, interval=5)
    minio_before = scalar(
        f"sum(minio_bucket_requests_total{{namespace=\"{NAMESPACE}\",job=\"{REPLICAS}\",api=\"getobject\"}})"
    )
    t0 = time.time()
    peak = {"app": 0.0, "app_external": 0.0, "minio": 0.0, "minio_external": 0.0, "desired": 0}
    with KeepAliveLoad(f"http://{node_ip()}{BAD_KEY_PATH}") as load:

        def app_scaled_out():
            peak["app"] = max(peak["app"], scalar(APP_RATE))
            peak["minio"] = max(peak["minio"], scalar(MINIO_GET_RATE))
            peak["app_external"] = max(peak["app_external"], external(
                "gif_gateway_requests_per_second", f"k8s_deployment_name%3D{GATEWAY}"))
            peak["minio_external"] = max(peak["minio_external"], external(
                "gif_gateway_s3_get_requests_per_second", "bucket%3Dgifs"))
            status = hpa()["status"]
            peak["desired"] = max(peak["desired"], status.get("desiredReplicas", 0))
            if status.get("desiredReplicas", 0) > APP_MIN and peak["app"] > APP_TARGET:
                return True
            # What wait_for reports on timeout.
            raise AssertionError(f"not scaled out yet: peaks {peak}, HPA metrics {status.get('currentMetrics')}")

        wait_for("the app HPA to scale out on bad-key requests alone", app_scaled_out, 420, interval=5)
        status = hpa()["status"]
    seconds = time.time() - t0
    # A MinIO scrape (15 s) and an OTLP push (10 s) later, whatever MinIO served is counted.
    time.sleep(30)
    minio_after = scalar(
        f"sum(minio_bucket_requests_total{{namespace=\"{NAMESPACE}\",job=\"{REPLICAS}\",api=\"getobject\"}})"
    )
    sent = sum(load.codes.values())
    assert set(load.codes) == {400}, load.codes
    metric = status["currentMetrics"][0]["external"]
    assert metric["metric"]["name"] == "gif_gateway_requests_per_second", metric
    # MinIO saw none of it: its GetObject counter did not move, its rate stayed at zero.
    assert minio_after - minio_before == 0, (minio_before, minio_after)
    assert peak["minio"] == 0 and peak["minio_external"] == 0, peak
    record(
        bad_key_requests_sent=sent,
        bad_key_seconds=round(seconds),
        bad_key_app_rate_peak=round(peak["app"], 2),
        bad_key_app_external_metric_peak=round(peak["app_external"], 2),
        bad_key_minio_get_rate_peak=peak["minio"],
        bad_key_app_hpa_desired_peak=peak["desired"],
        bad_key_app_hpa_average=metric["current"].get("averageValue"),
    )


def test_every_dashboard_panel_has_data():
    need_shim()
    cm, dash = dashboard()
    assert cm["metadata"]["labels"].get("grafana_dashboard") == "1", cm["metadata"]["labels"]
    # Traffic every panel shows: GIFs through the LoadBalancer (app rate, GETs on both replicas,
    # component memory) and anonymous GETs on the replica Service (403: MinIO's 4xx).
    with KeepAliveLoad(f"http://{node_ip()}/{KEY}", threads=2, pause=0.05) as gifs:
        for _ in range(20):
            requests.get(f"http://{service_ip(REPLICAS)}:9000/gifs/{KEY}", timeout=10)
            time.sleep(1)
    assert set(gifs.codes) == {200}, gifs.codes
    queries = panel_queries(dash)
    assert len(queries) == 5, list(queries)

    def all_panels_have_data():
        results = {title: [len(query(e)) for e in exprs] for title, exprs in queries.items()}
        empty = [title for title, counts in results.items() if not any(counts)]
        if empty:
            raise AssertionError(f"no data in panels {empty} (series per query: {results})")
        return results

    results = wait_for("data in every dashboard panel", all_panels_have_data, 180, interval=10)
    record(dashboard_series_per_target=results)
