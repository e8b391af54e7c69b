/*!
The one error of the operations layer, and how a front-end spells it.

An error names the request's parameter (`sigma_w2`), never a flag: each
front-end renders the name in its own [`Spelling`] (`--sigma-w2` in the CLI,
`sigma_w2=` in Python). Hints come from one table, [`Hint`], rendered the
same way, so a Python user never reads a CLI flag and the CLI never prints a
keyword argument.
*/

use std::fmt;

use noisyprop_experiments::ExperimentError;
use noisyprop_sim::SimError;
use noisyprop_theory::TheoryError;

/// How a front-end writes a parameter of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `--sigma-w2`, `--sigma-w2 -1`, `--noise A --noise B`.
    Cli,
    /// `sigma_w2`, `sigma_w2=-1`, `noise=[A, B]`.
    Python,
}

impl Spelling {
    /// The parameter's name: `--sigma-w2` or `sigma_w2`.
    pub fn param(self, name: &str) -> String {
        match self {
            Spelling::Cli => format!("--{}", name.replace('_', "-")),
            Spelling::Python => name.to_string(),
        }
    }

    /// The parameter set to a value: `--sigma-w2 -1` or `sigma_w2=-1`.
    pub fn assign(self, name: &str, value: &str) -> String {
        match self {
            Spelling::Cli => format!("{} {value}", self.param(name)),
            Spelling::Python => format!("{name}={value}"),
        }
    }

    /// The parameter given several values: `--noise A --noise B` or
    /// `noise=[A, B]`.
    pub fn list(self, name: &str, values: &[&str]) -> String {
        match self {
            Spelling::Cli => values
                .iter()
                .map(|v| self.assign(name, v))
                .collect::<Vec<_>>()
                .join(" "),
            Spelling::Python => format!("{name}=[{}]", values.join(", ")),
        }
    }

    /// A switch turned on: `--log-y` or `log_y=True`.
    pub fn switch(self, name: &str) -> String {
        match self {
            Spelling::Cli => self.param(name),
            Spelling::Python => format!("{name}=True"),
        }
    }

    /// One of a parameter's named values: `sigma-b2` or `'sigma_b2'`.
    pub fn choice(self, value: &str) -> String {
        match self {
            Spelling::Cli => value.replace('_', "-"),
            Spelling::Python => format!("'{value}'"),
        }
    }

    /// A command: `noisyprop analyze` or `noisyprop.analyze()`.
    pub fn command(self, name: &str) -> String {
        match self {
            Spelling::Cli => format!("noisyprop {}", name.replace('_', "-")),
            Spelling::Python => format!("noisyprop.{}()", name.replace('-', "_")),
        }
    }
}

/// What to try instead, after an error: the one table of hints, each
/// rendered in the front-end's [`Spelling`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// A noise written with `;` or `,` where a stack was meant.
    StackNoises,
    /// Noises of the critical table are separated by `;`.
    SeparateTableNoises,
    /// No critical σ_w²: give one.
    GiveSigmaW2,
    /// `init` writes code for a critical σ_w² only.
    InitIsCritical,
    /// A μ₂ sweep would replace the multiplicative noise.
    PhaseMu2Axis,
    /// A σ_b² sweep would replace the given σ_b².
    PhaseSigmaB2Axis,
    /// A stored grid cell is corrupt.
    RecomputeCorrupt,
    /// A GPU precision without the GPU.
    PrecisionNeedsCuda,
    /// Slurm scripts without the Slurm executor.
    DryRunNeedsSlurm,
}

