"""The opt-in edge cache under SpinKube: the chart's `edgeCache` values reach the real shim.

Runs before test_stack.py (file order): a `helm upgrade --reuse-values` of the release Terraform
installed turns the cache on, and a `helm rollback` to the revision Terraform made restores it,
so the checks after this one see the release as applied.
"""

import hashlib
import json
import subprocess

import requests

from testkit.cluster import ASSET_SHA, NAMESPACE, kjson, kubectl, need_shim, node_ip, wait_for
from testkit.paths import ROOT

HELM = str(ROOT / ".tools/bin/helm")
RELEASE = "gif-gateway"
KEY = "animation.gif"


def helm(*args, timeout=600):
    proc = subprocess.run([HELM, *args, "-n", NAMESPACE], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"helm {' '.join(args)} failed: {proc.stderr.strip()}"
    return proc.stdout


def revision():
    return json.loads(helm("history", RELEASE, "--max", "1", "-o", "json"))[-1]["revision"]


def rolled_out():
    kubectl("-n", NAMESPACE, "rollout", "status", f"deployment/{RELEASE}", "--timeout=300s", timeout=320)
    return True


def cache_states(n=6):
    """n GETs of the GIF through the LoadBalancer on one kept-alive connection (so one pod)."""
    states, url = [], f"http://{node_ip()}/{KEY}"
    with requests.Session() as session:
        for _ in range(n):
            resp = session.get(url, timeout=10)
            assert resp.status_code == 200
            assert hashlib.sha256(resp.content).hexdigest() == ASSET_SHA
            states.append(resp.headers.get("X-Edge-Cache"))
    return states


def test_edge_cache_through_the_load_balancer_and_back_off():
    need_shim()
    applied = revision()
    helm("upgrade", RELEASE, str(ROOT / "charts/gif-gateway"), "--reuse-values",
         "--set", "edgeCache.setting=ttl=60s", "--wait", "--timeout", "5m")
    try:
        spec = kjson("-n", NAMESPACE, "get", "spinapp", RELEASE)["spec"]
        assert {"name": "edge_cache", "value": "ttl=60s"} in spec["variables"]
        assert spec["runtimeConfig"]["keyValueStores"] == [{"name": "default", "type": "spin"}]
        assert rolled_out()
        # The first answer of a pod may be its miss; after that the same pod answers from its store.
        states = wait_for("hits from the in-memory store", lambda: (s := cache_states()) and "hit" in s[1:] and s, 120)
        assert set(states) <= {"miss", "hit", "revalidated"}, states
    finally:
        helm("rollback", RELEASE, str(applied), "--wait", "--timeout", "5m")
    # Off again; the in-memory store stays configured (Spin opens it at start either way, and the
    # pods' read-only root has no room for the file store).
    spec = kjson("-n", NAMESPACE, "get", "spinapp", RELEASE)["spec"]
    assert {"name": "edge_cache", "value": "off"} in spec["variables"], spec["variables"]
    assert spec["runtimeConfig"]["keyValueStores"] == [{"name": "default", "type": "spin"}]
    assert rolled_out()
    assert wait_for("answers without the cache", lambda: not any(cache_states(3)), 120)
