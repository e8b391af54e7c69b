/*!
Output: human tables to stdout (or JSON/CSV when asked), messages to stderr.

The JSON records are the library's (`noisyprop_experiments::record`): each
carries `kind` and `schema_version`; keys are snake_case and identical in JSON
and CSV. Fields are only ever added.
*/

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use noisyprop_experiments::record::{Kind, Record};

/// Writes `data` as one pretty JSON object with its `kind` and `schema_version`.
pub fn print_record<T: Kind + Serialize>(out: &mut impl Write, data: T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Record::new(data)).context("writing JSON")?;
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
/// spelled out ([`noisyprop_theory::fmt_short`]).
pub fn g(x: f64) -> String {
    noisyprop_theory::fmt_short(x)
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

/// An error message made safe to print: control characters (other than line
/// breaks) escaped so they can be seen, and any run of over 160 characters
/// without a space shortened to its ends with the count of what was left out.
pub fn sanitize(message: &str) -> String {
    const LONG: usize = 160;
    let mut out = String::with_capacity(message.len().min(4096));
    for (i, line) in message.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            let escaped: String = word
                .chars()
                .flat_map(|c| {
                    if c.is_control() {
                        c.escape_default().collect::<Vec<_>>()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            let n = escaped.chars().count();
            if n > LONG {
                let head: String = escaped.chars().take(60).collect();
                let tail: String = escaped.chars().skip(n - 20).collect();
                out.push_str(&format!("{head}…[{} characters left out]…{tail}", n - 80));
            } else {
                out.push_str(&escaped);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{g, sanitize};

    #[test]
    fn numbers_read_well() {
        assert_eq!(g(1.2), "1.2");
        assert_eq!(g(0.283_910_5), "0.283911");
        assert_eq!(g(173.694_1), "173.694");
        assert_eq!(g(1e-12), "1e-12");
        assert_eq!(g(3.2e38), "3.2e38");
        assert_eq!(g(1e308), "1e308");
        assert_eq!(g(f64::INFINITY), "∞");
        assert_eq!(g(-0.5), "-0.5");
        assert_eq!(g(2.0), "2");
    }

    #[test]
    fn messages_show_control_characters_and_stay_short() {
        assert_eq!(
            sanitize("unknown activation `re\u{7}lu`; valid: relu"),
            "unknown activation `re\\u{7}lu`; valid: relu"
        );
        assert_eq!(sanitize("a\tb\nc"), "a\\tb\nc");
        let long = format!("unknown noise `{}`; valid: none", "x".repeat(120_000));
        let s = sanitize(&long);
        assert!(s.len() < 300, "{s}");
        assert!(
            s.contains("characters left out") && s.ends_with("valid: none"),
            "{s}"
        );
        let ok = "`dropout:keep=1.5`: keep = 1.5 is out of range; valid range is (0, 1]";
        assert_eq!(sanitize(ok), ok);
    }
}
