"""The built component is a plain wasi:http 0.2 component that Spin 3 (SpinKube's shim) runs."""
import re
import subprocess

from conftest import COMPONENT, COMPOSED, WASM_TOOLS_BIN


def world_of(path):
    wit = subprocess.run([str(WASM_TOOLS_BIN), "component", "wit", str(path)], capture_output=True, text=True, check=True).stdout
    imports = set(re.findall(r"^\s*import ([\w:/.\-@]+);", wit, re.M))
    exports = set(re.findall(r"^\s*export ([\w:/.\-@]+);", wit, re.M))
    return imports, exports


SPIN_IMPORTS = {"fermyon:spin/variables@2.0.0", "fermyon:spin/key-value@2.0.0"}


def test_component_exports_only_the_http_handler_and_imports_only_wasi_and_spin_variables_and_key_value():
    imports, exports = world_of(COMPONENT)
    assert exports == {"wasi:http/incoming-handler@0.2.0"}
    assert SPIN_IMPORTS <= imports
    assert any(i.startswith("wasi:http/outgoing-handler@0.2.") for i in imports), imports
    unexpected = {i for i in imports if not i.startswith("wasi:") and i not in SPIN_IMPORTS}
    assert not unexpected, unexpected
    # Only WASI 0.2 (any 0.2.x links against Spin 3.6's 0.2 host); 0.3 (spin-sdk 6+) would not run there.
    assert all(re.search(r"@0\.2\.\d+$", i) for i in imports if i.startswith("wasi:")), imports


def test_composition_only_adds_the_variables_and_key_value_provider():
    imports, exports = world_of(COMPOSED)
    assert exports == {"wasi:http/incoming-handler@0.2.0"}
    assert not [i for i in imports if i.startswith("fermyon:")], "variables and key-value must be satisfied inside the composition"
    # The served composition embeds the component unchanged.
    assert COMPONENT.read_bytes() in COMPOSED.read_bytes()