impl Hint {
    /// The hint's text.
    pub fn render(self, s: Spelling) -> String {
        match self {
            Hint::StackNoises => format!(
                "to stack noises, give them one by one: {}",
                s.list("noise", &["A", "B"])
            ),
            Hint::SeparateTableNoises => match s {
                Spelling::Cli => {
                    "noises are separated by `;`; a stack inside one is written `A, then B`".into()
                }
                Spelling::Python => {
                    "noises is a list of noises; a stack inside one is written `A, then B`".into()
                }
            },
            Hint::GiveSigmaW2 => format!("give {}", s.param("sigma_w2")),
            Hint::InitIsCritical => format!(
                "`{}` writes code for a critical σ_w² only; `{}` describes any given σ_w²",
                s.command("init"),
                match s {
                    Spelling::Cli => "noisyprop analyze --sigma-w2 X".to_string(),
                    Spelling::Python => "noisyprop.analyze(sigma_w2=X)".to_string(),
                }
            ),
            Hint::PhaseMu2Axis => format!(
                "{} (the default) sweeps μ₂; {} keeps the noise",
                s.assign("y", &s.choice("mu2")),
                s.assign("y", &s.choice("sigma_b2"))
            ),
            Hint::PhaseSigmaB2Axis => format!(
                "{} sweeps σ_b²: drop {} and set {}",
                s.assign("y", &s.choice("sigma_b2")),
                s.param("sigma_b2"),
                s.param("y_range")
            ),
            Hint::RecomputeCorrupt => format!(
                "rerun with {} to compute it again (the file is replaced)",
                s.switch("recompute_corrupt")
            ),
            Hint::DryRunNeedsSlurm => format!("add {}", s.assign("executor", &s.choice("slurm"))),
            Hint::PrecisionNeedsCuda => format!(
                "with {}, or without {}",
                s.assign("device", &s.choice("cuda")),
                s.param("precision")
            ),
        }
    }
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A request parameter's value is outside its valid range.
    OutOfRange {
        /// The parameter (the request's field name).
        param: String,
        /// The value given, as text.
        value: String,
        /// The valid range (interval notation) or values.
        valid: String,
    },
    /// A request parameter could not be read (wrong type, malformed text).
    Invalid {
        /// The parameter.
        param: String,
        /// Why, in words.
        reason: String,
    },
    /// The theory refused.
    Theory(TheoryError),
    /// The simulator refused.
    Sim(SimError),
    /// An experiment failed.
    Experiment(ExperimentError),
    /// The caller asked to stop (Ctrl-C).
    Cancelled,
    /// A library's message about one of its own names.
    Library(String),
}

/// An error of an operation: what went wrong and, maybe, a [`Hint`].
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    hint: Option<Hint>,
}

impl Error {
    /// A parameter out of range.
    pub fn out_of_range(
        param: impl Into<String>,
        value: impl fmt::Display,
        valid: impl Into<String>,
    ) -> Self {
        ErrorKind::OutOfRange {
            param: param.into(),
            value: value.to_string(),
            valid: valid.into(),
        }
        .into()
    }

    /// A parameter that could not be read.
    pub fn invalid(param: impl Into<String>, reason: impl Into<String>) -> Self {
        ErrorKind::Invalid {
            param: param.into(),
            reason: reason.into(),
        }
        .into()
    }

    /// The same error with a hint.
    pub fn with_hint(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<Hint> {
        self.hint
    }

    /// The same error about a name that is not a request parameter: worded
    /// as the library words it (`keep = 1.5 is out of range`), with no
    /// front-end spelling.
    pub(crate) fn unnamed(self) -> Self {
        let kind = match self.kind {
            ErrorKind::OutOfRange {
                param,
                value,
                valid,
            } => ErrorKind::Library(format!(
                "{param} = {value} is out of range; valid range is {valid}"
            )),
            ErrorKind::Invalid { param, reason } => {
                ErrorKind::Library(format!("{param}: {reason}"))
            }
            other => other,
        };
        Error {
            kind,
            hint: self.hint,
        }
    }

    /// The same error said to be about the request's parameter `param`
    /// where the library's message names only a parameter of the spec
    /// given for it (`` `dropout:keep=2`: keep = 2 is out of range``, a
    /// number that is not one): a front-end then names `param` too
    /// (`noise: …`, `--noise: …`). Messages that name what they read
    /// (`unknown activation …`, `malformed noise …`) stay as they are.
    pub(crate) fn about(self, param: &str) -> Self {
        match self.kind {
            ErrorKind::Theory(
                e @ (TheoryError::InvalidParameter { .. } | TheoryError::NotANumber { .. }),
            ) => Error {
                kind: ErrorKind::Invalid {
                    param: param.to_string(),
                    reason: e.to_string(),
                },
                hint: self.hint,
            },
            _ => self,
        }
    }

    /// The same error about the request's parameter `field`.
    pub(crate) fn renamed(mut self, field: &str) -> Self {
        if let ErrorKind::OutOfRange { param, .. } | ErrorKind::Invalid { param, .. } =
            &mut self.kind
        {
            *param = field.to_string();
        }
        self
    }

    /// Whether the caller stopped the operation.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, ErrorKind::Cancelled)
    }

