//! Claims of the paper and their verdicts: the paper's number (as printed in
//! docs/paper-spec.md), ours, and whether they agree by a stated rule.

use serde::{Deserialize, Serialize};

use noisyprop_theory::fmt_short;

use crate::figs::Measurement;

/// Whether our result agrees with the paper's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Agrees by the rule.
    Pass,
    /// Disagrees by the rule.
    Fail,
    /// A number reported for reference, not judged.
    Info,
}

impl Verdict {
    /// `PASS`, `FAIL` or `info`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Info => "info",
        }
    }

    /// Pass when `ok`, else fail.
    pub fn of(ok: bool) -> Verdict {
        if ok { Verdict::Pass } else { Verdict::Fail }
    }
}

/// The rule a claim was judged by (machine-readable; [`Claim::rule`] says
/// it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleName {
    /// Ours rounds to the paper's printed value.
    RoundsToPrinted,
    /// Ours rounds to the printed values and agrees with an mpmath table.
    PrintedAndMpmath,
    /// Equal, exactly.
    Exact,
    /// A simulated mean within t·SE plus a finite-width allowance of the
    /// theory, relative for variances.
    SimulationBand,
    /// A fitted depth scale within a relative tolerance of the theory.
    FitWithinTolerance,
    /// The layer where the variance leaves a float range, within a few
    /// layers of the theory.
    ExitLayer,
    /// A share of cells at least a threshold.
    ShareAtLeast,
    /// A yes/no or set statement without a number (e.g. "none exists").
    Categorical,
}

/// Where the value a number is judged against comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Printed in the paper (docs/paper-spec.md).
    Paper,
    /// Our mean-field theory.
    Theory,
    /// The mpmath table `crates/theory/tests/golden/depth_scales.csv`.
    Mpmath,
    /// A threshold of the rule (a share of cells).
    Rule,
}

/// One number of a claim, as judged: the value it is judged against, ours,
/// and the band ours had to lie in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    /// What the number is (`q^15`, `c*`, `exit layer`, `share`).
    pub quantity: String,
    /// Where `expected` comes from.
    pub source: Source,
    /// The value judged against; `None` for "never" (no finite value).
    pub expected: Option<f64>,
    /// Ours; `None` where nothing was measured (no fit, or the event did
    /// not happen within `measured_beyond`).
    pub measured: Option<f64>,
    /// The standard error of `measured`, where it has one.
    pub std_error: Option<f64>,
    /// Where no event was measured because the run ended first: the last
    /// value looked at (e.g. the deepest layer); the event lies beyond it.
    pub measured_beyond: Option<f64>,
    /// The band [low, high] ours had to lie in (`high` `None`: no upper
    /// end).
    pub low: f64,
    /// See `low`.
    pub high: Option<f64>,
}

impl Judged {
    /// Whether a measured `value` lies in the band.
    pub fn admits(&self, value: f64) -> bool {
        value.is_finite() && value >= self.low && self.high.is_none_or(|h| value <= h)
    }

    /// Whether what was measured lies in the band: a value in it, or an
    /// event beyond `measured_beyond` where the band reaches past it.
    pub fn holds(&self) -> bool {
        match (self.measured, self.measured_beyond) {
            (Some(v), _) => self.admits(v),
            (None, Some(b)) => self.high.is_none_or(|h| h >= b),
            (None, None) => false,
        }
    }

    /// Whether the band can tell a wrong answer from the right one: it
    /// excludes 0 and twice the expected value (for "never", any finite
    /// value below its lower end: 0).
    pub fn discriminates(&self) -> bool {
        !self.admits(0.0) && self.expected.is_none_or(|e| !self.admits(2.0 * e))
    }
}

/// One claim of the paper, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Stable identifier, e.g. `table/dropout:keep=0.6/c*`.
    pub id: String,
    /// What the paper says, in words (with its spec section).
    pub statement: String,
    /// What ours was judged against, with its source first: `paper 0.2839`,
    /// `theory 0.000714`, `rule ≥ 75 % of cells`.
    pub expected: String,
    /// Ours.
    pub ours: String,
    /// Agreement.
    pub verdict: Verdict,
    /// How the verdict was reached, in words.
    pub rule: String,
    /// The rule's name.
    pub rule_name: RuleName,
    /// The numbers judged (empty for [`RuleName::Categorical`] claims and
    /// for numbers reported without a verdict that have no value).
    pub numbers: Vec<Judged>,
}

