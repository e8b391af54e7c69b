//! Progress and stopping: an operation reports finished units of work to
//! an [`Observer`] (the CLI draws a bar, Python checks for Ctrl-C) and stops
//! between units when the observer asks.

/// Watches an operation.
pub trait Observer: Sync {
    /// Work of `total` units named `unit` (`rows`, `networks`, `cells`)
    /// starts.
    fn start(&self, total: u64, unit: &str) {
        let _ = (total, unit);
    }
    /// One unit is done.
    fn advance(&self) {}
    /// `n` units are done (all of a part reused from an earlier run).
    fn advance_by(&self, n: u64) {
        for _ in 0..n {
            self.advance();
        }
    }
    /// The current stage has a name (a part of a reproduction).
    fn stage(&self, what: &str) {
        let _ = what;
    }
    /// A piece of the work (a part of a reproduction, a figure) finished;
    /// `line` says what it found, in one line (a log shows one per piece).
    fn finished(&self, line: &str) {
        let _ = line;
    }
    /// Something the caller should know before the result (a setting too
    /// small to give a fit), said once, up front.
    fn warn(&self, text: &str) {
        let _ = text;
    }
    /// The work is over.
    fn finish(&self) {}
    /// Whether the caller asks the operation to stop.
    fn stop_requested(&self) -> bool {
        false
    }
    /// One unit done; `true` to go on (the libraries' progress callbacks).
    fn tick(&self) -> bool {
        self.advance();
        !self.stop_requested()
    }
}

/// Watches nothing and never stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}
