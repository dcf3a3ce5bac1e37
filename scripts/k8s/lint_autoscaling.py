#!/usr/bin/env python3
"""Static checks of the autoscaling wiring that schemas cannot express.

Given rendered manifests (helm template output) and the prometheus-adapter values, asserts:
  HPAs
  * autoscaling/v2; every metric target is consistent: AverageValue <-> averageValue,
    Utilization <-> averageUtilization (Resource metrics only), Value <-> value;
  * Pods/Object/External metrics name a metric that an adapter rule really serves
    (custom rules for Pods/Object, external rules for External);
  * the scale target exists: a rendered Deployment, or the Deployment spin-operator creates for a
    rendered SpinApp with enableAutoscaling: true (and no fixed replicas);
  * never a StatefulSet (MinIO's server set is fixed at start);
  adapter rules
  * every rule has an explicit name.as, names are unique across custom/external;
  * the metricsQuery repeats every label filter of the seriesQuery except the discovery-only
    `pod!=""`/`bucket!=""` style matchers (<<.Series>> is only the metric name);
  * no two rules select the same metric with the same filters (mutually exclusive);
  * rate() windows are >= 4 x the scrape interval given with --scrape-interval.
Exit code 1 and one line per problem on failure.
"""
import argparse
import re
import sys

import yaml

problems = []


def bad(msg):
    problems.append(msg)


