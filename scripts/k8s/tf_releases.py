#!/usr/bin/env python3
"""Prints, as JSON, what terraform/ gives Helm and the Prometheus NetworkPolicy with the variables'
defaults, evaluated by Terraform itself (`terraform console`), so the checks render the upstream
charts with exactly the values `terraform apply` passes: the same templatefile() and yamlencode()
inputs, the same locals.

Without state, `terraform console` knows no resource attribute. The only ones these expressions
use are the namespaces' names, which are their `metadata { name = ... }` expressions; those are
substituted, and any other resource reference is refused (it would need a substitution here).

usage: tf_releases.py TERRAFORM_DIR > releases.json   (TERRAFORM on PATH, or $TERRAFORM; an
initialised directory: console needs the providers)
output: {"releases": {NAME: {name, namespace, chart, version, repository, count, values: [str]}},
         "locals": {prometheus_service, prometheus_pod_labels, monitoring_namespace, namespace},
         "prometheus_policy": {namespace, pod_selector, from: [{namespace_selector, pod_selector, dynamic}]}}
"""
import json
import os
import re
import subprocess
import sys

TF_DIR = sys.argv[1]
MAIN = open(os.path.join(TF_DIR, "main.tf")).read()
GENERATED = os.path.join(TF_DIR, "zz_check_releases.tf")


def skip_string(s, i):
    """s[i] is the opening quote; returns the index after the closing one (${...} nests)."""
    i += 1
    while s[i] != '"':
        if s[i] == "\\":
            i += 2
        elif s.startswith("${", i) or s.startswith("%{", i):
            i = skip_expr(s, i + 2, "}") + 1
        else:
            i += 1
    return i + 1


def skip_expr(s, i, close):
    """Returns the index of the `close` that ends the bracketed text starting at s[i]."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    while s[i] != close:
        c = s[i]
        if c == '"':
            i = skip_string(s, i)
        elif c == "#" or s.startswith("//", i):
            i = s.index("\n", i)
        elif c in pairs:
            i = skip_expr(s, i + 1, pairs[c]) + 1
        elif c in "}])":
            raise SyntaxError(f"unbalanced {c!r} at {s[:i].count(chr(10)) + 1}")
        else:
            i += 1
    return i


def block(s, header):
    """The body of the first block whose header matches the regex `header`."""
    m = re.search(header + r"\s*\{", s)
    if not m:
        return None
    return s[m.end():skip_expr(s, m.end(), "}")]


def attributes(body):
    """Top-level `name = expression` pairs and nested `type {` blocks of a block body, in order."""
    out, i = [], 0
    while True:
        m = re.compile(r'^[ \t]*(dynamic\s+"\w+"|\w+)\s*(=|\{)', re.M).search(body, i)
        if not m:
            return out
        if m.group(2) == "{":
            end = skip_expr(body, m.end(), "}")
            out.append(("block", m.group(1), body[m.end():end]))
        else:
            # An expression ends at the first newline outside brackets and strings.
            j = m.end()
            while body[j] != "\n":
                if body[j] == '"':
                    j = skip_string(body, j)
                elif body[j] in "{[(":
                    j = skip_expr(body, j + 1, {"{": "}", "[": "]", "(": ")"}[body[j]]) + 1
                elif body[j] == "#":
                    j = body.index("\n", j)
                else:
                    j += 1
            out.append(("attr", m.group(1), body[m.end():j].strip()))
            end = j
        i = end + 1


# The namespaces' resource references -> the expressions their names are made of.
SUBST = {}
for m in re.finditer(r'resource "kubernetes_namespace_v1" "(\w+)"', MAIN):
    ns = block(block(MAIN[m.start():], re.escape(m.group(0))), r"\bmetadata")
    name = dict((k, v) for t, k, v in attributes(ns) if t == "attr")["name"]
    SUBST[rf"kubernetes_namespace_v1\.{m.group(1)}(\[0\])?\.metadata\[0\]\.name"] = f"({name})"


def evaluable(expr, where):
    for pat, repl in SUBST.items():
        expr = re.sub(pat, repl, expr)
    ref = re.search(r"\b(?:data\.\w+|helm_release|kubernetes_\w+|terraform_data)\.\w+", expr)
    if ref:
        sys.exit(f"{where} refers to {ref.group(0)}, which terraform console cannot evaluate "
                 "without state: teach scripts/k8s/tf_releases.py what it equals")
    return expr


entries = []
for m in re.finditer(r'resource "helm_release" "(\w+)"', MAIN):
    body = block(MAIN[m.start():], re.escape(m.group(0)))
    attrs = {k: v for t, k, v in attributes(body) if t == "attr"}
    fields = {k: evaluable(attrs.get(k, default), f"helm_release.{m.group(1)}.{k}")
              for k, default in [("name", "null"), ("namespace", '"default"'), ("chart", "null"),
                                 ("version", "null"), ("repository", "null"), ("count", "1"),
                                 ("values", "[]")]}
    entries.append(f"    {m.group(1)} = {{\n" + "".join(f"      {k} = {v}\n" for k, v in fields.items()) + "    }")

pol_head = r'resource "kubernetes_network_policy_v1" "prometheus"'
pol = block(MAIN, pol_head)
spec = block(pol, r"\bspec")
selector = lambda body, kind: next(  # noqa: E731
    (evaluable(v, pol_head) for t, k, b in attributes(body) if t == "block" and k == kind
     for t2, k2, v in attributes(b) if t2 == "attr" and k2 == "match_labels"), "null")
peers = []
for t, k, b in attributes(spec):
    if t == "block" and k == "ingress":
        for t2, k2, fb in attributes(b):
            dynamic = k2.startswith("dynamic")
            if t2 == "block" and k2 in ("from", 'dynamic "from"'):
                if dynamic:
                    fb = block(fb, r"\bcontent")
                    # Peers taken from a variable (for_each over var.*) are the user's extras.
                    if re.search(r"\b\w+\.value\b", fb):
                        continue
                peers.append(f"{{ namespace_selector = {selector(fb, 'namespace_selector')}, "
                             f"pod_selector = {selector(fb, 'pod_selector')}, dynamic = {str(dynamic).lower()} }}")
pol_ns = evaluable(
    dict((k, v) for t, k, v in attributes(block(pol, r"\bmetadata")) if t == "attr")["namespace"], pol_head
)

open(GENERATED, "w").write(
    "# Generated by scripts/k8s/tf_releases.py in a copy of terraform/ (never committed).\n"
    "locals {\n  zz_check = {\n  releases = {\n" + "\n".join(entries) + "\n  }\n"
    "  locals = { prometheus_service = local.prometheus_service, prometheus_pod_labels = local.prometheus_pod_labels,"
    " monitoring_namespace = var.monitoring_namespace, namespace = var.namespace }\n"
    f"  prometheus_policy = {{ namespace = {pol_ns}, pod_selector = {selector(spec, 'pod_selector')},"
    f" from = [{', '.join(peers)}] }}\n  }}\n}}\n")
try:
    out = subprocess.run([os.environ.get("TERRAFORM", "terraform"), f"-chdir={TF_DIR}", "console"],
                         input="jsonencode(local.zz_check)\n", capture_output=True, text=True)
finally:
    os.remove(GENERATED)
if out.returncode != 0:
    sys.exit(f"terraform console failed:\n{out.stdout}{out.stderr}")
# console prints the JSON as an HCL string literal: JSON escapes, plus $${ and %%{ for ${ and %{.
text = json.loads(out.stdout.strip()).replace("$${", "${").replace("%%{", "%{")
json.dump(json.loads(text), sys.stdout, indent=1, sort_keys=True)
print()
