/*!
Progress bars on stderr (indicatif), hidden when stderr is not a terminal,
with `--quiet`, or when `NO_COLOR`/`NOISYPROP_NO_PROGRESS` is set.
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
        let template =
            format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} (eta {{eta}})");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress { bar }
    }

    /// One more item done (thread-safe).
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
