//! Scalar root finding: Brent's method and a bracketed (safeguarded) Newton.

/// Brent's method (inverse quadratic interpolation, secant and bisection;
/// the scipy `brentq` variant) on a bracket with `f(a)`·`f(b)` ≤ 0.
/// Returns `None` when the bracket does not change sign.
pub fn brent(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    xtol: f64,
    rtol: f64,
    max_iter: usize,
) -> Option<f64> {
    let (mut xpre, mut xcur) = (a, b);
    let (mut fpre, mut fcur) = (f(xpre), f(xcur));
    if fpre.is_nan() || fcur.is_nan() || fpre * fcur > 0.0 {
        return None;
    }
    if fpre == 0.0 {
        return Some(xpre);
    }
    if fcur == 0.0 {
        return Some(xcur);
    }
    let (mut xblk, mut fblk, mut spre, mut scur) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..max_iter {
        if fpre != 0.0 && fcur != 0.0 && (fpre < 0.0) != (fcur < 0.0) {
            xblk = xpre;
            fblk = fpre;
            spre = xcur - xpre;
            scur = spre;
        }
        if fblk.abs() < fcur.abs() {
            xpre = xcur;
            xcur = xblk;
            xblk = xpre;
            fpre = fcur;
            fcur = fblk;
            fblk = fpre;
        }
        let delta = 0.5 * (xtol + rtol * xcur.abs());
        let sbis = 0.5 * (xblk - xcur);
        if fcur == 0.0 || sbis.abs() < delta {
            return Some(xcur);
        }
        if spre.abs() > delta && fcur.abs() < fpre.abs() {
            let stry = if xpre == xblk {
                -fcur * (xcur - xpre) / (fcur - fpre)
            } else {
                let dpre = (fpre - fcur) / (xpre - xcur);
                let dblk = (fblk - fcur) / (xblk - xcur);
                -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            };
            if 2.0 * stry.abs() < spre.abs().min(3.0 * sbis.abs() - delta) {
                spre = scur;
                scur = stry;
            } else {
                spre = sbis;
                scur = sbis;
            }
        } else {
            spre = sbis;
            scur = sbis;
        }
        xpre = xcur;
        fpre = fcur;
        xcur += if scur.abs() > delta {
            scur
        } else if sbis > 0.0 {
            delta
        } else {
            -delta
        };
        fcur = f(xcur);
        if fcur.is_nan() {
            return None;
        }
    }
    Some(xcur)
}

/// Newton's method kept inside the bracket [lo, hi] (bisection whenever a
/// step leaves it). `f` returns (g(x), g′(x)); `g_lo_positive` tells the sign
/// of g at `lo`. Starts from `x0` and stops when a step is below
/// `xtol`·(1 + |x|) or after `max_iter` steps.
pub fn newton_bracketed(
    mut f: impl FnMut(f64) -> (f64, f64),
    mut lo: f64,
    mut hi: f64,
    g_lo_positive: bool,
    x0: f64,
    xtol: f64,
    max_iter: usize,
) -> f64 {
    let mut x = x0.clamp(lo, hi);
    for _ in 0..max_iter {
        let (g, dg) = f(x);
        if g == 0.0 {
            return x;
        }
        if (g > 0.0) == g_lo_positive {
            lo = x;
        } else {
            hi = x;
        }
        let mut next = x - g / dg;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= xtol * (1.0 + x.abs()) || hi - lo <= xtol * (1.0 + x.abs()) {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brent_finds_roots() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, 1e-15, 4.0 * f64::EPSILON, 100).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-14);
        let r = brent(|x| x.cos() - x, 0.0, 1.0, 1e-15, 4.0 * f64::EPSILON, 100).unwrap();
        assert!((r.cos() - r).abs() < 1e-15);
        assert!(brent(|x| x * x + 1.0, -1.0, 1.0, 1e-12, 1e-12, 100).is_none());
    }

    #[test]
    fn newton_stays_in_bracket() {
        // atan has Newton steps that overshoot from far away.
        let r = newton_bracketed(
            |x| (x.atan() - 0.3, 1.0 / (1.0 + x * x)),
            -50.0,
            50.0,
            false,
            40.0,
            1e-15,
            200,
        );
        assert!((r - 0.3f64.tan()).abs() < 1e-13);
    }
}
