"""Two nodes, as on the 2-node minikube this replaces: NetworkPolicies enforced (kube-router's
controller on each node, see e2e/cluster.sh), pods spread, and a node drained under load.

Runs after `terraform apply` and before test_stack.py (file order), and leaves the cluster as it
found it: policies in place, both nodes schedulable, the gateway's HPA as applied.
"""

import hashlib
import json
import os
import subprocess
import time

from testkit.cluster import (
    ASSET_SHA,
    KUBECTL,
    MONITORING,
    NAMESPACE,
    STRAY_LABELS,
    active_targets,
    deployment_available,
    gateway_pod_labels,
    kjson,
    kubectl,
    need_shim,
    node_ip,
    pod_ready,
    pods_by_node,
    record,
    route_to,
    run_pod,
    s3,
    wait_for,
)
from testkit.load import PacedGifLoad

ECHO = "e2e.local/echo:0.1.0"
BUCKET, KEY = "gifs", "animation.gif"
NODE1 = os.environ.get("E2E_NODE_NAME", "gif-e2e")
NODE2 = os.environ.get("E2E_NODE2_NAME") or "gif-e2e-2"
GATEWAY, REPLICAS, PRIMARY = "gif-gateway", "gif-minio-replicas", "gif-minio"
# Where the gateway's pods push Spin's metrics (the chart's telemetry.otlpMetricsEndpoint). A
# GET is enough to see whether the network lets a pod through: Prometheus answers it.
PROMETHEUS_OTLP = f"http://kube-prometheus-stack-prometheus.{MONITORING}.svc:9090/api/v1/otlp/v1/metrics"


def minio_pods():
    """{pod name: (node, IP)} of the Ready MinIO pods, primary and replicas."""
    pods = kjson("-n", NAMESPACE, "get", "pods", "-l", "app.kubernetes.io/name=gif-minio")["items"]
    return {
        p["metadata"]["name"]: (p["spec"]["nodeName"], p["status"]["podIP"])
        for p in pods
        if p["metadata"]["labels"].get("app.kubernetes.io/component") in ("primary", "replica") and pod_ready(p)
    }


def s3_targets():
    """Both Services by name, and every MinIO pod by IP (pods on both nodes)."""
    urls = [f"http://{svc}.{NAMESPACE}.svc:9000/{BUCKET}/{KEY}" for svc in (PRIMARY, REPLICAS)]
    urls += [f"http://{ip}:9000/{BUCKET}/{KEY}" for _, ip in sorted(minio_pods().values())]
    return urls


def probe(name, labels, node, retry=False, urls=None):
    """{url: "status 403 Forbidden" | "error: ..."} from a pod with these labels on this node.
    urls: default s3_targets(). retry: the pod retries refused connections for up to 30 s in
    all (see below), so put the targets it may reach first."""
    urls = urls or s3_targets()
    out = run_pod(name, ECHO, ["/echo", "probe", *(["-retry"] if retry else []), *urls], labels=labels, node=node)
    got = {}
    for line in out.splitlines():
        url, _, result = line.partition(" ")
        got[url] = result
    assert set(got) == set(urls), f"probe output: {out!r}"
    return got


def gateway_egress_targets():
    """(may reach, may not reach) for the gateway's pods: the replicas (Service and every pod)
    and Prometheus' OTLP receiver; the primary (Service and pod), the API server and the DNS
    pods' health port (only their port 53 is open to the gateway)."""
    pods = minio_pods()
    ip = {name: addr for name, (_, addr) in pods.items()}
    allowed = [f"http://{REPLICAS}.{NAMESPACE}.svc:9000/{BUCKET}/{KEY}"]
    allowed += [f"http://{a}:9000/{BUCKET}/{KEY}" for n, a in sorted(ip.items()) if n != f"{PRIMARY}-0"]
    allowed.append(PROMETHEUS_OTLP)
    dns = kjson("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns")["items"]
    refused = [
        f"http://{PRIMARY}.{NAMESPACE}.svc:9000/{BUCKET}/{KEY}",
        f"http://{ip[PRIMARY + '-0']}:9000/{BUCKET}/{KEY}",
    ]
    refused.append("http://kubernetes.default.svc:443/")
    refused += [f"http://{p['status']['podIP']}:8080/health" for p in dns if p["status"].get("podIP")]
    return allowed, refused