impl Claim {
    /// A claim whose verdict is that every number holds.
    pub fn judged(
        id: String,
        statement: String,
        (expected, ours): (String, String),
        (rule_name, rule): (RuleName, String),
        numbers: Vec<Judged>,
    ) -> Claim {
        let ok = !numbers.is_empty() && numbers.iter().all(Judged::holds);
        Claim {
            id,
            statement,
            expected,
            ours,
            verdict: Verdict::of(ok),
            rule,
            rule_name,
            numbers,
        }
    }

    /// The same claim reported without a verdict ([`Verdict::Info`]), its
    /// rule replaced by `why` it was not judged (its numbers kept).
    pub fn unjudged(self, why: String) -> Claim {
        Claim {
            verdict: Verdict::Info,
            rule: why,
            ..self
        }
    }

    /// A yes/no claim without numbers.
    pub fn categorical(
        id: String,
        statement: String,
        (expected, ours): (String, String),
        ok: bool,
        rule: &str,
    ) -> Claim {
        Claim {
            id,
            statement,
            expected,
            ours,
            verdict: Verdict::of(ok),
            rule: rule.into(),
            rule_name: RuleName::Categorical,
            numbers: Vec::new(),
        }
    }
}

/// Half a unit in the last printed digit of `printed` (`"0.2839"` →
/// 0.00005, `"32"` → 0.5): the tolerance of a number given to that
/// precision.
pub fn half_unit(printed: &str) -> f64 {
    let mantissa = printed.split(['e', 'E']).next().unwrap_or(printed);
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len());
    let exponent: i32 = printed
        .split_once(['e', 'E'])
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    0.5 * 10f64.powi(exponent - decimals as i32)
}

/// The band of values that round to the paper's `printed` value (half a
/// unit of its last digit, plus 1e-12 for binary rounding); `None` when it
/// is not a number.
pub fn printed_number(quantity: &str, printed: &str, ours: f64) -> Option<Judged> {
    let p = printed.parse::<f64>().ok()?;
    let half = half_unit(printed) * (1.0 + 1e-9) + 1e-12;
    Some(Judged {
        quantity: quantity.into(),
        source: Source::Paper,
        expected: Some(p),
        measured: Some(ours),
        std_error: None,
        measured_beyond: None,
        low: p - half,
        high: Some(p + half),
    })
}

/// Whether `ours` rounds to the paper's `printed` value.
pub fn rounds_to(ours: f64, printed: &str) -> bool {
    printed_number("", printed, ours).is_some_and(|j| j.holds())
}

/// A number against a reference known to `relative` precision.
pub fn relative_number(
    quantity: &str,
    source: Source,
    expected: f64,
    ours: f64,
    relative: f64,
) -> Judged {
    let half = relative * expected.abs();
    Judged {
        quantity: quantity.into(),
        source,
        expected: Some(expected),
        measured: Some(ours),
        std_error: None,
        measured_beyond: None,
        low: expected - half,
        high: Some(expected + half),
    }
}

/// A theory number (`quantity`) against the paper's printed value.
pub fn printed_claim(
    id: String,
    statement: String,
    quantity: &str,
    printed: &str,
    ours: f64,
) -> Claim {
    Claim::judged(
        id,
        statement,
        (format!("paper {printed}"), fmt_short(ours)),
        (
            RuleName::RoundsToPrinted,
            format!(
                "ours rounds to the printed value (±{})",
                fmt_short(half_unit(printed))
            ),
        ),
        printed_number(quantity, printed, ours)
            .into_iter()
            .collect(),
    )
}

/// t of the simulation check: with a handful of checks per figure, a 4σ
/// band keeps false alarms rare.
pub const SIM_T: f64 = 4.0;

