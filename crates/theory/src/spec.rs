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