def reached(result):
    # Anonymous: MinIO itself answers 403. Any HTTP answer means the network let it through.
    return result.startswith("status ")


def blocked(result):
    # kube-router REJECTs (connection refused); a DROP would time out.
    return result.startswith("error") and any(w in result for w in ("refused", "Timeout", "deadline", "timeout"))


def placement():
    """Where the project's pods run: {component: {node: count}}."""
    out = {}
    for p in kjson("-n", NAMESPACE, "get", "pods")["items"]:
        if p["status"].get("phase") != "Running" or p["metadata"].get("deletionTimestamp"):
            continue
        labels = p["metadata"]["labels"]
        comp = labels.get("app.kubernetes.io/component") or labels.get("app.kubernetes.io/name", "?")
        node = p["spec"]["nodeName"]
        out.setdefault(comp, {}).setdefault(node, 0)
        out[comp][node] += 1
    return out


# ---------------------------------------------------------------------------------------------


def test_two_nodes_ready_and_replicas_on_both():
    nodes = kjson("get", "nodes")["items"]
    names = sorted(n["metadata"]["name"] for n in nodes if any(
        c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]))
    assert names == sorted([NODE1, NODE2]), names
    by_node = pods_by_node(selector="app.kubernetes.io/component=replica")
    assert len(by_node) == 2, f"replicas not on both nodes: {by_node}"
    primary = kjson("-n", NAMESPACE, "get", "pod", f"{PRIMARY}-0")
    assert primary["spec"]["nodeName"] == NODE1, "the primary's volume is node 1's"
    record(scheduling_after_apply=placement())


def test_policies_refuse_a_stray_pod_and_admit_the_gateways_labels():
    gw = gateway_pod_labels()
    results = {}
    for node in (NODE1, NODE2):
        # Neither MinIO nor Prometheus: a stray pod cannot push spin_request_count_total series
        # that would drive the gateway's HPA.
        stray = probe("e2e-stray-probe", STRAY_LABELS, node, urls=s3_targets() + [PROMETHEUS_OTLP])
        assert all(blocked(r) for r in stray.values()), f"stray pod on {node} got through: {stray}"
        results[f"stray@{node}"] = sorted(
            {r.split(":")[0] + ": " + r.rsplit(":", 1)[-1].strip() for r in stray.values()}
        )
    # A new pod is refused until kube-router on each node has put its address into the policy's
    # allowed set (after the pod's event; a real new gateway pod waits the same way), so this pod
    # retries refused connections for a while, the targets it may reach first; the stray pods
    # above did not, but were refused just the same once it was let through
    # (test_without_the_policies... shows the order too).
    allowed, refused = gateway_egress_targets()
    got = probe("e2e-gateway-probe", gw, NODE2, retry=True, urls=allowed + refused)
    reach = {u: got[u] for u in allowed}
    assert all(reached(r) for r in reach.values()), f"a pod with the gateway's labels ({gw}) was refused: {reach}"
    assert all(r == "status 403 Forbidden" for u, r in reach.items() if u != PROMETHEUS_OTLP), reach
    # Egress: the gateway's pods reach nothing else, not even the primary.
    out = {u: got[u] for u in refused}
    assert all(blocked(r) for r in out.values()), f"a pod with the gateway's labels ({gw}) got out: {out}"
    results[f"{gw}@{NODE2}"] = {
        "allowed": sorted(set(reach.values())),
        "refused": sorted({r.rsplit(":", 1)[-1].strip() for r in out.values()}),
    }
    record(policy_probes=results)


def test_prometheus_scrapes_and_the_seeder_seeded_through_the_policies(root_s3):
    # The seeder Job ran under the policies (applied with it): the GIF is there only if its pod
    # was let through to the primary.
    body = root_s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == ASSET_SHA

    def targets():
        ours = active_targets()
        up = {t["labels"].get("pod") for t in ours if t["health"] == "up"}
        # Every MinIO pod (both nodes) is scraped, through its policy.
        return set(minio_pods()) <= up and up

    wait_for("Prometheus scraping every MinIO pod", targets, 180)


