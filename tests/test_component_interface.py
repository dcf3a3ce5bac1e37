"""The built component is a WASIp3 (wasi:http 0.3) component: what Spin 4 and SpinKube's
containerd-shim-spin v0.25 run, and reuse across requests."""
import re
import subprocess

from testkit.paths import COMPONENT, COMPOSED, WASM_TOOLS_BIN

# The release candidate of WASIp3 that spin-sdk 6.0.0 targets and Spin 4.0 (Wasmtime 43/44) hosts.
WASIP3 = "0.3.0-rc-2026-03-15"
HANDLER = f"wasi:http/handler@{WASIP3}"
SPIN_IMPORTS = {"spin:variables/variables@3.0.0", "spin:key-value/key-value@3.0.0"}


def world_of(path):
    wit = subprocess.run(
        [str(WASM_TOOLS_BIN), "component", "wit", str(path)], capture_output=True, text=True, check=True
    ).stdout
    imports = set(re.findall(r"^\s*import ([\w:/.\-@]+);", wit, re.M))
    exports = set(re.findall(r"^\s*export ([\w:/.\-@]+);", wit, re.M))
    return imports, exports


def test_component_exports_only_the_wasip3_handler_and_imports_only_wasi_and_spin_variables_and_key_value():
    imports, exports = world_of(COMPONENT)
    assert exports == {HANDLER}
    assert SPIN_IMPORTS <= imports, imports
    assert f"wasi:http/client@{WASIP3}" in imports, imports
    unexpected = {i for i in imports if not i.startswith("wasi:") and i not in SPIN_IMPORTS}
    assert not unexpected, unexpected
    # wasi:http only at the release candidate Spin 4 hosts; Rust's standard library itself still
    # links the WASIp2 CLI interfaces, which every host provides.
    http = {i for i in imports if i.startswith("wasi:http/")}
    assert all(i.endswith(f"@{WASIP3}") for i in http), http


def test_composition_only_adds_the_variables_and_key_value_provider():
    imports, exports = world_of(COMPOSED)
    assert exports == {HANDLER}
    assert not [i for i in imports if i.startswith(("spin:", "fermyon:"))], (
        "variables and key-value must be satisfied inside the composition"
    )
    # The served composition embeds the component unchanged.
    assert COMPONENT.read_bytes() in COMPOSED.read_bytes()