    /// The parameter the error is about, if it is about one.
    pub fn param(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::OutOfRange { param, .. } | ErrorKind::Invalid { param, .. } => Some(param),
            _ => None,
        }
    }

    /// The message as a front-end prints it: parameters in its spelling,
    /// then the hint after a blank line.
    pub fn render(&self, s: Spelling) -> String {
        let main = match &self.kind {
            ErrorKind::OutOfRange {
                param,
                value,
                valid,
            } => format!(
                "{} is out of range; valid range is {valid}",
                s.assign(param, value)
            ),
            ErrorKind::Invalid { param, reason } => format!("{}: {reason}", s.param(param)),
            ErrorKind::Theory(e) => e.to_string(),
            ErrorKind::Sim(e) => e.to_string(),
            ErrorKind::Experiment(e) => e.to_string(),
            ErrorKind::Cancelled => "stopped before it finished (interrupted)".into(),
            ErrorKind::Library(m) => m.clone(),
        };
        match self.hint {
            Some(h) => format!("{main}\n\nhint: {}", h.render(s)),
            None => main,
        }
    }
}

impl fmt::Display for Error {
    /// In Python's spelling (parameter names as in the requests).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Spelling::Python))
    }
}

impl std::error::Error for Error {}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error { kind, hint: None }
    }
}

/// A library's "parameter out of range" about a top-level parameter becomes
/// the request's own (so the front-end spells its name); any other stays the
/// library's message.
impl From<TheoryError> for Error {
    fn from(e: TheoryError) -> Self {
        match e {
            TheoryError::InvalidParameter {
                context,
                name,
                value,
                valid,
            } if context.is_empty() => {
                Error::out_of_range(name, noisyprop_theory::fmt_num(value), valid)
            }
            TheoryError::Cancelled => ErrorKind::Cancelled.into(),
            e => ErrorKind::Theory(e).into(),
        }
    }
}

impl From<SimError> for Error {
    fn from(e: SimError) -> Self {
        match e {
            SimError::InvalidParameter { name, value, valid } => {
                Error::out_of_range(name, noisyprop_theory::fmt_num(value), valid)
            }
            SimError::Cancelled => ErrorKind::Cancelled.into(),
            e => ErrorKind::Sim(e).into(),
        }
    }
}

impl From<ExperimentError> for Error {
    fn from(e: ExperimentError) -> Self {
        match e {
            ExperimentError::InvalidParameter { name, value, valid } => {
                Error::out_of_range(name, value, valid)
            }
            ExperimentError::Theory(t) => t.into(),
            ExperimentError::Sim(s) => s.into(),
            ExperimentError::Cancelled => ErrorKind::Cancelled.into(),
            e @ ExperimentError::CorruptCell { .. } => {
                Error::from(ErrorKind::Experiment(e)).with_hint(Hint::RecomputeCorrupt)
            }
            e => ErrorKind::Experiment(e).into(),
        }
    }
}

impl From<noisyprop_data::DataError> for Error {
    fn from(e: noisyprop_data::DataError) -> Self {
        ExperimentError::from(e).into()
    }
}

impl From<noisyprop_engine::EngineError> for Error {
    fn from(e: noisyprop_engine::EngineError) -> Self {
        ExperimentError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_error_names_the_parameter_in_each_spelling() {
        let e = Error::out_of_range("sigma_w2", -1, "(0, inf)");
        assert_eq!(
            e.render(Spelling::Cli),
            "--sigma-w2 -1 is out of range; valid range is (0, inf)"
        );
        assert_eq!(
            e.render(Spelling::Python),
            "sigma_w2=-1 is out of range; valid range is (0, inf)"
        );
    }

    #[test]
    fn no_python_hint_names_a_flag_and_no_cli_hint_a_keyword() {
        for h in [
            Hint::StackNoises,
            Hint::SeparateTableNoises,
            Hint::GiveSigmaW2,
            Hint::InitIsCritical,
            Hint::PhaseMu2Axis,
            Hint::PhaseSigmaB2Axis,
            Hint::RecomputeCorrupt,
            Hint::PrecisionNeedsCuda,
            Hint::DryRunNeedsSlurm,
        ] {
            let py = h.render(Spelling::Python);
            assert!(!py.contains("--"), "{h:?}: {py}");
            let cli = h.render(Spelling::Cli);
            assert!(!cli.contains("=["), "{h:?}: {cli}");
        }
        assert_eq!(
            Hint::StackNoises.render(Spelling::Cli),
            "to stack noises, give them one by one: --noise A --noise B"
        );
        assert_eq!(
            Hint::StackNoises.render(Spelling::Python),
            "to stack noises, give them one by one: noise=[A, B]"
        );
    }
}
