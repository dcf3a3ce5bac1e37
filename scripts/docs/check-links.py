#!/usr/bin/env python3
"""Check that every relative link in the project's Markdown files resolves.

A link `[text](path)` or `[text](path#anchor)` must name a file or folder that exists, and an
anchor into a Markdown file must match one of its headings (GitHub's slugs), so moving a section
between pages cannot leave a dead link behind. Links with a scheme (https:, mailto:) are not
fetched: the checks run offline.

  scripts/docs/check-links.py [DIR]   # default: this checkout
"""
import pathlib
import re
import sys

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
SKIP_DIRS = {".git", ".tools", ".local", "target", "node_modules", ".spin", ".terraform", ".venv"}
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading: str) -> str:
    # GitHub: lower-case, drop punctuation except - and _, spaces become -.
    text = re.sub(r"`|\*\*|<[^>]+>", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def prose(path: pathlib.Path) -> list[str]:
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def anchors(path: pathlib.Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path):
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            s = slug(m[1])
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


def main(argv: list[str]) -> int:
    root = pathlib.Path(argv[0] if argv else pathlib.Path(__file__).resolve().parents[2]).resolve()
    files = [p for p in root.rglob("*.md") if not SKIP_DIRS & set(p.relative_to(root).parts)]
    bad = []
    for md in sorted(files):
        for line in prose(md):
            for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                target = m[1] or m[2]
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue
                path, _, anchor = target.partition("#")
                dest = (md.parent / path).resolve() if path else md
                rel = md.relative_to(root)
                if not dest.exists():
                    bad.append(f"{rel}: {target}: no such file")
                elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                    bad.append(f"{rel}: {target}: no such heading")
    for b in bad:
        print(f"docs: broken link: {b}", file=sys.stderr)
    if bad:
        return 1
    print(f"docs: every relative link in {len(files)} Markdown files resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
