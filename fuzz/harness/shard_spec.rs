//! Harness of the fuzz target `shard_spec`: `FromStr for Shard` (`--shard
//! I/N`) on arbitrary UTF-8, with the other one-word arguments of a grid or
//! reproduction run read the same way (`Part`, `Preset`, `Task`,
//! `DeviceKind`).
//!
//! Properties of every `Ok`: a shard has index < count, contains exactly the
//! cells ≡ index (mod count), and its `Display` reads back as the same shard;
//! a part or preset reads back from its name.
//!
//! Shared by `fuzz/fuzz_targets/shard_spec.rs` and the experiments crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/shard_spec/`).

use noisyprop_experiments::grid::Shard;
use noisyprop_experiments::reproduce::Part;
use noisyprop_experiments::training::{DeviceKind, Preset, Task};

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = text.parse::<Shard>() {
        assert!(s.count() >= 1 && s.index() < s.count(), "{text:?}: {s:?}");
        assert!(s.contains(s.index()), "{text:?}: {s} lacks its own index");
        assert!(
            !s.contains(s.index() + 1) || s.count() == 1,
            "{text:?}: {s}"
        );
        let shown = s.to_string();
        assert_eq!(shown.parse::<Shard>().ok(), Some(s), "{text:?}: `{shown}`");
        assert!(
            Shard::new(s.index(), s.count()).is_ok(),
            "{text:?}: Shard::new refuses {s}"
        );
    }
    if let Ok(p) = text.parse::<Part>() {
        assert_eq!(p.name().parse::<Part>().ok(), Some(p), "{text:?}");
    }
    if let Ok(p) = text.parse::<Preset>() {
        let _ = (p.keeps(), p.depths());
    }
    let _ = text.parse::<Task>();
    let _ = text.parse::<DeviceKind>();
}
