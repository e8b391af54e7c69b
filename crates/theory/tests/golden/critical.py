#!/usr/bin/env python3
"""Golden critical initialisations computed outside noisyprop's code: mpmath
(arbitrary precision, 30 digits, its own tanh-sinh quadrature) with the
activations written out here. Output: critical.csv beside this file, read by
crates/theory/tests/golden.rs.

For activation phi, noise second moment A = mu2 (dropout keep p: 1/p), no
additive noise and bias variance sb2, the variance map is
    V(q) = sw2 * A * E[phi(sqrt(q) z)^2] + sb2,    z ~ N(0, 1),
chi1(q) = sw2 * A * E[phi'(sqrt(q) z)^2], and its slope V'(q) = sw2 * A * E[phi'^2 + phi phi''].
A critical initialisation is an sw2 with chi1(q*) = 1 at a fixed point q* = V(q*)
that is stable (V'(q*) < 1):
  * "stable": such a q* > 0, found by scanning q, sw2(q) = (q - sb2)/(A E[phi^2]),
    for sign changes of chi1 - 1 and refining with bisection (the first stable root);
  * "zero": without bias and with phi(0) = 0, q* = 0 with chi1(0) = 1, i.e.
    sw2 = 1/(A (phi'(0+)^2 + phi'(0-)^2)/2), kept only if the map approaches 0 from
    above: V(q) < q for small q > 0 (checked at q = 1e-6 ... 1e-2);
  * "none" otherwise.
Run: python3 critical.py  (needs mpmath; about a minute)
"""
import csv, os
from mpmath import mp, mpf, quad, sqrt, exp, erf, tanh, log, pi, inf, findroot

mp.dps = 30
LAM = mpf("1.0507009873554804934193349852946")
ALP = mpf("1.6732632423543772848170429916717")
SQ2PI = sqrt(2 * pi)

def Phi(x): return (1 + erf(x / sqrt(2))) / 2
def pdf(x): return exp(-x * x / 2) / SQ2PI
def sig(x): return 1 / (1 + exp(-x))

# (phi, phi', phi'') as functions of x; each side of a kink separately.
ACT = {
    "tanh": lambda x: (tanh(x), 1 - tanh(x) ** 2, -2 * tanh(x) * (1 - tanh(x) ** 2)),
    "erf": lambda x: (erf(x), 2 / sqrt(pi) * exp(-x * x), -4 * x / sqrt(pi) * exp(-x * x)),
    "gelu": lambda x: (x * Phi(x), Phi(x) + x * pdf(x), pdf(x) * (2 - x * x)),
    "silu": lambda x: (x * sig(x), sig(x) * (1 + x * (1 - sig(x))),
                       sig(x) * (1 - sig(x)) * (2 + x * (1 - 2 * sig(x)))),
    "softplus": lambda x: (log(1 + exp(x)), sig(x), sig(x) * (1 - sig(x))),
    "elu": lambda x: (x, mpf(1), mpf(0)) if x > 0 else (exp(x) - 1, exp(x), exp(x)),
    "selu": lambda x: (LAM * x, LAM, mpf(0)) if x > 0 else
                      (LAM * ALP * (exp(x) - 1), LAM * ALP * exp(x), LAM * ALP * exp(x)),
}
SLOPES0 = {  # (phi'(0+), phi'(0-)), phi(0)
    "tanh": (1, 1, 0), "erf": (2 / sqrt(pi), 2 / sqrt(pi), 0), "gelu": (0.5, 0.5, 0),
    "silu": (0.5, 0.5, 0), "softplus": (0.5, 0.5, log(2)), "elu": (1, 1, 0),
    "selu": (LAM, LAM * ALP, 0),
}

def expect(f, q):
    s = sqrt(q)
    g = lambda z: f(s * z) * pdf(z)
    return quad(g, [-inf, -8, -2, 0, 2, 8, inf])

def moments(act, q):
    a = ACT[act]
    m2 = expect(lambda x: a(x)[0] ** 2, q)
    d2 = expect(lambda x: a(x)[1] ** 2, q)
    slope_int = expect(lambda x: a(x)[1] ** 2 + a(x)[0] * a(x)[2], q)
    return m2, d2, slope_int

def critical(act, A, sb2):
    def at(q):
        m2, d2, s = moments(act, q)
        sw2 = (q - sb2) / (A * m2)
        return sw2, sw2 * A * d2 - 1, sw2 * A * s
    qs = [mpf(10) ** (k / mpf(8)) for k in range(-48, 49)]  # 1e-6 .. 1e6
    qs = [q for q in qs if q > sb2 * (1 + mpf("1e-9"))]
    prev = None
    for q in qs:
        sw2, h, slope = at(q)
        if prev is not None and (prev[1] <= 0) != (h <= 0) and abs(h) + abs(prev[1]) > 1e-20:
            root = findroot(lambda t: at(t)[1], (prev[0], q), solver="bisect", tol=mpf(10) ** -25)
            sw2, _, slope = at(root)
            if sw2 > 0 and slope < 1:
                return "stable", sw2, root
        prev = (q, h)
    sp, sm, phi0 = SLOPES0[act]
    if sb2 == 0 and phi0 == 0:
        sw2 = 1 / (A * (mpf(sp) ** 2 + mpf(sm) ** 2) / 2)
        if all(sw2 * A * moments(act, mpf(q))[0] < mpf(q) for q in ("1e-6", "1e-4", "1e-2", "1")):
            return "zero", sw2, mpf(0)
    return "none", None, None

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "critical.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["activation", "keep", "sigma_b2", "kind", "sigma_w2", "q_star"])
    for act in ACT:
        for keep in ("1", "0.8"):
            for sb2 in ("0", "0.05"):
                kind, sw2, q = critical(act, 1 / mpf(keep), mpf(sb2))
                fmt = lambda v: "" if v is None else mp.nstr(v, 15)
                row = [act, keep, sb2, kind, fmt(sw2), fmt(q)]
                print(",".join(row), flush=True)
                w.writerow(row)
