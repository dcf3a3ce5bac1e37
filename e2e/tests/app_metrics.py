"""Prometheus queries (through the API server's service proxy) and the scaling picture, shared by
test_app_metrics.py and test_stack.py."""

import json
import urllib.parse

from testkit.cluster import MONITORING, NAMESPACE, get_raw, kjson
from testkit.paths import ROOT

PROM = f"/api/v1/namespaces/{MONITORING}/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1"
GATEWAY = "gif-gateway"
REPLICAS = "gif-minio-replicas"
# What the HPA and the dashboard select: the series each gateway pod pushes over OTLP.
APP_SERIES = (
    f'spin_request_count_total{{k8s_namespace_name="{NAMESPACE}",k8s_deployment_name="{GATEWAY}",trigger_type="http"}}'
)
APP_RATE = f"sum(rate({APP_SERIES}[1m]))"
MINIO_GET_RATE = (
    f'sum(rate(minio_bucket_requests_total{{namespace="{NAMESPACE}",job="{REPLICAS}",api="getobject",'
    f'metrics_path="/minio/v2/metrics/bucket"}}[1m]))'
)
PICTURE = ROOT / "target/e2e/e2e-scaling.png"


def prom(path, **params):
    body = get_raw(f"{PROM}/{path}?{urllib.parse.urlencode(params)}")
    assert body["status"] == "success", body
    return body["data"]


def query(expr):
    """Instant vector: [(labels, value)]."""
    return [(r["metric"], float(r["value"][1])) for r in prom("query", query=expr)["result"]]


def scalar(expr, default=0.0):
    """The value of a single-series query, `default` when it has no series."""
    result = query(expr)
    assert len(result) <= 1, result
    return result[0][1] if result else default


def query_range(expr, start, end, step):
    return prom("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step}s")["result"]


def dashboard():
    """The dashboard JSON the chart shipped, with its variables' values."""
    cm = kjson("-n", NAMESPACE, "get", "configmap", f"{GATEWAY}-dashboard")
    dash = json.loads(cm["data"]["gif-gateway.json"])
    return cm, dash


def panel_queries(dash):
    """{panel title: [PromQL with the dashboard's variables filled in]}."""
    values = {
        v["name"]: v["current"]["value"]
        for v in dash["templating"]["list"] if v["type"] != "datasource"
    }
    out = {}
    for panel in dash["panels"]:
        exprs = []
        for target in panel["targets"]:
            expr = target["expr"]
            # Longest names first: $gateway must not be cut by a shorter $gate.
            for name in sorted(values, key=len, reverse=True):
                expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
            assert "$" not in expr, f"unfilled variable in {panel['title']}: {expr}"
            exprs.append(expr)
        out[panel["title"]] = exprs
    return out


def draw_scaling(start, end, path=PICTURE, title="gif-gateway e2e load test"):
    """PNG of the app's request rate, MinIO's GET rate and both HPAs' desired/current replicas
    between start and end (Unix seconds), from Prometheus range queries."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import datetime, timezone

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    step = 5
    t = lambda ts: datetime.fromtimestamp(float(ts), tz=timezone.utc)  # noqa: E731
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for expr, label, style, color in (
        (APP_RATE, "app requests/s (Spin spin.request_count, OTLP)", "-", "tab:blue"),
        (MINIO_GET_RATE, "MinIO GetObject/s (replica tier, bucket)", "--", "tab:orange"),
    ):
        for series in query_range(expr, start, end, step):
            ax1.plot([t(v[0]) for v in series["values"]], [float(v[1]) for v in series["values"]], style,
                     color=color, label=label)
    ax1.set_ylabel("requests/s (rate 1m)")
    ax1.legend(loc="upper left")
    ax1.grid(alpha=0.3)
    colors = {GATEWAY: "tab:blue", REPLICAS: "tab:orange"}
    for metric, style, width in (("desired", "-", 2.5), ("current", "--", 1.5)):
        expr = (
            f'max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_{metric}_replicas'
            f'{{namespace="{NAMESPACE}",horizontalpodautoscaler=~"{GATEWAY}|{REPLICAS}"}})'
        )
        for series in query_range(expr, start, end, step):
            name = series["metric"]["horizontalpodautoscaler"]
            ax2.step([t(v[0]) for v in series["values"]], [float(v[1]) for v in series["values"]], style,
                     where="post", color=colors.get(name), linewidth=width, label=f"{name} {metric}")
    ax2.set_ylabel("replicas")
    ax2.set_xlabel("time (UTC)")
    ax2.yaxis.get_major_locator().set_params(integer=True)
    ax2.legend(loc="upper left")
    ax2.grid(alpha=0.3)
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
