//! Parsing of the `KIND:PARAM=VALUE[,PARAM=VALUE]` strings used for noise laws
//! and activations.

use crate::error::TheoryError;

/// A parsed `KIND:PARAM=VALUE,...` string: the kind and its named parameters,
/// in the order given.
#[derive(Debug, Clone)]
pub(crate) struct Spec<'a> {
    pub text: &'a str,
    pub kind: String,
    pub params: Vec<(String, &'a str)>,
}

impl<'a> Spec<'a> {
    /// Splits `text` into kind and parameters. Kinds and parameter names are
    /// lower-cased and `_` is read as `-`.
    pub fn parse(what: &'static str, text: &'a str) -> Result<Self, TheoryError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(TheoryError::Malformed {
                what,
                text: text.to_string(),
                hint: "the spec is empty".into(),
            });
        }
        let (kind, rest) = match trimmed.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (trimmed, None),
        };
        let mut params = Vec::new();
        if let Some(rest) = rest {
            for part in rest.split(',') {
                let Some((name, value)) = part.split_once('=') else {
                    return Err(TheoryError::Malformed {
                        what,
                        text: text.to_string(),
                        hint: format!("parameter `{part}` should look like NAME=VALUE"),
                    });
                };
                params.push((normalise(name), value.trim()));
            }
        }
        Ok(Spec {
            text: trimmed,
            kind: normalise(kind),
            params,
        })
    }

    /// Reads the only parameter, which must be one of `names`; returns which
    /// name matched and its value.
    pub fn one_of(&self, names: &[&'static str]) -> Result<(&'static str, f64), TheoryError> {
        if self.params.len() != 1 {
            return Err(TheoryError::Malformed {
                what: "spec",
                text: self.text.to_string(),
                hint: format!(
                    "`{}` takes exactly one parameter: {}",
                    self.kind,
                    names
                        .iter()
                        .map(|n| format!("{}:{n}=VALUE", self.kind))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            });
        }
        let (name, value) = &self.params[0];
        let Some(matched) = names.iter().find(|n| **n == name.as_str()) else {
            return Err(TheoryError::Unknown {
                what: format!("parameter of `{}`", self.kind),
                name: name.clone(),
                valid: names.join(", "),
            });
        };
        Ok((matched, self.number(name, value)?))
    }

    /// Reads optional parameters from a fixed set; unknown names are errors.
    pub fn optional(&self, names: &[&'static str]) -> Result<Vec<Option<f64>>, TheoryError> {
        let mut out = vec![None; names.len()];
        for (name, value) in &self.params {
            let Some(i) = names.iter().position(|n| *n == name.as_str()) else {
                return Err(TheoryError::Unknown {
                    what: format!("parameter of `{}`", self.kind),
                    name: name.clone(),
                    valid: if names.is_empty() {
                        "none (this kind takes no parameters)".to_string()
                    } else {
                        names.join(", ")
                    },
                });
            };
            out[i] = Some(self.number(name, value)?);
        }
        Ok(out)
    }

    fn number(&self, name: &str, value: &str) -> Result<f64, TheoryError> {
        value.parse::<f64>().map_err(|_| TheoryError::NotANumber {
            context: self.text.to_string(),
            name: name.to_string(),
            text: value.to_string(),
        })
    }
}

fn normalise(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace('_', "-")
}

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