def test_without_the_policies_the_stray_pod_gets_through():
    """The checks above can fail: once the policies are gone, the same stray pod reaches MinIO
    and Prometheus, and a pod with the gateway's labels the primary."""
    policies = kjson("-n", NAMESPACE, "get", "networkpolicies")["items"]
    assert {p["metadata"]["name"] for p in policies} >= {PRIMARY, REPLICAS, GATEWAY}
    prometheus = kjson("-n", MONITORING, "get", "networkpolicy", f"{GATEWAY}-prometheus-clients")
    kubectl("-n", NAMESPACE, "delete", "networkpolicies", "--all")
    kubectl("-n", MONITORING, "delete", "networkpolicy", f"{GATEWAY}-prometheus-clients")
    _, refused = gateway_egress_targets()
    gw = gateway_pod_labels(next(p for p in policies if p["metadata"]["name"] == PRIMARY))
    try:
        got = wait_for(
            "the stray pod to get through without policies",
            lambda: (r := probe("e2e-stray-probe", STRAY_LABELS, NODE2, urls=s3_targets() + [PROMETHEUS_OTLP]))
            and all(reached(v) for v in r.values()) and r,
            120,
            interval=2,
        )
        out = wait_for(
            "a pod with the gateway's labels to reach the primary without policies",
            lambda: (r := probe("e2e-gateway-probe", gw, NODE2, urls=refused[:2]))
            and all(reached(v) for v in r.values()) and r,
            120,
            interval=2,
        )
    finally:
        for p in policies + [prometheus]:
            meta = p["metadata"]
            p["metadata"] = {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta}
            p.pop("status", None)
        create(policies + [prometheus])
    assert all(v == "status 403 Forbidden" for u, v in got.items() if u != PROMETHEUS_OTLP), got
    assert all(v == "status 403 Forbidden" for v in out.values()), out
    # Restored (with Helm's and Terraform's labels): stray traffic is refused again.
    wait_for(
        "the stray pod refused again once the policies are back",
        lambda: all(
            blocked(v)
            for v in probe("e2e-stray-probe", STRAY_LABELS, NODE2, urls=s3_targets() + [PROMETHEUS_OTLP]).values()
        ),
        120,
        interval=2,
    )


