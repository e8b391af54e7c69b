//! The one error type of the theory crate.

use thiserror::Error;

/// Everything that can go wrong when building or evaluating a theory object.
///
/// Variants name the offending parameter and carry its value, so a message can
/// be shown to a user as is.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum TheoryError {
    /// A numeric parameter is NaN, infinite or outside its valid range.
    #[error("{}", out_of_range(context, name, *value, valid))]
    InvalidParameter {
        /// Where the parameter appeared (a noise spec, an activation); empty
        /// for a parameter of the call itself (`sigma_w2` of a network).
        context: String,
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range in interval notation.
        valid: &'static str,
    },
    /// A parameter value could not be read as a number.
    #[error("`{context}`: {name} = `{text}` is not a number")]
    NotANumber {
        /// The spec the value came from.
        context: String,
        /// The parameter's name.
        name: String,
        /// What was given.
        text: String,
    },
    /// An unknown activation, noise kind or parameter name.
    #[error("unknown {what} `{name}`; valid: {valid}")]
    Unknown {
        /// What kind of name it was ("activation", "noise", "parameter of `dropout`").
        what: String,
        /// The name given.
        name: String,
        /// The valid names, comma separated.
        valid: String,
    },
    /// A spec string that does not follow the expected shape.
    #[error("malformed {what} `{text}`: {hint}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// The text given.
        text: String,
        /// How it should look.
        hint: String,
    },
    /// A critical initialisation was asked for where none exists.
    #[error("no critical σ_w² exists for {network} at σ_b² = {}: {reason}", crate::number::fmt_short(*sigma_b2))]
    NoCriticalPoint {
        /// Activation and noise, as text.
        network: String,
        /// σ_b² of the request.
        sigma_b2: f64,
        /// Machine-readable reason ([`crate::NoCriticalPoint::code`]).
        code: String,
        /// Why, in words.
        reason: String,
    },
    /// A grid was asked for with no points or an invalid range.
    #[error("invalid grid for {axis}: {reason}")]
    InvalidGrid {
        /// Which axis.
        axis: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The caller's progress callback asked the computation to stop.
    #[error("stopped before it finished (interrupted)")]
    Cancelled,
}

/// "`context`: name = value is out of range; valid range is …", without
/// the context when it is empty.
fn out_of_range(context: &str, name: &str, value: f64, valid: &str) -> String {
    let value = crate::number::fmt_num(value);
    if context.is_empty() {
        format!("{name} = {value} is out of range; valid range is {valid}")
    } else {
        format!("`{context}`: {name} = {value} is out of range; valid range is {valid}")
    }
}

/// Checks that `value` is finite and satisfies `ok`, else returns
/// [`TheoryError::InvalidParameter`].
pub(crate) fn check(
    context: &str,
    name: &'static str,
    value: f64,
    valid: &'static str,
    ok: impl Fn(f64) -> bool,
) -> Result<f64, TheoryError> {
    if value.is_finite() && ok(value) {
        Ok(value)
    } else {
        Err(TheoryError::InvalidParameter {
            context: context.to_string(),
            name,
            value,
            valid,
        })
    }
}
