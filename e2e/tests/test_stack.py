"""The Kubernetes delivery, applied by the project's own Terraform on a real cluster.

The tests run in file order and build on each other (one cluster, one apply); the last one
destroys what Terraform created and checks nothing of the project is left.
"""

import base64
import hashlib
import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from app_metrics import draw_scaling
from testkit.cluster import (
    ASSET,
    ASSET_SHA,
    KUBECTL,
    NAMESPACE,
    active_targets,
    gateway_pod_labels,
    gateway_settled_at,
    get_raw,
    kjson,
    kubectl,
    need_shim,
    node_ip,
    pod_ready,
    record,
    route_to,
    run_pod,
    s3,
    service_ip,
    wait_for,
)
from testkit.load import KeepAliveLoad, PacedS3GetLoad

TF = os.environ.get("E2E_TERRAFORM", "terraform")
TF_DIR = os.environ.get("E2E_TF_DIR")
BUCKET = "gifs"
KEY = "animation.gif"
REPLICAS = "gif-minio-replicas"
# The HPA bounds e2e/run.sh passes to Terraform (replica_hpa / app_hpa).
REPLICA_MIN, REPLICA_MAX = 2, 3
APP_MIN = 1
# Extra objects written before the load: the data check covers more than the seeded GIF.
EXTRA = {f"e2e/object-{i}.bin": os.urandom(64 * 1024 + i) for i in range(3)}


def terraform(*args, timeout=1200):
    assert TF_DIR, "E2E_TF_DIR is not set (run through e2e/run.sh)"
    return subprocess.run(
        [TF, f"-chdir={TF_DIR}", *args, "-no-color"],
        capture_output=True, text=True, timeout=timeout,
    )


def sha256_of(client, key):
    return hashlib.sha256(client.get_object(Bucket=BUCKET, Key=key)["Body"].read()).hexdigest()


def expected_objects():
    want = {KEY: ASSET_SHA}
    want.update({k: hashlib.sha256(v).hexdigest() for k, v in EXTRA.items()})
    return want


def objects_on(client):
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return {k: sha256_of(client, k) for k in keys}


def replica_pod_ips():
    pods = kjson("-n", NAMESPACE, "get", "pods", "-l", "app.kubernetes.io/component=replica")
    return [
        route_to(p["status"]["podIP"])
        for p in pods["items"]
        if pod_ready(p)
    ]


def hpa(name):
    return kjson("-n", NAMESPACE, "get", "hpa", name)


# ---------------------------------------------------------------------------------------------