/// The simulation of `m` against its mean field, by the simulator's own
/// rule ([`noisyprop_sim::verdict()`]) with t = 4: |sim − theory| ≤ 4·SE + a·
/// |theory| for a variance (relative: a variance of 0.0007 is judged at its
/// own scale) and 4·SE + a for a correlation, a = 1/√width. A band that
/// would admit a simulation of 0 or of twice the theory cannot tell them
/// apart, so such a number is reported without a verdict ([`Verdict::Info`],
/// saying why). Theory-only measurements give `None`.
pub fn simulation_claim(
    figure: u8,
    m: &Measurement,
    allowance: f64,
    section: &str,
) -> Option<Claim> {
    let id = format!("fig{figure}/{}/{}", m.setting, m.quantity);
    let statement = format!(
        "Figure {figure}, {}: the simulated {} follows the mean-field theory ({section})",
        m.setting, m.quantity
    );
    let variance = m.quantity.starts_with('q');
    let theory = m.theory;
    let (sim, se) = (m.simulated?, m.std_error.unwrap_or(f64::INFINITY));
    let (allow, rule) = if variance {
        (
            allowance * theory.abs(),
            format!(
                "|simulation − theory| ≤ {SIM_T}·SE + {}·|theory| (finite width, relative for a variance)",
                fmt_short(allowance)
            ),
        )
    } else {
        (
            allowance,
            format!(
                "|simulation − theory| ≤ {SIM_T}·SE + {} (finite width, absolute for a correlation)",
                fmt_short(allowance)
            ),
        )
    };
    let band = SIM_T * se + allow;
    let number = Judged {
        quantity: m.quantity.clone(),
        source: Source::Theory,
        expected: Some(theory),
        measured: Some(sim),
        std_error: m.std_error,
        measured_beyond: None,
        low: theory - band,
        high: Some(theory + band),
    };
    let texts = (
        format!("theory {}", fmt_short(theory)),
        format!("simulated {} ± {}", fmt_short(sim), fmt_short(se)),
    );
    let discriminates = number.discriminates();
    let why = format!(
        "not judged: the band ±{} is as wide as the value itself, so a simulation of 0 or of twice the theory would pass ({rule})",
        fmt_short(band)
    );
    let claim = Claim::judged(
        id,
        statement,
        texts,
        (RuleName::SimulationBand, rule),
        vec![number],
    );
    Some(if discriminates {
        claim
    } else {
        claim.unjudged(why)
    })
}

/// Counts of each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Claims that agree.
    pub pass: usize,
    /// Claims that disagree.
    pub fail: usize,
    /// Numbers reported without a verdict.
    pub info: usize,
}

impl Counts {
    /// Counts of `claims`.
    pub fn of<'a>(claims: impl IntoIterator<Item = &'a Claim>) -> Counts {
        let mut c = Counts::default();
        for claim in claims {
            match claim.verdict {
                Verdict::Pass => c.pass += 1,
                Verdict::Fail => c.fail += 1,
                Verdict::Info => c.info += 1,
            }
        }
        c
    }

    /// The sum of two counts.
    pub fn plus(self, o: Counts) -> Counts {
        Counts {
            pass: self.pass + o.pass,
            fail: self.fail + o.fail,
            info: self.info + o.info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_precision_sets_the_tolerance() {
        assert_eq!(half_unit("0.2839"), 0.00005);
        assert_eq!(half_unit("32"), 0.5);
        assert!((half_unit("2.5e-3") - 0.00005).abs() < 1e-18);
        assert!(rounds_to(0.283909, "0.2839"));
        assert!(!rounds_to(0.28396, "0.2839"));
        assert!(rounds_to(0.96553, "0.966"));
        assert!(!rounds_to(1.0, "abc"));
        let j = printed_number("c*", "0.2839", 0.283909).unwrap();
        assert!(j.holds() && j.discriminates());
        // "4" printed: [3.5, 4.5] excludes 0 and 8.
        assert!(printed_number("q", "4", 4.0).unwrap().discriminates());
    }

    #[test]
    fn simulation_band_widens_with_the_standard_error() {
        let m = |sim: f64, se: f64| Measurement {
            setting: "s".into(),
            quantity: "q^5".into(),
            theory: 4.0,
            simulated: Some(sim),
            std_error: Some(se),
            note: None,
        };
        let v = |sim, se| {
            simulation_claim(2, &m(sim, se), 0.03, "§3.1")
                .unwrap()
                .verdict
        };
        assert_eq!(v(4.1, 0.01), Verdict::Pass); // within 0.04 + 0.12
        assert_eq!(v(4.5, 0.01), Verdict::Fail);
        assert_eq!(v(4.5, 0.1), Verdict::Pass); // 0.4 + 0.12
        assert_eq!(v(f64::NAN, 0.1), Verdict::Fail);
        // A small variance is judged at its own scale: 0.0007 with a tiny SE
        // fails a simulation of 0 (the old max(1, |theory|) allowance of 0.03
        // passed it).
        let small = Measurement {
            theory: 0.000714,
            ..m(0.0, 0.00001)
        };
        let c = simulation_claim(3, &small, 0.03, "§3.2").unwrap();
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.numbers[0].discriminates());
        // A band as wide as the value cannot judge: reported, not passed.
        let wide = Measurement {
            quantity: "c^30".into(),
            theory: 0.05,
            ..m(0.05, 0.001)
        };
        let c = simulation_claim(4, &wide, 0.0625, "§3.4").unwrap();
        assert_eq!(c.verdict, Verdict::Info);
        assert!(c.rule.starts_with("not judged"));
        let theory_only = Measurement {
            simulated: None,
            ..m(0.0, 0.0)
        };
        assert!(simulation_claim(2, &theory_only, 0.03, "§3.1").is_none());
    }
}