def parse_selector(q):
    m = re.match(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{(.*)\}\s*$", q)
    if not m:
        return None, set()
    matchers = set()
    for part in re.findall(r'[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"[^"]*"', m.group(2)):
        matchers.add(re.sub(r"\s+", "", part))
    return m.group(1), matchers


def dur_seconds(d):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", d)
    if not m:
        raise ValueError(d)
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def check_rules(values, scrape_interval):
    rules = values.get("rules", {})
    served = {"custom": set(), "external": set()}
    seen_names, seen_selectors = {}, {}
    if rules.get("default", True):
        bad("adapter: rules.default must be false (catch-all rules shadow explicit names)")
    for kind in ("custom", "external"):
        for i, r in enumerate(rules.get(kind) or []):
            where = f"adapter rules.{kind}[{i}]"
            name = (r.get("name") or {}).get("as")
            if not name:
                bad(f"{where}: name.as must be set explicitly")
                continue
            if name in seen_names:
                bad(f"{where}: metric name {name} also served by {seen_names[name]}")
            seen_names[name] = where
            served[kind].add(name)
            metric, sel = parse_selector(r.get("seriesQuery", ""))
            if not metric:
                bad(f"{where}: seriesQuery must be metric{{filters}}")
                continue
            key = (metric, frozenset(sel))
            if key in seen_selectors:
                bad(f"{where}: selects the same series as {seen_selectors[key]}")
            seen_selectors[key] = where
            mq = r.get("metricsQuery", "")
            if "<<.Series>>" not in mq or "<<.LabelMatchers>>" not in mq:
                bad(f"{where}: metricsQuery must use <<.Series>> and <<.LabelMatchers>>")
            inner = re.search(r"<<\.Series>>\{([^}]*)\}", mq)
            inner_m = (
                set(
                    re.sub(r"\s+", "", x)
                    for x in re.findall(r'[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"[^"]*"', inner.group(1))
                )
                if inner
                else set()
            )
            for m in sel:
                label = re.split(r"=~|!~|!=|=", m)[0]
                discovery_only = m.endswith('!=""') or label == "namespace"
                if not discovery_only and m not in inner_m:
                    bad(f"{where}: filter {m} of the seriesQuery is missing from the metricsQuery")
            if kind == "custom":
                ov = (r.get("resources") or {}).get("overrides") or {}
                if "pod" not in ov or "namespace" not in ov:
                    bad(f"{where}: a Pods metric needs namespace and pod resource overrides")
            for w in re.findall(r"rate\([^\[]*\[(\w+)\]", mq):
                if dur_seconds(w) < 4 * scrape_interval:
                    bad(f"{where}: rate window {w} < 4 x scrape interval ({scrape_interval}s)")
            if re.search(r"rate\(\s*<<\.Series>>", mq) and not metric.endswith("_total"):
                bad(f"{where}: rate() over {metric}, which is not a counter (_total)")
    return served


def check_hpas(docs, served):
    deployments = {(d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs if d["kind"] == "Deployment"}
    statefulsets = {(d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs if d["kind"] == "StatefulSet"}
    for d in docs:
        if d["kind"] == "SpinApp":
            key = (d["metadata"].get("namespace"), d["metadata"]["name"])
            if d["spec"].get("enableAutoscaling"):
                if "replicas" in d["spec"]:
                    bad(f"SpinApp {key[1]}: enableAutoscaling with fixed replicas")
                deployments.add(key)
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    for h in hpas:
        name = h["metadata"]["name"]
        ns = h["metadata"].get("namespace")
        if h["apiVersion"] != "autoscaling/v2":
            bad(f"HPA {name}: use autoscaling/v2")
        ref = h["spec"]["scaleTargetRef"]
        if ref["kind"] == "StatefulSet" or (ns, ref["name"]) in statefulsets:
            bad(f"HPA {name}: scales StatefulSet {ref['name']} (MinIO cannot add servers to a running cluster)")
        elif ref["kind"] != "Deployment" or (ns, ref["name"]) not in deployments:
            bad(
                f"HPA {name}: scale target {ref['kind']}/{ref['name']} "
                "is not a rendered Deployment or an autoscaled SpinApp"
            )
        if h["spec"].get("minReplicas", 1) > h["spec"]["maxReplicas"]:
            bad(f"HPA {name}: minReplicas > maxReplicas")
        for m in h["spec"].get("metrics", []):
            t = m["type"]
            body = m[
                {
                    "Resource": "resource",
                    "Pods": "pods",
                    "Object": "object",
                    "External": "external",
                    "ContainerResource": "containerResource",
                }[t]
            ]
            target = body["target"]
            tt = target["type"]
            want = {"AverageValue": "averageValue", "Utilization": "averageUtilization", "Value": "value"}[tt]
            extra = {"averageValue", "averageUtilization", "value"} - {want}
            if want not in target:
                bad(f"HPA {name}: target type {tt} needs {want}")
            for e in extra & set(target):
                bad(f"HPA {name}: target type {tt} must not set {e}")
            if tt == "Utilization" and t not in ("Resource", "ContainerResource"):
                bad(f"HPA {name}: Utilization is only valid for Resource metrics, not {t}")
            if t == "Pods" and tt != "AverageValue":
                bad(f"HPA {name}: Pods metrics only support AverageValue")
            if t in ("Pods", "Object", "External"):
                mname = body["metric"]["name"]
                pool = served["external"] if t == "External" else served["custom"]
                if mname not in pool:
                    bad(f"HPA {name}: metric {mname} ({t}) is not served by any adapter rule ({sorted(pool)})")
    return len(hpas)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter-values", required=True)
    ap.add_argument("--scrape-interval", type=float, default=15)
    ap.add_argument("--min-hpas", type=int, default=0)
    ap.add_argument("manifests", nargs="+")
    a = ap.parse_args()
    values = yaml.safe_load(open(a.adapter_values))
    served = check_rules(values, a.scrape_interval)
    docs = []
    for f in a.manifests:
        docs += [d for d in yaml.safe_load_all(open(f)) if d]
    n = check_hpas(docs, served)
    if n < a.min_hpas:
        bad(f"expected at least {a.min_hpas} HPAs, found {n}")
    for p in problems:
        print("autoscaling-lint:", p)
    if problems:
        sys.exit(1)
    print(f"autoscaling-lint: {n} HPAs, {sum(map(len, served.values()))} adapter metrics OK")


if __name__ == "__main__":
    main()
