//! `noisyprop reproduce`: the report's claims, its files, reuse on rerun,
//! and the page as a real browser renders it.

use std::path::Path;
use std::process::Command;

use crate::common::{json, require, run};

/// The fast parts (everything but Figure 5 and the trainable-depth grid,
/// which have their own tests).
const FAST: &str = "tables,fig2,fig3,fig4,variance-depth";

fn reproduce(out: &Path) -> serde_json::Value {
    json(&[
        "reproduce",
        "--parts",
        FAST,
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--json",
    ])
}

/// Every fast part runs, every claim passes, and the files the report names
/// exist; a rerun reuses every part.
#[test]
fn reproduce_reports_claims_and_reuses_parts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    let v = reproduce(&out);
    assert_eq!(v["kind"], "reproduce_report");
    let counts = &v["counts"];
    assert_eq!(counts["fail"], 0, "{v}");
    assert!(counts["pass"].as_u64().unwrap() >= 130, "{counts}");
    let parts = v["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 5);
    for p in parts {
        assert!(p["error"].is_null(), "{p}");
        assert_eq!(p["reused"], false);
        for f in p["figures"].as_array().unwrap() {
            assert!(out.join(f.as_str().unwrap()).is_file(), "{f}");
        }
    }
    // The §2.10 row of the brief: dropout 0.6 → c* 0.28391, ξ_c 0.96553; with
    // χ_c, to 6 digits, the row keep=0.6 of crates/theory/tests/golden/depth_scales.csv
    // (mpmath 30 digits: 0.283908654, 0.354978749, 0.965533026).
    let table = &parts[0]["claims"];
    let row = table
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "table2.10/dropout:keep=0.6")
        .unwrap();
    assert!(
        row["ours"]
            .as_str()
            .unwrap()
            .starts_with("0.283909, 0.354979, 0.965533"),
        "{row}"
    );
    assert!(out.join("report.html").is_file() && out.join("report.json").is_file());
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let judged = rejudge(&on_disk);
    assert!(judged >= 130, "{judged} numbers judged");
    let again = reproduce(&out);
    for p in again["parts"].as_array().unwrap() {
        assert_eq!(p["reused"], true, "{p}");
    }
    assert_eq!(again["counts"], v["counts"]);
    // The table form names the parts and the files.
    let (code, text, err) = run(&[
        "reproduce",
        "--parts",
        "tables",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("35 claims: 35 PASS, 0 FAIL") && text.contains("report.html"),
        "{text}"
    );
}

/// Every claim of `report` (report.json) judged again from its numbers
/// alone, independently of the library's code: a PASS has numbers (unless
/// it is a categorical statement), each measured value lies in its band
/// [low, high], and the band excludes a wrong answer of 0 and of twice the
/// expected value, so no PASS holds by construction; a FAIL has a number
/// outside its band; every `expected` text starts with its source. Returns
/// how many numbers were judged.
pub fn rejudge(report: &serde_json::Value) -> usize {
    let inside = |n: &serde_json::Value, x: f64| {
        let low = n["low"].as_f64().unwrap();
        x >= low && n["high"].as_f64().is_none_or(|h| x <= h)
    };
    let holds =
        |n: &serde_json::Value| match (n["measured"].as_f64(), n["measured_beyond"].as_f64()) {
            (Some(m), _) => inside(n, m),
            (None, Some(b)) => n["high"].as_f64().is_none_or(|h| h >= b),
            (None, None) => false,
        };
    let mut judged = 0;
    for part in report["parts"].as_array().unwrap() {
        for c in part["claims"].as_array().unwrap() {
            let numbers = c["numbers"].as_array().unwrap();
            let expected = c["expected"].as_str().unwrap();
            assert!(
                ["paper", "theory", "mpmath", "rule"]
                    .iter()
                    .any(|s| expected.starts_with(s))
                    || c["rule_name"] == "categorical",
                "expected without its source: {c}"
            );
            match c["verdict"].as_str().unwrap() {
                "pass" if c["rule_name"] == "categorical" => assert!(numbers.is_empty(), "{c}"),
                "pass" => {
                    assert!(!numbers.is_empty(), "a PASS without numbers: {c}");
                    for n in numbers {
                        assert!(holds(n), "PASS with a number outside its band: {c}");
                        assert!(!inside(n, 0.0), "a measured 0 would pass too: {c}");
                        if let Some(e) = n["expected"].as_f64() {
                            assert!(
                                !inside(n, 2.0 * e),
                                "twice the expected value would pass too: {c}"
                            );
                        }
                        judged += 1;
                    }
                }
                "fail" if c["rule_name"] == "categorical" => {}
                "fail" => assert!(
                    numbers.iter().any(|n| !holds(n)),
                    "FAIL though every number holds: {c}"
                ),
                "info" => {}
                v => panic!("unknown verdict {v}: {c}"),
            }
        }
    }
    judged
}

/// Unknown parts and presets are named.
#[test]
fn reproduce_rejects_unknown_parts() {
    let (code, _, err) = run(&["reproduce", "--parts", "fig7"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("fig7") && err.contains("variance-depth"),
        "{err}"
    );
    let (code, _, err) = run(&["reproduce", "--preset", "huge"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("huge") && err.contains("quick, paper or smoke"),
        "{err}"
    );
}

/// The page in headless Chromium (installed by `.ci/run`; required under CI,
/// skipped elsewhere where it is missing): the summary and every claim row are
/// in the rendered DOM, and every figure decodes.
#[test]
fn report_renders_in_a_browser() {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = require(
        browser,
        "headless Chromium (chromium, chromium-browser or google-chrome on PATH)",
        "`.ci/run` installs it with `apt-get install chromium`",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    let v = reproduce(&out);
    let page = out.join("report.html");
    let dom = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let figures: usize = v["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["figures"].as_array().unwrap().len())
        .sum();
    assert!(figures >= 4);
    assert!(
        dom.contains(&format!(
            "data-images-total=\"{figures}\" data-images-loaded=\"{figures}\""
        )),
        "{}",
        &dom[..dom.len().min(600)]
    );
    let pass = v["counts"]["pass"].as_u64().unwrap();
    assert!(dom.contains(&format!("{pass} PASS")), "summary missing");
    let rows = dom.matches("class=\"badge pass\">PASS</span></td>").count();
    assert_eq!(rows as u64, pass, "every passing claim is a row");
    assert!(
        !dom.contains("http://") && !dom.contains("https://"),
        "no external resources"
    );
}
