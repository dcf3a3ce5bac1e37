"""Helpers for the end-to-end checks against the cluster that e2e/run.sh started and applied.

Everything talks to the cluster's own network namespace: the API server and the LoadBalancer IP
on the node's veth address, ClusterIPs and pod IPs through /32 routes via that address (added
here, removed with the veth by `e2e/cluster.sh down`)."""

import base64
import functools
import hashlib
import ipaddress
import json
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from .paths import GIF, ROOT

KUBECTL = os.environ.get("E2E_KUBECTL", str(ROOT / ".tools/bin/kubectl"))
NAMESPACE = os.environ.get("E2E_NAMESPACE", "gif")
MONITORING = os.environ.get("E2E_MONITORING_NAMESPACE", "monitoring")
ASSET = GIF
ASSET_SHA = hashlib.sha256(ASSET.read_bytes()).hexdigest()


RESULTS = Path(os.environ.get("E2E_RESULTS", ROOT / "target/e2e/results.json"))


def record(**values):
    """Measurements for the closing summary of e2e/run.sh (merged into one JSON file)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.update(values)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


NO_SHIM = (
    "SPIN_SHIM is not set, so the app's pods cannot run (no registry here has containerd-shim-spin); "
    "set SPIN_SHIM=/path/to/containerd-shim-spin-v2 (CI uses ../shared/spin4/bin) to run this check"
)


def need_shim():
    """The checks that run the app's pods; CI (REQUIRE_SPIN=1) must never skip them."""
    if not os.environ.get("SPIN_SHIM"):
        if os.environ.get("REQUIRE_SPIN") == "1":
            pytest.fail(f"REQUIRE_SPIN=1 but {NO_SHIM}")
        pytest.skip(NO_SHIM)


def pod_ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def gateway_settled_at(replicas, name="gif-gateway"):
    """The gateway Deployment at `replicas`, with exactly that many pods, all Ready and none
    terminating: a load started earlier could meet a pod that is going away (scale-in or the
    rollout after `terraform apply`), which is not what the load checks measure."""
    if kjson("-n", NAMESPACE, "get", "deployment", name)["spec"]["replicas"] != replicas:
        return False
    pods = kjson("-n", NAMESPACE, "get", "pods", "-l", f"core.spinkube.dev/app-name={name}")["items"]
    return len(pods) == replicas and all(not p["metadata"].get("deletionTimestamp") and pod_ready(p) for p in pods)


def kubectl(*args, check=True, timeout=120):
    proc = subprocess.run(
        [KUBECTL, *args], capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
        )
    return proc.stdout


def kjson(*args, check=True):
    out = kubectl(*args, "-o", "json", check=check)
    return json.loads(out) if out.strip() else None


def get_raw(path):
    return json.loads(kubectl("get", "--raw", path))


def wait_for(what, probe, timeout, interval=5):
    """Poll probe() until it returns a truthy value; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
        except (AssertionError, subprocess.SubprocessError, OSError, ValueError, KeyError) as err:
            last = err
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def active_targets(namespace=NAMESPACE):
    """Prometheus' active scrape targets of one namespace (through the API server's service proxy)."""
    active = get_raw(
        f"/api/v1/namespaces/{MONITORING}/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1/targets?state=active"
    )["data"]["activeTargets"]
    return [t for t in active if t["labels"].get("namespace") == namespace]


def secret(name):
    data = kjson("-n", NAMESPACE, "get", "secret", name)["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


@functools.cache  # the node's address is fixed for the cluster's life; every route needs it
def node_ip():
    server = kjson("config", "view", "--minify")["clusters"][0]["cluster"]["server"]
    return urllib.parse.urlparse(server).hostname


def route_to(ip):
    """Make a ClusterIP or pod IP reachable from the host through the node's veth."""
    ipaddress.ip_address(ip)  # never hand anything else to `ip route`
    subprocess.run(
        ["ip", "route", "replace", f"{ip}/32", "via", node_ip()], check=True
    )
    return ip


def service_ip(name, namespace=NAMESPACE):
    return route_to(kjson("-n", namespace, "get", "svc", name)["spec"]["clusterIP"])


def s3(endpoint_ip, access_key, secret_key, port=9000):
    return boto3.client(
        "s3",
        endpoint_url=f"http://{endpoint_ip}:{port}",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=5,
            read_timeout=10,
            max_pool_connections=16,
        ),
    )


STRAY_LABELS = "app.kubernetes.io/part-of=e2e-checks"


def run_pod(name, image, args, timeout=120, labels=STRAY_LABELS, node=None):
    """Run a one-shot pod in the app namespace and return its log.

    labels: the pod's labels ("k=v,k2=v2"), which decide what NetworkPolicies let it reach.
    node: pin it to this node (spec.nodeName), e.g. to send from the other node.
    """
    kubectl("-n", NAMESPACE, "delete", "pod", name, "--ignore-not-found", "--wait=true")
    extra = [f'--overrides={{"apiVersion": "v1", "spec": {{"nodeName": "{node}"}}}}'] if node else []
    kubectl(
        "-n", NAMESPACE, "run", name, f"--image={image}", "--image-pull-policy=Never",
        "--restart=Never", f"--labels={labels}", *extra, "--command", "--", *args,
    )
    try:
        wait_for(
            f"pod {name} to finish",
            lambda: kjson("-n", NAMESPACE, "get", "pod", name)["status"].get("phase")
            in ("Succeeded", "Failed"),
            timeout,
            interval=2,
        )
        return kubectl("-n", NAMESPACE, "logs", name)
    finally:
        kubectl("-n", NAMESPACE, "delete", "pod", name, "--ignore-not-found", "--wait=false")


# The root Secret: Terraform's (gif-minio-root-tf, e2e/run.sh) when it writes the password, the
# chart's generated one otherwise.
ROOT_SECRET = os.environ.get("E2E_ROOT_SECRET", "gif-minio-root")










def gateway_pod_labels(policy=None):
    """The labels the charts' NetworkPolicies let reach MinIO's S3 port as the gateway, read
    from the applied policy itself, or from this copy of it ("k=v,..." for run_pod)."""
    policy = policy or kjson("-n", NAMESPACE, "get", "networkpolicy", "gif-minio")
    for peer in policy["spec"]["ingress"][0]["from"]:
        if "podSelector" in peer and "namespaceSelector" not in peer:
            labels = peer["podSelector"].get("matchLabels", {})
            if any("spinkube" in k for k in labels):
                return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    raise AssertionError(f"no gateway peer in NetworkPolicy gif-minio: {policy['spec']}")


def deployment_available(name, namespace=NAMESPACE):
    """The Deployment's rollout is complete: as many pods as it wants, all updated and Ready."""
    d = kjson("-n", namespace, "get", "deployment", name)
    want, s = d["spec"]["replicas"], d["status"]
    return s.get("readyReplicas", 0) == want and s.get("updatedReplicas", 0) == want and s.get("replicas", 0) == want


def pods_by_node(namespace=NAMESPACE, selector=None):
    """{node: sorted pod names} of the running pods (phase Running, not terminating)."""
    args = ["-n", namespace, "get", "pods"] + (["-l", selector] if selector else [])
    out = {}
    for p in kjson(*args)["items"]:
        if p["status"].get("phase") != "Running" or p["metadata"].get("deletionTimestamp"):
            continue
        out.setdefault(p["spec"].get("nodeName"), []).append(p["metadata"]["name"])
    return {n: sorted(v) for n, v in sorted(out.items())}
