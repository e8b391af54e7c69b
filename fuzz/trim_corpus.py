#!/usr/bin/env python3
"""Trims fuzz/corpus/<target>/ to at most MAX_FILES files and MAX_BYTES bytes
that keep as many coverage edges as the whole corpus, by greedy set cover:
each file's edges are measured alone (libFuzzer `-merge=1 -use_counters=0`
into an empty directory, the COV lines of its control file), then the file
adding the most uncovered edges (the smaller on a tie) is kept, until nothing
is gained or a cap is reached. Run after `cargo +nightly fuzz cmin <target>`
(which keeps one file per new counter feature, far more than needed).

    python3 trim_corpus.py <target> [MAX_FILES [MAX_BYTES]] [--apply]

Without --apply it only prints what it would keep. Hand-written seeds
(`seed-*`, e.g. those of cifar) are never removed.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def edges(binary, path):
    with tempfile.TemporaryDirectory() as tmp:
        out, src = os.path.join(tmp, "out"), os.path.join(tmp, "in")
        os.mkdir(out)
        os.mkdir(src)
        shutil.copy(path, src)
        ctl = os.path.join(tmp, "ctl")
        subprocess.run([binary, "-merge=1", "-use_counters=0", f"-merge_control_file={ctl}", out, src],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        cov = set()
        if not os.path.exists(ctl):  # an empty input: libFuzzer skips it
            return cov
        with open(ctl) as f:
            for line in f:
                if line.startswith("COV "):
                    cov.update(line.split()[2:])
        return cov


def main():
    args = [a for a in sys.argv[1:] if a != "--apply"]
    target = args[0]
    max_files = int(args[1]) if len(args) > 1 else 150
    max_bytes = int(args[2]) if len(args) > 2 else 200_000
    binary = os.path.join(HERE, "target/x86_64-unknown-linux-gnu/release", target)
    corpus = os.path.join(HERE, "corpus", target)
    files = sorted(os.listdir(corpus))
    feats = {f: edges(binary, os.path.join(corpus, f)) for f in files}
    size = {f: os.path.getsize(os.path.join(corpus, f)) for f in files}
    every = set().union(*feats.values()) if feats else set()
    covered, kept, total = set(), [], 0
    while len(kept) < max_files:
        fits = [f for f in files if f not in kept and total + size[f] <= max_bytes]
        best = max(fits, key=lambda f: (len(feats[f] - covered), -size[f]), default=None)
        if best is None or not feats[best] - covered:
            break
        kept.append(best)
        covered |= feats[best]
        total += size[best]
    share = 100 * len(covered) / max(len(every), 1)
    print(f"{target}: {len(files)} files cover {len(every)} edges; "
          f"keeps {len(kept)} files, {total} bytes, {len(covered)} edges ({share:.1f}%)")
    if "--apply" in sys.argv:
        for f in files:
            if f not in kept and not f.startswith("seed-"):
                os.remove(os.path.join(corpus, f))


if __name__ == "__main__":
    main()
