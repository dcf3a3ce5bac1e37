#!/usr/bin/env python3
"""Generate the README's table of `make` targets from the Makefile's `## ` help comments.

The table sits between <!-- BEGIN_MAKE_TARGETS --> and <!-- END_MAKE_TARGETS --> in README.md and
is never edited by hand: the Makefile's help text is the one source, so `make help` and the README
cannot disagree.

  scripts/docs/make-table.py [DIR]          # rewrite DIR/README.md's table (default: this checkout)
  scripts/docs/make-table.py --check [DIR]  # fail, printing the diff, when DIR/README.md's table is stale
"""
import difflib
import pathlib
import re
import sys

BEGIN, END = "<!-- BEGIN_MAKE_TARGETS -->", "<!-- END_MAKE_TARGETS -->"
# The same lines `make help` lists: a target at the start of a line, its `## ` comment after it.
TARGET = re.compile(r"^([a-z0-9-]+):.*?## (.*)$")


def table(makefile: str) -> str:
    rows = ["| target | what it does |", "|---|---|"]
    for line in makefile.splitlines():
        m = TARGET.match(line)
        if m:
            # A `|` in the help text would end the cell early.
            rows.append(f"| `make {m[1]}` | {m[2].strip().replace('|', chr(92) + '|')} |")
    return "\n".join(rows)


def render(readme: str, makefile: str) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        # Refuse instead of appending, as terraform-docs' inject mode does.
        sys.exit(f"make-table: README.md has no {BEGIN} ... {END} markers")
    return readme[: start + len(BEGIN)] + "\n" + table(makefile) + "\n" + readme[end:]


def main(argv: list[str]) -> int:
    check = bool(argv) and argv[0] == "--check"
    args = argv[1:] if check else argv
    root = pathlib.Path(args[0] if args else pathlib.Path(__file__).resolve().parents[2])
    readme_path = root / "README.md"
    readme = readme_path.read_text()
    new = render(readme, (root / "Makefile").read_text())
    if not check:
        if new != readme:
            readme_path.write_text(new)
        print("docs: README.md make-targets table regenerated")
        return 0
    if new == readme:
        print("docs: README.md make-targets table is up to date")
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            readme.splitlines(True), new.splitlines(True), "README.md (committed)", "README.md (generated)"
        )
    )
    print("docs: out of date: README.md make-targets table (regenerate with make docs)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