def create(objects):
    proc = subprocess.run(
        [KUBECTL, "create", "-f", "-"],
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_drain_a_node_under_load_loses_no_request(mirror_creds):
    """Drain node 2 (the replica and, normally, one gateway pod; node 1 keeps the primary, whose
    volume is node-local, and the control plane) under steady GIF GETs; uncordon it afterwards."""
    need_shim()
    # The e2e applies app_hpa.min_replicas = 1 (test_stack.py watches a scale-out from one pod);
    # one pod cannot move without an outage, so this check runs at the chart's default of 2 and
    # restores the HPA's spec afterwards.
    hpa_spec = kjson("-n", NAMESPACE, "get", "hpa", GATEWAY)["spec"]
    follow = None
    kubectl("-n", NAMESPACE, "patch", "hpa", GATEWAY, "--type=merge", "-p", json.dumps({"spec": {"minReplicas": 2}}))
    try:
        wait_for(
            "two gateway pods Ready",
            lambda: (
                kjson("-n", NAMESPACE, "get", "deployment", GATEWAY)["spec"]["replicas"] >= 2
                and deployment_available(GATEWAY)
            ),
            300,
        )
        before = placement()
        record(scheduling_before_drain=before)
        assert NODE2 in before.get("replica", {}), f"no replica on {NODE2} to drain: {before}"
        gateway_on_2 = before.get("gateway", {}).get(NODE2, 0)
        kubectl("-n", NAMESPACE, "delete", "pod", "-l", STRAY_LABELS, "--wait=true", "--ignore-not-found")

        url = f"http://{node_ip()}/{KEY}"
        load_began = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # The evicted pods take their logs with them: follow every gateway pod's log from now on.
        follow = subprocess.Popen(
            [KUBECTL, "-n", NAMESPACE, "logs", "-f", "-l", gateway_pod_labels(), "--tail=0", "--prefix",
             "--timestamps", "--max-log-requests=20"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        t0 = time.monotonic()
        # 6/s: below what would make the gateway's HPA (e2e target 5/s per pod) add pods to the
        # two, so the drain is all that moves them.
        with PacedGifLoad(url, rate=6, expect_sha256=ASSET_SHA) as load:
            time.sleep(5)
            drain = kubectl(
                "drain", NODE2, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=300s", timeout=330
            )
            drain_s = time.monotonic() - t0 - 5
            wait_for(
                "the project's pods rescheduled and Ready",
                lambda: deployment_available(GATEWAY) and deployment_available(REPLICAS)
                and NODE2 not in pods_by_node() and deployment_available("coredns", "kube-system"),
                300,
                interval=2,
            )
            time.sleep(5)
        after = placement()
        kubectl("uncordon", NODE2)
        # What the gateway saw of MinIO pods going away: requests it sent a second time after a
        # broken connection (src/retry.rs), and any it gave up on. From the pods followed since
        # the load began (the evicted ones included) and the pods started during the drain.
        follow.terminate()
        followed = follow.communicate(timeout=30)[0]
        started = kubectl("-n", NAMESPACE, "logs", "-l", gateway_pod_labels(), "--tail=-1", "--prefix",
                          "--timestamps", f"--since-time={load_began}", check=False)
        lines = {line for line in (followed + started).splitlines() if "gif-gateway:" in line}
        record(
            drain_gateway_retries=sorted(line for line in lines if "sending the request again" in line),
            drain_gateway_gave_up=sorted(line for line in lines if "object store request failed" in line),
        )
        sent = load.ok + len(load.failures)
        record(
            drained_node=NODE2,
            drain_seconds=round(drain_s, 1),
            drain_gateway_pods_evicted=gateway_on_2,
            drain_gif_gets=sent,
            drain_gif_failures=len(load.failures),
            drain_failure_reasons=sorted({r for _, r in load.failures})[:5],
            scheduling_after_drain=after,
        )
        assert sent > 0 and load.ok > 0
        assert NODE2 not in {n for comp in after.values() for n in comp}, after
        assert gateway_on_2 >= 1, f"no gateway pod ran on {NODE2}, so the drain moved none: {before}"
        # Goal 0 failed requests; each failure is counted with its reason (a refused connection
        # at the LoadBalancer, or an answer that is not 200 with the GIF, e.g. the gateway's 502
        # when its request to a MinIO replica being evicted fails) and reported in the run's
        # `measured:` line. An outage (every gateway pod or replica gone at once) fails far more
        # than a tenth.
        record(drain_gif_wrong_answers=sum(1 for f in load.failures if f[1].startswith("HTTP")))
        assert len(load.failures) <= sent // 10, (
            f"{len(load.failures)} of {sent} GIF GETs failed during the drain of {NODE2}: {load.failures[:10]}\n{drain}"
        )
    finally:
        if follow is not None and follow.poll() is None:
            follow.kill()
        kubectl("uncordon", NODE2, check=False)
        restore = {"spec": {"minReplicas": hpa_spec.get("minReplicas", 1), "behavior": hpa_spec.get("behavior")}}
        # Back to the applied minimum now, not after the scale-down window and policy period, so that
        # test_stack.py starts from the pod count it expects.
        fast = json.loads(json.dumps(restore))
        if fast["spec"]["behavior"]:
            fast["spec"]["behavior"].setdefault("scaleDown", {})["stabilizationWindowSeconds"] = 0
        kubectl("-n", NAMESPACE, "patch", "hpa", GATEWAY, "--type=merge", "-p", json.dumps(fast))
        wait_for(
            "the gateway back at its applied minimum",
            lambda: (
                kjson("-n", NAMESPACE, "get", "deployment", GATEWAY)["spec"]["replicas"]
                == restore["spec"]["minReplicas"]
                and deployment_available(GATEWAY)
            ),
            240,
        )
        kubectl("-n", NAMESPACE, "patch", "hpa", GATEWAY, "--type=merge", "-p", json.dumps(restore))

    # Afterwards every MinIO pod serves the same bucket as the primary.
    def same_everywhere():
        pods = minio_pods()
        # The mirror user lists and reads the bucket on the primary and on every replica.
        listings = {name: bucket_listing(s3(route_to(ip), *mirror_creds)) for name, (_, ip) in pods.items()}
        primary = listings.get(f"{PRIMARY}-0")
        return primary and len(pods) >= 3 and all(v == primary for v in listings.values()) and listings

    listings = wait_for("the bucket identical on every MinIO pod", same_everywhere, 120)
    record(bucket_identical_on_pods=sorted(listings))


def bucket_listing(client):
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for o in page.get("Contents", []):
            out[o["Key"]] = hashlib.sha256(client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()).hexdigest()
    return out
