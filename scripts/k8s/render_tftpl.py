#!/usr/bin/env python3
"""Renders a Terraform templatefile() template that only uses ${name} interpolations (and the
$${ / %%{ escapes), so the checks test exactly the file Terraform feeds to helm_release.
usage: render_tftpl.py TEMPLATE key=value ... > out"""
import re
import sys

tpl = open(sys.argv[1]).read()
env = dict(a.split("=", 1) for a in sys.argv[2:])
if re.search(r"(?<!%)%\{", tpl):
    sys.exit("template directives (%{...}) are not supported by this renderer")


def sub(m):
    if m.group(0).startswith("$$"):
        return m.group(0)[1:]
    name = m.group(1)
    if name not in env:
        sys.exit(f"missing template variable {name}")
    return env[name]


sys.stdout.write(re.sub(r"\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, tpl))
