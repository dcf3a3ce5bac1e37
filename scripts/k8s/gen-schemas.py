#!/usr/bin/env python3
"""Generates kubeconform JSON schemas offline from pinned sources.

* Kubernetes built-in kinds: api/openapi-spec/swagger.json of the k8s.io/kubernetes Go module.
* Custom resources: the CRD YAML files shipped in pinned Go modules (spin-operator,
  prometheus-operator) and runtime-class-manager's Shim CRD from ../shared/upstream-charts (the Go
  module proxy does not serve that module); the openAPIV3Schema of every served version.

Schemas are "standalone" (all $refs inlined) and "strict" (additionalProperties: false wherever an
object lists its properties and does not declare otherwise), like the ones kubeconform publishes,
so a misspelt field fails validation. Layout: OUT/<group>/<kind lowercase>_<version>.json (group
"v1" for the core group, as kubeconform names it), used with
-schema-location 'OUT/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'.

usage: gen-schemas.py OUT --swagger swagger.json --crd file.yaml [--crd ...]
"""
import argparse
import copy
import json
import os
import sys

import yaml

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}


def strictify(node):
    """Recursively add additionalProperties: false to closed objects; map int-or-string."""
    if isinstance(node, list):
        return [strictify(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: strictify(v) for k, v in node.items()}
    if node.get("x-kubernetes-int-or-string") or node.get("format") == "int-or-string":
        extra = {k: v for k, v in node.items() if k in ("description",)}
        return {**extra, **copy.deepcopy(INT_OR_STRING)}
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


def k8s_schemas(swagger_path):
    spec = json.load(open(swagger_path))
    defs = spec["definitions"]

    def resolve(node, stack):
        if isinstance(node, list):
            return [resolve(n, stack) for n in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            name = node["$ref"].split("/")[-1]
            if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
                return copy.deepcopy(INT_OR_STRING)
            if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
                return copy.deepcopy(QUANTITY)
            if name in stack:  # recursive types (JSONSchemaProps): accept anything below
                return {}
            out = resolve(defs[name], stack | {name})
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**out, **extra}
        return {k: resolve(v, stack) for k, v in node.items()}

    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            if gvk["kind"].endswith("List") or gvk["version"] in ("", None):
                continue
            # The same definition can serve several GVKs (e.g. DeleteOptions); skip meta kinds.
            if name.startswith("io.k8s.apimachinery"):
                continue
            schema = strictify(resolve(d, {name}))
            yield gvk["group"], gvk["version"], gvk["kind"], schema


def crd_schemas(path):
    for doc in yaml.safe_load_all(open(path)):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for v in doc["spec"]["versions"]:
            if not v.get("served", True):
                continue
            schema = copy.deepcopy(v["schema"]["openAPIV3Schema"])
            props = schema.setdefault("properties", {})
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props["metadata"] = {"type": "object"}  # ObjectMeta is checked by the API server
            yield group, v["name"], kind, strictify(schema)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--swagger", required=True)
    ap.add_argument("--crd", action="append", default=[])
    a = ap.parse_args()
    n = 0
    sources = [k8s_schemas(a.swagger)] + [crd_schemas(c) for c in a.crd]
    for src in sources:
        for group, version, kind, schema in src:
            schema = dict(schema)
            schema["$schema"] = "http://json-schema.org/schema#"
            gv = f"{group}/{version}" if group else version
            schema.setdefault("properties", {})
            schema["properties"]["apiVersion"] = {"type": "string", "enum": [gv]}
            schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
            # kubeconform's {{ .Group }} is the first part of apiVersion: "v1" for the core group.
            d = os.path.join(a.out, group or version)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"{kind.lower()}_{version}.json"), "w") as f:
                json.dump(schema, f)
            n += 1
    print(f"wrote {n} schemas to {a.out}", file=sys.stderr)
    if n < 80:
        sys.exit("too few schemas: is the swagger file complete?")


if __name__ == "__main__":
    main()
