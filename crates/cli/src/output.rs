/*!
Output: human tables to stdout (or JSON/CSV when asked), messages to stderr.

Every machine-readable record carries `kind` and `schema_version`; keys are
snake_case and identical in JSON and CSV. Fields are only ever added.
*/

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

/// Version of every JSON/CSV record this binary writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A record with its kind and schema version in front.
#[derive(Serialize)]
pub struct Record<'a, T: Serialize> {
    pub kind: &'static str,
    pub schema_version: u32,
    #[serde(flatten)]
    pub data: &'a T,
}

/// Writes `data` as one pretty JSON object with `kind` and `schema_version`.
pub fn print_json<T: Serialize>(out: &mut impl Write, kind: &'static str, data: &T) -> Result<()> {
    let rec = Record {
        kind,
        schema_version: SCHEMA_VERSION,
        data,
    };
    serde_json::to_writer_pretty(&mut *out, &rec).context("writing JSON")?;
    writeln!(out)?;
    Ok(())
}

/// Writes rows as CSV with a header from the first row's fields.
pub fn print_csv<T: Serialize>(out: &mut impl Write, rows: &[T]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for r in rows {
        w.serialize(r).context("writing CSV")?;
    }
    w.flush()?;
    Ok(())
}

/// A number with 6 significant digits, trailing zeros trimmed; ∞ and NaN
/// spelled out.
pub fn g(x: f64) -> String {
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
            Some((m, e)) => format!("{}e{e}", trim(m)),
            None => s,
        };
    }
    let decimals = (5 - mag).max(0) as usize;
    trim(&format!("{x:.decimals$}"))
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `g` of an optional number, with `none` for `None`.
pub fn opt(x: Option<f64>, none: &str) -> String {
    x.map(g).unwrap_or_else(|| none.to_string())
}

/// A two-column report with section headings.
#[derive(Default)]
pub struct Report {
    lines: Vec<(Option<String>, String)>,
}

impl Report {
    /// A heading line.
    pub fn section(&mut self, title: &str) -> &mut Self {
        self.lines.push((None, title.to_string()));
        self
    }

    /// A key/value line.
    pub fn row(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.lines.push((Some(key.to_string()), value.into()));
        self
    }

    /// One "noise convention" row per stage read from a framework spelling.
    pub fn noise_conventions(&mut self, stages: &[noisyprop_theory::NoiseStage]) -> &mut Self {
        for fw in stages.iter().filter_map(|s| s.framework.as_ref()) {
            self.row(
                "noise convention",
                format!("{} ({})", fw.text, fw.convention),
            );
        }
        self
    }

    /// Writes the report with keys aligned.
    pub fn write(&self, out: &mut impl Write) -> Result<()> {
        let width = self
            .lines
            .iter()
            .filter_map(|(k, _)| k.as_ref().map(|k| k.chars().count()))
            .max()
            .unwrap_or(0);
        for (i, (k, v)) in self.lines.iter().enumerate() {
            match k {
                None => {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    writeln!(out, "{v}")?;
                }
                Some(k) => {
                    let pad = width - k.chars().count();
                    writeln!(out, "  {k}{}  {v}", " ".repeat(pad))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::g;

    #[test]
    fn numbers_read_well() {
        assert_eq!(g(1.2), "1.2");
        assert_eq!(g(0.283_910_5), "0.283911");
        assert_eq!(g(173.694_1), "173.694");
        assert_eq!(g(1e-12), "1e-12");
        assert_eq!(g(3.2e38), "3.2e38");
        assert_eq!(g(f64::INFINITY), "∞");
        assert_eq!(g(-0.5), "-0.5");
        assert_eq!(g(2.0), "2");
    }
}
