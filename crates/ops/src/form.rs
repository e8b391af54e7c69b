//! How requests read values that callers write in more than one form: a
//! noise as one spec or a list of specs, a sweep as `MIN:MAX:N` or as
//! `(min, max, n)`.

use serde::{Deserialize, Deserializer, Serialize};

/// A list of strings, given as one string, a list, or nothing (the empty
/// list).
///
/// # Errors
/// Neither a string nor a list of strings.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "expected a string or a list of strings")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// Numbers, given as one number or a list.
///
/// # Errors
/// Neither a number nor a list of numbers.
pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "expected a number or a list of numbers")]
    enum OneOrMany {
        One(f64),
        Many(Vec<f64>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(x) => vec![x],
        OneOrMany::Many(v) => v,
    })
}

/// A linear sweep of `n` values from `min` to `max`: `(min, max, n)` in a
/// request, `MIN:MAX:N` on a command line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Range(pub f64, pub f64, pub usize);

impl Range {
    /// The theory's sweep, with `log` spacing or not.
    pub fn sweep(self, log: bool) -> noisyprop_theory::Sweep {
        noisyprop_theory::Sweep {
            min: self.0,
            max: self.1,
            n: self.2,
            log,
        }
    }
}

impl From<noisyprop_theory::Sweep> for Range {
    fn from(s: noisyprop_theory::Sweep) -> Self {
        Range(s.min, s.max, s.n)
    }
}

impl std::fmt::Display for Range {
    /// `MIN:MAX:N`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.0, self.1, self.2)
    }
}

impl std::str::FromStr for Range {
    type Err = noisyprop_theory::TheoryError;
    /// `MIN:MAX:N`, e.g. `0.1:4:200`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<noisyprop_theory::Sweep>().map(Range::from)
    }
}

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "expected (min, max, n) or the text MIN:MAX:N")]
        enum Form {
            Triple(f64, f64, usize),
            Text(String),
        }
        match Form::deserialize(d)? {
            Form::Triple(a, b, n) => Ok(Range(a, b, n)),
            Form::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A number or nothing: `0.5`, or `none` (written so on a command line,
/// `None` in Python).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MaybeNumber(pub Option<f64>);

impl std::fmt::Display for MaybeNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(x) => write!(f, "{x}"),
            None => f.write_str("none"),
        }
    }
}

impl std::str::FromStr for MaybeNumber {
    type Err = String;
    /// A number, or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(MaybeNumber(None));
        }
        s.trim()
            .parse()
            .map(|x| MaybeNumber(Some(x)))
            .map_err(|_| format!("`{s}` is not a number or `none`"))
    }
}

impl<'de> Deserialize<'de> for MaybeNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "expected a number, None or `none`")]
        enum Form {
            Number(Option<f64>),
            Text(String),
        }
        match Form::deserialize(d)? {
            Form::Number(x) => Ok(MaybeNumber(x)),
            Form::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Several [`MaybeNumber`]s, given as one or a list.
///
/// # Errors
/// Neither a [`MaybeNumber`] nor a list of them.
pub fn maybe_numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<MaybeNumber>, D::Error> {
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "expected a number, None, `none` or a list of them"
    )]
    enum OneOrMany {
        Many(Vec<MaybeNumber>),
        One(MaybeNumber),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(x) => vec![x],
        OneOrMany::Many(v) => v,
    })
}

/// Text that may also be given as a number (`init = 1.5` for the σ_w²
/// `"1.5"`); nothing for `None`.
///
/// # Errors
/// Neither text nor a number.
pub fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "expected a string or a number")]
    enum Form {
        Text(String),
        Number(f64),
    }
    Ok(Option::<Form>::deserialize(d)?.map(|f| match f {
        Form::Text(t) => t,
        Form::Number(x) => x.to_string(),
    }))
}
