//! Tick placement and labelling for linear and logarithmic axes.

/// One labelled tick.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tick {
    pub value: f64,
    /// Rich-text label (may contain `^{…}`).
    pub label: String,
}

/// A candidate set of ticks for an axis.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct TickSet {
    pub major: Vec<Tick>,
    pub minor: Vec<f64>,
    /// Common factor of the labels, e.g. `"×10^{−5}"` (shown with the axis label).
    pub multiplier: Option<String>,
}

const MAX_TICKS: f64 = 40.0;

/// Candidate tick sets for `[lo, hi]`, ordered from densest to sparsest. Every set has at
/// least two labelled ticks unless the range is degenerate, in which case a single set with the
/// end points is returned.
pub(crate) fn candidates(lo: f64, hi: f64, log: bool) -> Vec<TickSet> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![fallback(lo, hi)];
    }
    let sets = if log && lo > 0.0 {
        log_candidates(lo, hi)
    } else {
        linear_candidates(lo, hi, false)
    };
    if sets.is_empty() {
        vec![fallback(lo, hi)]
    } else {
        sets
    }
}

fn fallback(lo: f64, hi: f64) -> TickSet {
    let mut major = Vec::new();
    for v in [lo, hi] {
        if v.is_finite() && major.iter().all(|t: &Tick| t.value != v) {
            major.push(Tick {
                value: v,
                label: format_plain(v),
            });
        }
    }
    TickSet {
        major,
        minor: Vec::new(),
        multiplier: None,
    }
}

fn linear_candidates(lo: f64, hi: f64, positive_only: bool) -> Vec<TickSet> {
    let span = hi - lo;
    if !span.is_finite() || span <= 0.0 {
        return Vec::new();
    }
    let e0 = (span / 25.0).log10().floor() as i32;
    let mut out = Vec::new();
    for e in e0..e0 + 4 {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * 10f64.powi(e);
            if !(step.is_finite() && step > 0.0) {
                continue;
            }
            let k0 = (lo / step - 1e-9).ceil();
            let k1 = (hi / step + 1e-9).floor();
            if !(k0.is_finite() && k1.is_finite()) || k1 - k0 > MAX_TICKS {
                continue;
            }
            let mut values: Vec<f64> = Vec::new();
            let mut k = k0;
            while k <= k1 {
                let v = k * step;
                let v = if v == 0.0 { 0.0 } else { v }; // no -0
                if !positive_only || v > 0.0 {
                    values.push(v);
                }
                k += 1.0;
            }
            if values.len() < 2 {
                continue;
            }
            let (labels, multiplier) = format_linear(&values, step);
            // minor ticks: a finer subdivision of the step
            let sub = if m == 2.5 || m == 5.0 { 5.0 } else { 4.0 };
            let minor_step = step / sub;
            let mut minor = Vec::new();
            let j0 = (lo / minor_step - 1e-9).ceil();
            let j1 = (hi / minor_step + 1e-9).floor();
            if j1 - j0 <= 4.0 * MAX_TICKS {
                let mut j = j0;
                while j <= j1 {
                    let v = j * minor_step;
                    if (!positive_only || v > 0.0)
                        && values.iter().all(|&t| (t - v).abs() > 1e-9 * step)
                    {
                        minor.push(v);
                    }
                    j += 1.0;
                }
            }
            out.push(TickSet {
                major: values
                    .into_iter()
                    .zip(labels)
                    .map(|(value, label)| Tick { value, label })
                    .collect(),
                minor,
                multiplier,
            });
        }
    }
    out
}

