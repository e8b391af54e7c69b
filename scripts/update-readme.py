#!/usr/bin/env python3
"""Re-runs every `$ noisyprop ...` command in README.md's ```console blocks
and writes its real output below it. The test `readme` in crates/cli checks
that the README matches (run this after changing output)."""
import os, re, shlex, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
subprocess.run(["cargo", "build", "-q", "-p", "noisyprop"], cwd=root, check=True)
binary = os.path.join(root, "target", "debug", "noisyprop")
readme = os.path.join(root, "README.md")
text = open(readme).read()
work = tempfile.mkdtemp()

def run(cmd):
    args = shlex.split(cmd)
    assert args[0] == "noisyprop"
    r = subprocess.run([binary] + args[1:], cwd=work, capture_output=True, text=True)
    return r.stdout

def block(m):
    body = m.group(1)
    out = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append(line)
            result = run(line[2:])
            out.extend(result.rstrip("\n").splitlines())
    return "```console\n" + "\n".join(out) + "\n```"

new = re.sub(r"```console\n(.*?)```", block, text, flags=re.S)
open(readme, "w").write(new)
print("README.md updated", file=sys.stderr)
