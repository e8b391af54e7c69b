"""Cost of one `noisyprop.analyze` call from Python, against baselines
measured in the same run (these machines are noisy: quote the ratios).

    python python/bench/bench_api.py
"""

from __future__ import annotations

import math
import statistics
import timeit

import noisyprop
from noisyprop import _native


def per_call(fn, number: int = 20000, repeat: int = 7) -> float:
    """Median seconds per call over `repeat` runs of `number` calls."""
    return statistics.median(t / number for t in timeit.repeat(fn, number=number, repeat=repeat))


def python_baseline(activation="relu", noise="none", sigma_w2=None, sigma_b2=0.0, *, q0=1.0):
    """A pure-Python function doing a comparable amount of trivial work:
    the same arguments and a small dict result."""
    return {"activation": activation, "noise": noise, "sigma_w2": math.sqrt(2.0), "q0": q0}


def main() -> None:
    rows = [
        ("pure-Python baseline (same arguments, dict result)", lambda: python_baseline("relu")),
        ("noisyprop.analyze('relu')", lambda: noisyprop.analyze("relu")),
        ("noisyprop.analyze('relu', 'dropout:keep=0.8')", lambda: noisyprop.analyze("relu", "dropout:keep=0.8")),
        (
            "_native.analyze (no wrapper)",
            lambda: _native.analyze("relu", ["none"], None, 0.0, 1.0, 6.0, False, "legendre", None),
        ),
        ("noisyprop.gain('relu', 'Dropout(0.2)')", lambda: noisyprop.gain("relu", "Dropout(0.2)")),
        ("noisyprop.analyze('tanh', sigma_b2=0.05) (quadrature)", lambda: noisyprop.analyze("tanh", sigma_b2=0.05)),
    ]
    base = None
    for name, fn in rows:
        n = 20000 if "tanh" not in name else 200
        t = per_call(fn, number=n)
        base = base or t
        print(f"{t * 1e6:10.2f} µs  {t / base:7.1f}×  {name}")


if __name__ == "__main__":
    main()
