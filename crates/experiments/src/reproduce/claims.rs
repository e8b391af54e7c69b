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

/// One claim of the paper, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Stable identifier, e.g. `table/dropout:keep=0.6/c*`.
    pub id: String,
    /// What the paper says, in words (with its spec section).
    pub statement: String,
    /// The paper's number(s) as printed.
    pub paper: String,
    /// Ours.
    pub ours: String,
    /// Agreement.
    pub verdict: Verdict,
    /// How the verdict was reached.
    pub rule: String,
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

/// Whether `ours` rounds to the paper's `printed` value (within half a unit
/// of its last digit, plus 1e-12 for binary rounding).
pub fn rounds_to(ours: f64, printed: &str) -> bool {
    match printed.parse::<f64>() {
        Ok(p) => (ours - p).abs() <= half_unit(printed) * (1.0 + 1e-9) + 1e-12,
        Err(_) => false,
    }
}

/// A theory number against the paper's printed value.
pub fn printed_claim(id: String, statement: String, printed: &str, ours: f64) -> Claim {
    Claim {
        id,
        statement,
        paper: printed.to_string(),
        ours: fmt_short(ours),
        verdict: Verdict::of(rounds_to(ours, printed)),
        rule: format!(
            "ours rounds to the printed value (±{})",
            fmt_short(half_unit(printed))
        ),
    }
}

/// t of the simulation check: with a handful of checks per figure, a 4σ
/// band keeps false alarms rare.
pub const SIM_T: f64 = 4.0;

/// The simulation of `m` against its mean field: |sim − theory| ≤ 4·SE +
/// `allowance`·max(1, |theory|) (`allowance` = 1/√width for the finite
/// width). Theory-only measurements give `None`.
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
    let rule = format!(
        "|simulation − theory| ≤ {SIM_T}·SE + {}·max(1, |theory|) (finite width)",
        fmt_short(allowance)
    );
    let theory = m.theory;
    let (sim, se) = (m.simulated?, m.std_error.unwrap_or(f64::INFINITY));
    let band = SIM_T * se + allowance * theory.abs().max(1.0);
    Some(Claim {
        id,
        statement,
        paper: format!("theory {}", fmt_short(theory)),
        ours: format!("simulated {} ± {}", fmt_short(sim), fmt_short(se)),
        verdict: Verdict::of(sim.is_finite() && (sim - theory).abs() <= band),
        rule,
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
    }

    #[test]
    fn simulation_band_widens_with_the_standard_error() {
        let m = |sim: f64, se: f64| Measurement {
            setting: "s".into(),
            quantity: "q^5".into(),
            theory: 4.0,
            simulated: Some(sim),
            std_error: Some(se),
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
        let theory_only = Measurement {
            simulated: None,
            ..m(0.0, 0.0)
        };
        assert!(simulation_claim(2, &theory_only, 0.03, "§3.1").is_none());
    }
}
