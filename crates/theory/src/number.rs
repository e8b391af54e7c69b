//! How numbers are written: canonical spec strings ([`fmt_num`],
//! [`canonical`]), tables for people ([`fmt_short`]) and extrapolated layer
//! counts ([`fmt_layer`]). Depends on nothing else in the crate, so that both
//! the error messages and the spec parser can use it.

/// Formats a float compactly for canonical spec strings: the shortest
/// representation, rounded to 12 significant digits so that `1 − 0.3` reads
/// `0.7` (`0.6`, `1e-5`, `0.111111111111`).
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let rounded: f64 = format!("{x:.11e}").parse().unwrap_or(x);
    let s = format!("{rounded}");
    if s.len() > 14 {
        format!("{rounded:e}")
    } else {
        s
    }
}

/// Formats a float for people: 6 significant digits, trailing zeros trimmed,
/// exponent notation outside 1e-4 … 1e9, and ∞ / NaN spelled out (`1.2`,
/// `0.283911`, `3.2e38`, `∞`). Every table the tools print uses it.
pub fn fmt_short(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..=8).contains(&mag) {
        let s = format!("{x:.5e}");
        return match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
            None => s,
        };
    }
    let decimals = (5 - mag).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}"))
}

/// Formats a layer count extrapolated from a real-valued depth `l` (e.g.
/// where the variance leaves a float range): the first whole layer past it
/// (`218.8` → `219`), and past 10⁹ layers `"never in practice (≈1.7e38)"`.
pub fn fmt_layer(l: f64) -> String {
    if l.is_finite() && l <= 1e9 {
        format!("{}", l.ceil().max(0.0) as u64)
    } else {
        format!("never in practice (≈{})", fmt_short(l))
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `x` rounded to the 12 significant digits of its canonical spec string
/// (`0.30000000000000004` → `0.3`): one value per number a user would write.
pub fn canonical(x: f64) -> f64 {
    fmt_num(x).parse().unwrap_or(x)
}
