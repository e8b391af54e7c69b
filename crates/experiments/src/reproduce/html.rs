//! The report as one self-contained HTML page: styles inline, figures
//! embedded as `data:` PNG, no external scripts, fonts or network access
//! (one inline script records whether every figure decoded).

use std::fmt::Write;
use std::path::Path;

use base64::Engine;

use super::claims::Verdict;
use super::{PartReport, Report, fmt_seconds};
use crate::ExperimentError;

const STYLE: &str = "
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
table { border-collapse: collapse; width: 100%; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.badge { display: inline-block; min-width: 3.2em; text-align: center; padding: 0.1em 0.4em; border-radius: 0.3em; font-weight: bold; font-size: 0.85em; }
.pass { background: #d7f0d7; color: #145214; }
.fail { background: #f6d4d4; color: #7a1212; }
.info { background: #e6e6e6; color: #444; }
.summary { font-size: 1.1em; }
.error { background: #fff0f0; border: 1px solid #e0a0a0; padding: 0.6em; }
.meta { color: #555; font-size: 0.9em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.85em; }
";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn badge(v: Verdict) -> String {
    let class = match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Info => "info",
    };
    format!("<span class=\"badge {class}\">{}</span>", v.label())
}

/// The page of `report`; figures are read from `dir` (the output directory
/// the report's paths are relative to) and embedded.
///
/// # Errors
/// A figure that cannot be read (named).
pub fn render(report: &Report, dir: &Path) -> Result<String, ExperimentError> {
    let mut h = String::new();
    let p = &report.provenance;
    let c = report.counts;
    // `write!` into a String cannot fail.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>noisyprop: reproduction report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Critical initialisation for deep signal propagation in noisy rectifier neural networks — reproduced</h1>\n\
         <p class=\"meta\">Pretorius, van Biljon, Kroon &amp; Kamper, NeurIPS 2018. Every claim below is ours next to what it was judged \
         against, with that value's source (the paper's number as given in docs/paper-spec.md, our mean-field theory, \
         an mpmath table, or a threshold of the rule) and the rule that judged it.</p>\n\
         <p class=\"summary\" id=\"summary\">{} claims: <span class=\"badge pass\">{} PASS</span> \
         <span class=\"badge fail\">{} FAIL</span> <span class=\"badge info\">{} info</span>{}</p>\n",
        c.pass + c.fail + c.info,
        c.pass,
        c.fail,
        c.info,
        if report.failed_parts > 0 {
            format!(
                " — <strong>{} part(s) did not run</strong>",
                report.failed_parts
            )
        } else {
            String::new()
        }
    );
    let _ = write!(
        h,
        "<table id=\"provenance\"><tr><th colspan=\"2\">Provenance</th></tr>\n{}</table>\n",
        [
            ("noisyprop", format!("{} ({})", p.version, p.git_revision)),
            ("preset", p.preset.clone()),
            ("seed", p.seed.to_string()),
            ("device", p.device.clone()),
            ("data set", format!("{} — {}", p.dataset, p.dataset_source),),
            ("data SHA-256", p.dataset_sha256.clone()),
            ("threads", p.threads.to_string()),
            ("finished", p.finished_utc.clone()),
            (
                "compute time",
                format!(
                    "{} over all parts (this run: {}, {} of {} parts reused)",
                    fmt_seconds(p.part_seconds.iter().map(|(_, s)| s).sum()),
                    fmt_seconds(p.seconds),
                    report.parts.iter().filter(|p| p.reused).count(),
                    report.parts.len()
                ),
            ),
        ]
        .iter()
        .map(|(k, v)| format!("<tr><td>{}</td><td>{}</td></tr>\n", esc(k), esc(v)))
        .collect::<String>()
    );
    h.push_str("<table id=\"parts\"><tr><th>part</th><th>spec</th><th>PASS</th><th>FAIL</th><th>info</th><th>time</th></tr>\n");
    for part in &report.parts {
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            part.part.name(),
            esc(&part.title),
            esc(&part.section),
            part.counts.pass,
            part.counts.fail,
            part.counts.info,
            if part.error.is_some() {
                "did not run".to_string()
            } else {
                format!(
                    "{}{}",
                    fmt_seconds(part.seconds),
                    if part.reused { " (reused)" } else { "" }
                )
            }
        );
    }
    h.push_str("</table>\n");
    for part in &report.parts {
        section(&mut h, part, dir)?;
    }
    // The only script: marks on <body> how many figures decoded, so a
    // headless browser's DOM dump shows that every image loads.
    h.push_str(
        "<script>window.addEventListener('load', function () {\n\
         var imgs = document.images, ok = 0;\n\
         for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }\n\
         document.body.setAttribute('data-images-total', imgs.length);\n\
         document.body.setAttribute('data-images-loaded', ok);\n\
         });</script>\n</body>\n</html>\n",
    );
    Ok(h)
}

fn section(h: &mut String, part: &PartReport, dir: &Path) -> Result<(), ExperimentError> {
    let _ = write!(
        h,
        "<h2 id=\"{}\">{}</h2>\n<p class=\"meta\">{} — {}</p>\n",
        part.part.name(),
        esc(&part.title),
        esc(&part.section),
        esc(&part.settings)
    );
    if let Some(e) = &part.error {
        let _ = writeln!(
            h,
            "<p class=\"error\">This part did not run: {}</p>",
            esc(e)
        );
    }
    for f in &part.figures {
        let path = dir.join(f);
        let bytes = std::fs::read(&path).map_err(|cause| ExperimentError::Io {
            path: path.clone(),
            cause,
        })?;
        let _ = writeln!(
            h,
            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>",
            esc(&f.display().to_string()),
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            esc(&f.display().to_string())
        );
    }
    if !part.claims.is_empty() {
        h.push_str(
            "<table class=\"claims\"><tr><th>claim</th><th>expected (source)</th><th>ours</th><th>verdict</th><th>rule</th></tr>\n",
        );
        for c in &part.claims {
            let _ = writeln!(
                h,
                "<tr id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.id),
                esc(&c.statement),
                esc(&c.expected),
                esc(&c.ours),
                badge(c.verdict),
                esc(&c.rule)
            );
        }
        h.push_str("</table>\n");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("a < b & \"c\" > d"),
            "a &lt; b &amp; &quot;c&quot; &gt; d"
        );
    }
}
