//! Every `$ noisyprop …` example in README.md prints exactly what the README
//! shows (refresh with `scripts/update-readme.py`).

use assert_cmd::Command;

/// Splits a shell command line on whitespace, honouring single and double
/// quotes (all the README needs).
fn split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if started || !cur.is_empty() {
        args.push(cur);
    }
    args
}

/// Relative tolerance for the numbers an example prints: theory is exact;
/// Monte-Carlo and training examples run other SIMD kernels (other rounding)
/// on other CPUs, and training amplifies rounding over many steps.
fn tolerance(cmd: &str) -> f64 {
    match cmd.split_whitespace().nth(1) {
        Some("train" | "trainable-depth") => 0.05,
        Some("simulate" | "variance-depth" | "figures") => 0.01,
        _ => 1e-9,
    }
}

/// Lines equal word for word, except that numbers may differ by `tol`
/// (relative).
fn same_output(got: &[&str], expected: &[String], tol: f64) -> bool {
    let number = |w: &str| {
        w.trim_matches(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
            .parse::<f64>()
            .ok()
    };
    got.len() == expected.len()
        && got.iter().zip(expected).all(|(g, e)| {
            let (gw, ew): (Vec<&str>, Vec<&str>) = (
                g.split_whitespace().collect(),
                e.split_whitespace().collect(),
            );
            gw.len() == ew.len()
                && gw.iter().zip(&ew).all(|(a, b)| {
                    a == b
                        || match (number(a), number(b)) {
                            (Some(x), Some(y)) => {
                                (x - y).abs() <= tol * x.abs().max(y.abs()).max(1e-3)
                            }
                            _ => false,
                        }
                })
        })
}

#[test]
fn readme_examples_print_what_the_readme_shows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut in_console = false;
    let mut current: Option<(String, Vec<String>)> = None;
    let mut examples = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```console") {
            in_console = true;
            continue;
        }
        if in_console && line.starts_with("```") {
            in_console = false;
            examples.extend(current.take());
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            examples.extend(current.take());
            current = Some((cmd.to_string(), Vec::new()));
        } else if let Some((_, out)) = current.as_mut() {
            out.push(line.to_string());
        }
    }
    for (cmd, expected) in examples {
        let args = split(&cmd);
        assert_eq!(args[0], "noisyprop", "{cmd}");
        let out = Command::cargo_bin("noisyprop")
            .unwrap()
            .args(&args[1..])
            .current_dir(dir.path())
            .output()
            .unwrap();
        // 0, or 1 for an example that shows a FAIL verdict; never an error.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "`{cmd}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8(out.stdout).unwrap();
        let got: Vec<&str> = got.trim_end_matches('\n').lines().collect();
        assert!(
            same_output(&got, &expected, tolerance(&cmd)),
            "README example `{cmd}` prints something else; run scripts/update-readme.py\n\
             --- README\n{}\n--- now\n{}",
            expected.join("\n"),
            got.join("\n")
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} README examples found");
}
