"""One value out of a JSON, YAML or TOML document, for the shell scripts (a jq they all have):

    python3 scripts/lib/field.py FORMAT FILE|- PATH

FORMAT is json, yaml or toml; PATH is keys separated by dots, where `*` takes the first value of a
mapping (spin.toml's one component). A string prints as it is, anything else as JSON. A missing
key fails with the path, so a caller under `set -e` stops there."""
import json
import sys


def load(fmt: str, name: str):
    data = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()
    if fmt == "json":
        return json.loads(data)
    if fmt == "toml":
        import tomllib

        return tomllib.loads(data.decode())
    if fmt == "yaml":
        import yaml

        return yaml.safe_load(data)
    sys.exit(f"field.py: unknown format {fmt!r} (json, yaml or toml)")


def load_error(value) -> str:
    return f": {value['Error']}" if isinstance(value, dict) and value.get("Error") else ""


def main(fmt: str, name: str, path: str) -> int:
    value = load(fmt, name)
    for key in path.split("."):
        try:
            value = next(iter(value.values())) if key == "*" else value[key]
        except (KeyError, TypeError, StopIteration):
            # `go mod download -json` says why a module has no Dir in its own Error field.
            why = load_error(value)
            sys.exit(f"field.py: {name}: no {path!r} (at {key!r}){why}")
    print(value if isinstance(value, str) else json.dumps(value))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
