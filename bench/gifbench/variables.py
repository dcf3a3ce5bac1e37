"""The gateway's Spin variables, read from spin.toml (tomllib) rather than copied, so that a new
variable reaches the benchmark's `spin up --variable @file` row without an edit here."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .config import MANIFEST


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string (\uXXXX escapes and all) is a valid TOML basic string


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"unexpected value {value!r} in spin.toml's variables")


@dataclass
class GatewayVariables:
    """The gateway's variables as its spin.toml declares them, read from the manifest itself: the
    hello-vars row must look up the same names, through the same mapping and the same provider,
    as the gateway does, and a copy here would drift from it (it once lacked `edge_cache`)."""
    application: dict      # [variables]
    component_variables: dict  # [component.<gateway>.variables]: name -> template

    @classmethod
    def load(cls, manifest: Path) -> "GatewayVariables":
        doc = tomllib.loads(manifest.read_text())
        components = doc.get("component", {})
        name = doc["application"]["name"] if doc.get("application", {}).get("name") in components else None
        if name is None:
            if len(components) != 1:
                raise RuntimeError(f"{manifest}: expected one component or one named like the application")
            name = next(iter(components))
        return cls(doc.get("variables", {}), components[name].get("variables", {}))

    def manifest_text(self, component: str) -> list[str]:
        """[variables] and [component.<component>.variables], as in the gateway's manifest."""
        lines = ["", "[variables]"] + [f"{k} = {toml_value(v)}" for k, v in self.application.items()]
        lines += ["", f"[component.{component}.variables]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in self.component_variables.items()]
        return lines


GATEWAY = GatewayVariables.load(MANIFEST)