def test_terraform_outputs_point_at_the_load_balancer():
    proc = terraform("output", "-json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["namespace"]["value"] == NAMESPACE
    # The LoadBalancer got its address (what `minikube tunnel` does), so the URL output is set.
    assert out["gateway_url"]["value"] == f"http://{node_ip()}/"
    assert out["minio_app_credentials_secret"]["value"] == "gif-minio-app"


def test_seeder_job_completed_and_gif_is_in_the_bucket(root_s3):
    events = kjson("-n", NAMESPACE, "get", "events", "--field-selector", "involvedObject.kind=Job")
    completed = [e for e in events["items"] if e["reason"] == "Completed"]
    assert completed, f"no Job Completed event in {NAMESPACE}: {[e['reason'] for e in events['items']]}"
    assert any("seed" in e["involvedObject"]["name"] for e in completed), completed
    # A plain Job of the release (a hook would run only after --wait, which waits for replicas
    # that need the seeding): one per revision, the previous one deleted by the upgrade.
    jobs = [j for j in kjson("-n", NAMESPACE, "get", "jobs")["items"] if "seed" in j["metadata"]["name"]]
    assert len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
    assert jobs[0]["metadata"]["name"].startswith("gif-minio-seed-"), jobs[0]["metadata"]["name"]
    assert jobs[0]["status"].get("succeeded", 0) >= 1, jobs[0]["status"]
    assert "helm.sh/hook" not in (jobs[0]["metadata"].get("annotations") or {})
    assert sha256_of(root_s3, KEY) == ASSET_SHA


def test_bucket_is_private_for_an_anonymous_pod():
    # With labels the NetworkPolicies let through (any other pod is refused before MinIO could
    # answer, test_nodes.py), this checks MinIO's own answer to an unsigned request: the
    # gateway's for the replicas; the seeder's for the primary, which the gateway's egress
    # policy keeps the gateway away from.
    seeder = "app.kubernetes.io/name=gif-minio,app.kubernetes.io/instance=gif-minio,app.kubernetes.io/component=seeder"
    for host, labels in (("gif-minio", seeder), (REPLICAS, gateway_pod_labels())):
        for path in (f"/{BUCKET}/{KEY}", f"/{BUCKET}/"):
            url = f"http://{host}.{NAMESPACE}.svc:9000{path}"
            # e2e/node/echo's client prints the status of a non-2xx answer; no answer at all
            # (DNS, routing) would print the error instead and fail this check too.
            out = run_pod("e2e-anon-get", "e2e.local/echo:0.1.0", ["/echo", "get", url], labels=labels)
            assert "echo get: status 403 Forbidden" in out, f"anonymous GET {url}: {out!r}"


def test_app_credentials_are_read_only(app_creds):
    client = s3(service_ip(REPLICAS), *app_creds)
    assert sha256_of(client, KEY) == ASSET_SHA
    primary = s3(service_ip("gif-minio"), *app_creds)
    with pytest.raises(ClientError) as denied:
        primary.put_object(Bucket=BUCKET, Key="e2e/forbidden", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        primary.list_objects_v2(Bucket=BUCKET)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_minio_primary_and_replicas_ready():
    sts = kjson("-n", NAMESPACE, "get", "statefulset", "gif-minio")
    assert sts["status"].get("readyReplicas") == 1, sts["status"]
    dep = kjson("-n", NAMESPACE, "get", "deployment", REPLICAS)
    assert dep["status"].get("readyReplicas", 0) >= REPLICA_MIN, dep["status"]


def test_replicas_hold_no_root_credentials(root_creds, mirror_creds):
    """Replicas read the primary as the mirror user; each one's MinIO has a random root of its
    own: no replica pod mounts the root Secret, and the primary's root opens no replica."""
    pods = kjson("-n", NAMESPACE, "get", "pods", "-l", "app.kubernetes.io/component=replica")["items"]
    assert pods
    for p in pods:
        secrets = {v["secret"]["secretName"] for v in p["spec"]["volumes"] if "secret" in v}
        assert secrets == {"gif-minio-mirror", "gif-minio-app"}, (p["metadata"]["name"], secrets)
    for ip in replica_pod_ips():
        with pytest.raises(ClientError) as refused:
            s3(ip, *root_creds).list_objects_v2(Bucket=BUCKET)
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId", ip
        assert KEY in objects_on(s3(ip, *mirror_creds)), ip


def test_root_password_reaches_minio_but_not_terraform_state(root_creds):
    """e2e/run.sh gives Terraform the root password (ephemeral variable, revision 1): it must be in
    the Secret and open MinIO, yet appear in neither the state nor a saved plan (write-only)."""
    password = os.environ.get("TF_VAR_minio_root_password")
    assert password, "TF_VAR_minio_root_password is not set (run through e2e/run.sh)"
    assert root_creds == ("minio-root", password)
    assert "gif-minio-root-tf" == os.environ.get("E2E_ROOT_SECRET"), os.environ.get("E2E_ROOT_SECRET")
    # Terraform's Secret replaces the chart's: no generated root is left to drift from it.
    assert kubectl("-n", NAMESPACE, "get", "secret", "gif-minio-root", "--ignore-not-found").strip() == ""
    assert BUCKET in {b["Name"] for b in s3(service_ip("gif-minio"), "minio-root", password).list_buckets()["Buckets"]}
    with pytest.raises(ClientError):
        s3(service_ip("gif-minio"), "minio-root", password + "x").list_buckets()
    forms = [password, base64.b64encode(password.encode()).decode()]
    state = terraform("show", "-json")
    assert state.returncode == 0, state.stderr[-2000:]
    files = {p.name: p.read_text(errors="replace") for p in Path(TF_DIR).glob("*.tfstate*")}
    assert files, f"no state file in {TF_DIR}"
    plan = terraform("plan", "-input=false", "-out=e2e-check.tfplan")
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    shown = terraform("show", "-json", "e2e-check.tfplan")
    assert shown.returncode == 0, shown.stderr[-2000:]
    for where, text in [("terraform show -json", state.stdout), ("saved plan", shown.stdout), *files.items()]:
        for f in forms:
            assert f not in text, f"the root password (or its base64) is in {where}"


def test_prometheus_scrapes_minio():
    def targets():
        ours = active_targets()
        services = {t["labels"].get("service") for t in ours if t["health"] == "up"}
        down = [(t["scrapeUrl"], t["health"], t.get("lastError")) for t in ours if t["health"] != "up"]
        return {"gif-minio", REPLICAS} <= services and not down and ours

    ours = wait_for("Prometheus targets of gif-minio and its replicas up", targets, 180)
    assert len(ours) >= 1 + REPLICA_MIN


def test_metrics_apis_serve_both_hpa_metrics():
    custom = wait_for(
        "custom metric minio_replica_s3_get_requests_per_second",
        lambda: get_raw(
            f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/pods/*/minio_replica_s3_get_requests_per_second"
        )["items"],
        240,
    )
    assert {i["describedObject"]["kind"] for i in custom} == {"Pod"}
    assert all(i["describedObject"]["name"].startswith(REPLICAS) for i in custom), custom
    external = wait_for(
        "external metric gif_gateway_s3_get_requests_per_second",
        lambda: get_raw(
            f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/gif_gateway_s3_get_requests_per_second"
        )["items"],
        240,
    )
    assert external[0]["metricName"] == "gif_gateway_s3_get_requests_per_second"
    if os.environ.get("SPIN_SHIM"):  # the gateway's own metric exists once its pods push (they need the shim)
        app = wait_for(
            "external metric gif_gateway_requests_per_second",
            lambda: get_raw(
                f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/gif_gateway_requests_per_second"
                "?labelSelector=k8s_deployment_name%3Dgif-gateway"
            )["items"],
            240,
        )
        assert app[0]["metricName"] == "gif_gateway_requests_per_second"


def test_spinapp_is_reconciled_with_secret_variables():
    app = kjson("-n", NAMESPACE, "get", "spinapp", "gif-gateway")
    dep = wait_for(
        "spin-operator to create Deployment gif-gateway",
        lambda: kjson("-n", NAMESPACE, "get", "deployment", "gif-gateway", check=False),
        120,
    )
    owners = dep["metadata"].get("ownerReferences", [])
    assert any(o["kind"] == "SpinApp" and o["uid"] == app["metadata"]["uid"] for o in owners), owners
    assert kjson("-n", NAMESPACE, "get", "service", "gif-gateway")["spec"]["selector"]
    spec = dep["spec"]["template"]["spec"]
    assert spec.get("runtimeClassName") == "wasmtime-spin-v2"

    def secret_env(pod_spec):
        found = {}
        for c in pod_spec["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if e["name"].startswith("SPIN_VARIABLE_") and ref:
                    found[e["name"]] = (ref["name"], ref["key"])
        return found

    want = {
        "SPIN_VARIABLE_S3_ACCESS_KEY": ("gif-minio-app", "accessKey"),
        "SPIN_VARIABLE_S3_SECRET_KEY": ("gif-minio-app", "secretKey"),
    }
    assert want.items() <= secret_env(spec).items()
    # The pods themselves exist with those variables, even where the shim is missing.
    pods = wait_for(
        "gif-gateway pods",
        lambda: kjson("-n", NAMESPACE, "get", "pods", "-l", "core.spinkube.dev/app-name=gif-gateway")["items"],
        120,
    )
    for pod in pods:
        assert want.items() <= secret_env(pod["spec"]).items()


def test_spin_operator_chart_webhooks_are_served():
    """The real spin-operator chart: its Certificate issued, the CA in both webhook
    configurations, and its webhooks (failurePolicy Fail) admitting and rejecting SpinApps."""
    cert = kjson("-n", "spin-operator", "get", "certificates.cert-manager.io", "spin-operator-serving-cert")
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in cert["status"]["conditions"]), cert["status"]
    ca = kjson("-n", "spin-operator", "get", "secret", cert["spec"]["secretName"])["data"]["ca.crt"]
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        conf = kjson("get", kind, f"spin-operator-{kind.replace('webhookconfiguration', '')}-webhook-configuration")
        hooks = conf["webhooks"]
        assert len(hooks) == 2 and all(h["failurePolicy"] == "Fail" for h in hooks), hooks
        assert all(h["clientConfig"]["caBundle"] == ca for h in hooks), f"{kind}: caBundle is not the Certificate's CA"

    def dry_run(spec):
        doc = {"apiVersion": "core.spinkube.dev/v1alpha1", "kind": "SpinApp",
               "metadata": {"name": "e2e-webhook-probe", "namespace": NAMESPACE},
               "spec": {"image": "example.invalid/app:1", **spec}}
        return subprocess.run([KUBECTL, "create", "--dry-run=server", "-f", "-"], input=json.dumps(doc),
                              capture_output=True, text=True, timeout=60)

    # Only the webhook knows these: the CRD's schema accepts both.
    missing = dry_run({"executor": "no-such-executor", "replicas": 1})
    assert missing.returncode != 0 and "executor does not exist in namespace" in missing.stderr, missing
    both = dry_run({"executor": "containerd-shim-spin", "enableAutoscaling": True, "replicas": 2})
    assert both.returncode != 0 and "replicas cannot be set when autoscaling is enabled" in both.stderr, both
    fine = dry_run({"executor": "containerd-shim-spin", "replicas": 1})
    assert fine.returncode == 0, fine.stderr


def test_hpas_scale_out_under_load_and_back_in_with_nothing_lost(root_s3, app_creds, mirror_creds):
    for key, body in EXTRA.items():
        root_s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert objects_on(root_s3) == expected_objects()

    t0 = time.monotonic()
    with PacedS3GetLoad(s3(service_ip(REPLICAS), *app_creds), BUCKET, KEY, rate=40, limit=600) as load:

        def scaled_out():
            dep = kjson("-n", NAMESPACE, "get", "deployment", REPLICAS)
            return (
                dep["spec"]["replicas"] > REPLICA_MIN
                and dep["status"].get("readyReplicas", 0) == dep["spec"]["replicas"]
            )

        wait_for(f"replica HPA to scale {REPLICAS} out under 40 GET/s", scaled_out, 420, interval=5)
        scale_out_s = time.monotonic() - t0
        # Bounded by the HPA's maxReplicas, whatever the load.
        assert kjson("-n", NAMESPACE, "get", "deployment", REPLICAS)["spec"]["replicas"] <= REPLICA_MAX
    # (This load goes straight to MinIO, past the gateway: the app's HPA, on the app's own
    # request rate, rightly ignores it; test_app_hpa_scales_the_gateway_under_real_load below.)
    assert load.sent > 0 and load.errors <= load.sent * 0.01, (load.sent, load.errors)
    record(
        scale_out_seconds=round(scale_out_s),
        load_gets_sent=load.sent,
        load_errors=load.errors,
    )

    t1 = time.monotonic()
    wait_for(
        f"replica HPA to scale {REPLICAS} back to {REPLICA_MIN} after the load",
        lambda: kjson("-n", NAMESPACE, "get", "deployment", REPLICAS)["spec"]["replicas"] == REPLICA_MIN,
        720,
        interval=10,
    )
    record(scale_in_seconds=round(time.monotonic() - t1))

    want = expected_objects()
    assert objects_on(root_s3) == want
    # Every replica (each a full copy) serves every object unchanged.
    wait_for("replicas Ready after scale-in", lambda: len(replica_pod_ips()) >= REPLICA_MIN, 120)
    for ip in replica_pod_ips():
        assert objects_on(s3(ip, *mirror_creds)) == want, f"replica {ip}"


def test_primary_pod_deleted_keeps_its_data(root_s3):
    pvc_uid = kjson("-n", NAMESPACE, "get", "pvc", "data-gif-minio-0")["metadata"]["uid"]
    old_uid = kjson("-n", NAMESPACE, "get", "pod", "gif-minio-0")["metadata"]["uid"]
    kubectl("-n", NAMESPACE, "delete", "pod", "gif-minio-0", "--wait=true", timeout=180)
    wait_for(
        "gif-minio-0 recreated and Ready",
        lambda: (p := kjson("-n", NAMESPACE, "get", "pod", "gif-minio-0", check=False))
        and p["metadata"]["uid"] != old_uid
        and pod_ready(p),
        240,
    )
    assert kjson("-n", NAMESPACE, "get", "pvc", "data-gif-minio-0")["metadata"]["uid"] == pvc_uid
    assert wait_for("objects on the new primary", lambda: objects_on(root_s3) == expected_objects(), 60)


def test_gif_through_the_load_balancer():
    need_shim()
    wait_for(
        "gif-gateway pods Ready",
        lambda: kjson("-n", NAMESPACE, "get", "deployment", "gif-gateway")["status"].get("readyReplicas", 0) >= APP_MIN,
        300,
    )
    resp = requests.get(f"http://{node_ip()}/{KEY}", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/gif"
    assert hashlib.sha256(resp.content).hexdigest() == ASSET_SHA


HEALTH_PATH = "/.well-known/gif-gateway/health"


def access_log_lines(pods):
    """The access-log lines (JSON, one per request) in the gateway pods' `kubectl logs`."""
    lines = []
    for pod in pods:
        for line in kubectl("-n", NAMESPACE, "logs", pod, check=False).splitlines():
            start = line.find('{"time":')
            if start >= 0:
                lines.append(json.loads(line[start:]) | {"pod": pod})
    return lines


def test_access_log_and_health_probes_on_the_shim():
    """Through the real shim: a request's line, under its X-Request-Id, in `kubectl logs`, and the
    kubelet's probes answered by the component's health path without asking MinIO."""
    need_shim()
    request_id = f"e2e-{secrets.token_hex(8)}"
    resp = requests.get(f"http://{node_ip()}/{KEY}", headers={"X-Request-Id": request_id}, timeout=10)
    assert (resp.status_code, resp.headers["X-Request-Id"]) == (200, request_id)
    deployment = kjson("-n", NAMESPACE, "get", "deployment", "gif-gateway")
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == HEALTH_PATH, (probe, container[probe])
    pods = [p["metadata"]["name"] for p in
            kjson("-n", NAMESPACE, "get", "pods", "-l", "core.spinkube.dev/app-name=gif-gateway")["items"]]
    found = wait_for("the request's line in kubectl logs",
                     lambda: [line for line in access_log_lines(pods) if line["id"] == request_id], 60)
    assert len(found) == 1, found
    line = found[0]
    assert (line["method"], line["key"], line["status"], line["bytes"], line["upstream_status"]) == (
        "GET", KEY, 200, len(ASSET.read_bytes()), 200), line
    probes = wait_for("the kubelet's probes in kubectl logs",
                      lambda: [line for line in access_log_lines(pods) if line["route"] == "health"], 60)
    assert all((p["status"], p["upstream_status"], p["bytes"]) == (200, None, 3) for p in probes), probes[:3]
    record(access_log_line=line, health_probe_lines=len(probes),
           pods_with_probe_lines=len({p["pod"] for p in probes}))


def test_app_hpa_scales_the_gateway_under_real_load():
    need_shim()
    # From its minimum, so the scale-out below is this load's (test_app_metrics scaled it before).
    wait_for("gif-gateway settled back at its minimum", lambda: gateway_settled_at(APP_MIN), 600, interval=5)
    t_start = time.time()
    with KeepAliveLoad(f"http://{node_ip()}/{KEY}", threads=3, pause=0.05):
        wait_for(
            "gif-gateway Deployment scaled out by its HPA",
            lambda: kjson("-n", NAMESPACE, "get", "deployment", "gif-gateway")["spec"]["replicas"] > APP_MIN,
            420,
        )
        status = hpa("gif-gateway")["status"]
        metric = status["currentMetrics"][0]["external"]
        # On the app's own request rate (Spin's spin.request_count), not MinIO's GET rate.
        assert metric["metric"]["name"] == "gif_gateway_requests_per_second", metric
        record(
            app_hpa_desired_replicas=status["desiredReplicas"],
            app_hpa_metric_average=metric["current"].get("averageValue"),
        )
        # For the picture only: let the MinIO tier's HPA react to the same traffic too.
        try:
            wait_for(f"{REPLICAS} scaled out as well", lambda: kjson(
                "-n", NAMESPACE, "get", "deployment", REPLICAS)["spec"]["replicas"] > REPLICA_MIN, 180, interval=10)
        except AssertionError as err:
            print(f"picture without a MinIO scale-out: {err}")
    # Two more rate windows, so the picture shows the load ending.
    time.sleep(90)
    png = draw_scaling(t_start - 60, time.time(), title="gif-gateway e2e: GIF load through the LoadBalancer")
    record(scaling_picture=str(png))


def test_terraform_destroy_leaves_nothing_behind():
    proc = terraform("destroy", "-input=false", "-auto-approve")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert kubectl("get", "namespace", NAMESPACE, "--ignore-not-found").strip() == ""
    # Cluster-scoped objects a release could have created (namespaced ones went with the namespace).
    for kind in ("clusterroles", "clusterrolebindings", "runtimeclasses", "apiservices", "persistentvolumeclaims"):
        items = kjson("get", kind, "-A")["items"]
        left = [
            i["metadata"]["name"] for i in items
            if i["metadata"].get("annotations", {}).get("meta.helm.sh/release-name") in ("gif-minio", "gif-gateway")
            or i["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "gif-gateway"
            or i["metadata"].get("namespace") == NAMESPACE
        ]
        assert not left, f"{kind} left behind: {left}"
    state = terraform("state", "list")
    assert state.returncode == 0 and state.stdout.strip() == "", state.stdout