fn log_candidates(lo: f64, hi: f64) -> Vec<TickSet> {
    let a = lo.log10();
    let b = hi.log10();
    let span = b - a;
    let kmin = (a - 1e-9).ceil() as i64;
    let kmax = (b + 1e-9).floor() as i64;
    let in_range = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let mut out = Vec::new();
    let k_lo = a.floor() as i64;
    let k_hi = b.ceil() as i64;

    // Sets made of multiples m·10^k (dense, for short spans).
    let mult_sets: [(&[u8], f64); 2] = [(&[1, 2, 3, 4, 5, 6, 7, 8, 9], 1.3), (&[1, 2, 5], 3.5)];
    for (mults, max_span) in mult_sets {
        if span > max_span {
            continue;
        }
        let mut major = Vec::new();
        let mut minor = Vec::new();
        for k in k_lo..=k_hi {
            for m in 1..=9u8 {
                let v = f64::from(m) * 10f64.powi(k as i32);
                if !in_range(v) {
                    continue;
                }
                if mults.contains(&m) {
                    major.push(v);
                } else {
                    minor.push(v);
                }
            }
        }
        if major.len() >= 2 {
            let labels = format_log(&major);
            out.push(TickSet {
                major: major
                    .into_iter()
                    .zip(labels)
                    .map(|(value, label)| Tick { value, label })
                    .collect(),
                minor,
                multiplier: None,
            });
        }
    }

    // Powers of ten, every `ds` decades.
    if kmax > kmin {
        for ds in [1i64, 2, 3, 4, 5, 10, 20, 25, 50, 100, 200, 500, 1000] {
            let major: Vec<f64> = (kmin..=kmax)
                .filter(|k| k.rem_euclid(ds) == 0)
                .map(|k| 10f64.powi(k as i32))
                .filter(|v| v.is_finite() && *v > 0.0)
                .collect();
            if major.len() < 2 {
                break;
            }
            if major.len() as f64 > MAX_TICKS {
                continue;
            }
            let mut minor = Vec::new();
            if ds == 1 && span <= 30.0 {
                for k in k_lo..=k_hi {
                    for m in 2..=9 {
                        let v = f64::from(m) * 10f64.powi(k as i32);
                        if in_range(v) {
                            minor.push(v);
                        }
                    }
                }
            } else if span <= 200.0 {
                for k in kmin..=kmax {
                    if k.rem_euclid(ds) != 0 {
                        minor.push(10f64.powi(k as i32));
                    }
                }
            }
            let labels = format_log(&major);
            out.push(TickSet {
                major: major
                    .into_iter()
                    .zip(labels)
                    .map(|(value, label)| Tick { value, label })
                    .collect(),
                minor,
                multiplier: None,
            });
        }
    }

    if out.is_empty() {
        // less than a decade without two "nice" multiples: linear ticks on the log axis
        out = linear_candidates(lo, hi, true);
    }
    out
}

/// Labels for values that are all of the form m·10^k.
fn format_log(values: &[f64]) -> Vec<String> {
    let plain = values
        .iter()
        .all(|&v| (1e-3 * 0.999..=1e4 * 1.001).contains(&v));
    values
        .iter()
        .map(|&v| {
            if plain {
                format_plain(v)
            } else {
                let k = v.log10().floor();
                let m = (v / 10f64.powf(k)).round();
                // guard against m = 10 from rounding
                let (m, k) = if m >= 10.0 { (1.0, k + 1.0) } else { (m, k) };
                let exp = minus(&format!("{}", k as i64));
                if m == 1.0 {
                    format!("10^{{{exp}}}")
                } else {
                    format!("{}×10^{{{exp}}}", m as i64)
                }
            }
        })
        .collect()
}

/// Number of decimals needed to write multiples of `step` exactly (at most 12).
fn decimals_for(step: f64) -> usize {
    for d in 0..=12usize {
        let x = step * 10f64.powi(d as i32);
        if (x - x.round()).abs() <= 1e-6 * x.abs().max(1e-300) {
            return d;
        }
    }
    12
}

/// Labels for equally spaced values with spacing `step`, plus a common multiplier (such as
/// `"×10^{6}"`) when the values are very large or need many decimals.
pub(crate) fn format_linear(values: &[f64], step: f64) -> (Vec<String>, Option<String>) {
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let d = decimals_for(step);
    let (scale, d, multiplier) = if max_abs >= 1e5 || d > 4 {
        let e = if max_abs > 0.0 {
            max_abs.log10().floor()
        } else {
            0.0
        };
        let scale = 10f64.powf(e);
        let dm = decimals_for(step / scale).min(8);
        if e == 0.0 {
            (1.0, d.min(8), None)
        } else {
            let exp = minus(&format!("{}", e as i64));
            (scale, dm, Some(format!("×10^{{{exp}}}")))
        }
    } else {
        (1.0, d, None)
    };
    let labels = values
        .iter()
        .map(|&v| {
            let s = format!("{:.*}", d, v / scale);
            let s = if s
                .trim_start_matches('-')
                .chars()
                .all(|c| c == '0' || c == '.')
            {
                s.trim_start_matches('-').to_string()
            } else {
                s
            };
            minus(&s)
        })
        .collect();
    (labels, multiplier)
}

