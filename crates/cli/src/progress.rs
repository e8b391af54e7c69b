/*!
Progress bars on stderr (indicatif), hidden when stderr is not a terminal,
with `--quiet`, or when `NO_COLOR`/`NOISYPROP_NO_PROGRESS` is set. Without a
bar (a log) each finished part is one line on stderr instead, unless
`--quiet`; warnings are always printed.
*/

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A counter of finished work items.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `total` items called `what`.
    pub fn new(total: u64, what: &str, quiet: bool) -> Self {
        Self::with_template(
            total,
            &format!(
                "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} {{msg}} (eta {{eta}})"
            ),
            quiet,
        )
    }

    fn with_template(total: u64, template: &str, quiet: bool) -> Self {
        let visible = !quiet
            && std::io::stderr().is_terminal()
            && std::env::var_os("NOISYPROP_NO_PROGRESS").is_none();
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress { bar }
    }

    /// Names the current stage.
    pub fn stage(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A progress bar that an operation drives ([`noisyprop_ops::Observer`]):
/// the operation says how much work there is and what it is called.
pub struct Bar {
    quiet: bool,
    bar: std::sync::OnceLock<Progress>,
}

impl Bar {
    /// A bar shown unless `quiet` (or stderr is not a terminal).
    pub fn new(quiet: bool) -> Self {
        Bar {
            quiet,
            bar: std::sync::OnceLock::new(),
        }
    }
}

impl noisyprop_ops::Observer for Bar {
    fn start(&self, total: u64, unit: &str) {
        let _ = self.bar.set(Progress::new(total, unit, self.quiet));
    }
    fn advance(&self) {
        self.advance_by(1);
    }
    fn advance_by(&self, n: u64) {
        if let Some(b) = self.bar.get() {
            b.bar.inc(n);
        }
    }
    fn stage(&self, what: &str) {
        if let Some(b) = self.bar.get() {
            b.stage(what);
        }
    }
    fn finished(&self, line: &str) {
        match self.bar.get() {
            Some(b) if !b.bar.is_hidden() => b.bar.println(line),
            _ if !self.quiet => eprintln!("{line}"),
            _ => {}
        }
    }
    fn warn(&self, text: &str) {
        match self.bar.get() {
            Some(b) => b.bar.suspend(|| eprintln!("warning: {text}")),
            None => eprintln!("warning: {text}"),
        }
    }
    fn finish(&self) {
        if let Some(b) = self.bar.get() {
            b.finish();
        }
    }
}
