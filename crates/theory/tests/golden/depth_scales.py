#!/usr/bin/env python3
"""Golden depth scales of critical ReLU networks with multiplicative noise
(the rows of docs/paper-spec.md §2.10), computed outside noisyprop's code
with mpmath at 30 digits. Output: depth_scales.csv beside this file, read by
crates/theory/tests/golden.rs and by `noisyprop reproduce`.

At the critical sigma_w^2 = 2/mu2 the variance is preserved and the
correlation map of two inputs is (arc-cosine kernel of order 1, Cho & Saul
2009)
    f(c) = (sqrt(1 - c^2) + (pi - arccos c) c) / (pi mu2),
with slope f'(c) = (arcsin(c)/pi + 1/2) / mu2. c* is the root of f(c) = c in
[f(0), 1) (found with mpmath.findroot, bracketing solver); chi_c = f'(c*),
xi_c = -1/ln chi_c. The kernel itself is checked against a direct 2-D
Gaussian quadrature of E[relu(u) relu(v)] at one point before the table is
written. Run: python3 depth_scales.py (needs mpmath; a few seconds)
"""
import csv, os
from mpmath import mp, mpf, sqrt, acos, asin, pi, log, findroot, quad, exp, inf

mp.dps = 30

def f(c, mu2):
    return (sqrt(1 - c * c) + (pi - acos(c)) * c) / (pi * mu2)

def slope(c, mu2):
    return (asin(c) / pi + mpf(1) / 2) / mu2

def kernel_check():
    # E[relu(u) relu(v)], u, v standard normal with correlation c, by
    # quadrature over v = c u + sqrt(1 - c^2) w.
    c = mpf("0.37")
    s = sqrt(1 - c * c)
    g = lambda x: exp(-x * x / 2) / sqrt(2 * pi)
    inner = lambda u: quad(lambda w: max(c * u + s * w, 0) * g(w), [-inf, -c * u / s, inf])
    direct = quad(lambda u: u * inner(u) * g(u), [0, inf])
    closed = (sqrt(1 - c * c) + (pi - acos(c)) * c) / (2 * pi)
    assert abs(direct - closed) < mpf("1e-20"), (direct, closed)

ROWS = (
    [("dropout", "keep", p, 1 / mpf(p)) for p in
     ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.99"]]
    + [("gauss-mult", "std", s, 1 + mpf(s) ** 2) for s in
       ["0.1", "0.25", "0.4", "0.55", "0.7", "0.85", "1", "1.15", "1.3", "1.45", "1.6",
        "1.75", "1.9", "2"]]
    + [("laplace-mult", "scale", "0.5", 1 + 2 * mpf("0.5") ** 2),
       ("poisson", "rate", "1", mpf(2))]
)

def main():
    kernel_check()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "depth_scales.csv")
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["noise", "mu2", "sigma_w2", "c_star", "chi_c", "xi_c"])
        for kind, param, value, mu2 in ROWS:
            lo = f(mpf(0), mu2)
            c = findroot(lambda x: f(x, mu2) - x, (lo, mpf(1) - mpf("1e-25")), solver="anderson")
            chi = slope(c, mu2)
            xi = -1 / log(chi)
            w.writerow([f"{kind}:{param}={value}"] + [mp.nstr(v, 20) for v in (mu2, 2 / mu2, c, chi, xi)])
    print("wrote", out)

if __name__ == "__main__":
    main()