/// A compact label for a single value (at most 4 significant digits, no trailing zeros).
pub(crate) fn format_plain(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-4..1e6).contains(&a) {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        let ms = trim_zeros(&format!("{m:.3}"));
        return minus(&format!("{ms}×10^{{{}}}", e as i64));
    }
    let mag = a.log10().floor() as i32;
    let d = (3 - mag).clamp(0, 8) as usize;
    minus(&trim_zeros(&format!("{v:.d$}")))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Typographic minus sign.
fn minus(s: &str) -> String {
    s.replace('-', "−")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &TickSet) -> Vec<String> {
        t.major.iter().map(|t| t.label.clone()).collect()
    }

    #[test]
    fn linear_nice() {
        let c = candidates(0.0, 15.0, false);
        assert!(c.iter().any(|t| labels(t) == ["0", "5", "10", "15"]));
        assert!(
            c.iter()
                .any(|t| labels(t) == ["0", "2", "4", "6", "8", "10", "12", "14"])
        );
        let c = candidates(-1.0, 1.0, false);
        assert!(
            c.iter()
                .any(|t| labels(t) == ["−1.0", "−0.5", "0.0", "0.5", "1.0"])
        );
        for set in &c {
            assert!(set.major.len() >= 2);
        }
        let c = candidates(0.0, 2e6, false);
        assert!(
            c.iter()
                .any(|t| labels(t) == ["0.0", "0.5", "1.0", "1.5", "2.0"]
                    && t.multiplier.as_deref() == Some("×10^{6}"))
        );
        let c = candidates(-3e-5, 3e-5, false);
        assert!(
            c.iter()
                .any(|t| labels(t) == ["−2", "0", "2"]
                    && t.multiplier.as_deref() == Some("×10^{−5}"))
        );
        let c = candidates(1.00001, 1.00005, false);
        assert!(c.iter().all(|t| t.multiplier.is_none()));
    }

    #[test]
    fn log_decades() {
        let c = candidates(1e-3, 1e3, true);
        assert!(
            c.iter()
                .any(|t| labels(t) == ["0.001", "0.01", "0.1", "1", "10", "100", "1000"])
        );
        let c = candidates(1e-12, 1e2, true);
        assert!(
            c.iter()
                .any(|t| labels(t).first() == Some(&"10^{−12}".to_string()))
        );
        // short span: 1-2-5 or all multiples
        let c = candidates(2.0, 30.0, true);
        assert!(c.iter().any(|t| labels(t) == ["2", "5", "10", "20"]));
        // tiny span inside a decade
        let c = candidates(4.1, 4.9, true);
        assert!(!c.is_empty() && c[0].major.len() >= 2);
        // sparse sets for huge spans exist and are small
        let c = candidates(1e-300, 1e300, true);
        assert!(c.iter().any(|t| t.major.len() <= 7));
    }

    #[test]
    fn degenerate() {
        assert_eq!(candidates(1.0, 1.0, false).len(), 1);
        assert_eq!(candidates(f64::NAN, 1.0, false).len(), 1);
        let c = candidates(0.0, 1e-320, false);
        assert!(!c.is_empty());
        let c = candidates(-1e308, 1e308, false);
        assert!(!c.is_empty());
    }

    #[test]
    fn plain() {
        assert_eq!(format_plain(0.5), "0.5");
        assert_eq!(format_plain(-2.0), "−2");
        assert_eq!(format_plain(12.5), "12.5");
        assert_eq!(format_plain(1234.0), "1234");
        assert_eq!(format_plain(0.00123), "0.00123");
        assert_eq!(format_plain(1.5e-7), "1.5×10^{−7}");
    }
}
