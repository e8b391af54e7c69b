//! Harness of the fuzz target `activation_spec`: `FromStr for Activation`,
//! `FromStr for Framework`, and the framework spellings of noise layers as
//! copied from PyTorch / Keras / Flax / burn / candle code (`Dropout(0.2)`,
//! `nn.Dropout2d(p=0.2)`, `keras.layers.SpatialDropout2D(0.2)`, read by
//! `Noise::parse_stage`, the reading side of `frameworks.rs`), then
//! `init_code` (the writing side) for what was read.
//!
//! Properties of every `Ok`: an activation passes `Activation::validate`
//! and its canonical spec reads back as the same activation up to 12
//! significant digits, a fixed point; a framework's key reads back as it; a
//! framework spelling gives a law that `Noise::validate` accepts, with its
//! convention stated, and init code for every framework.
//!
//! Shared by `fuzz/fuzz_targets/activation_spec.rs` and the theory crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/activation_spec/`).

use noisyprop_theory::{Activation, Framework, Noise, init_code};

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(act) = text.parse::<Activation>() {
        check_activation(act, text);
    }
    if let Ok(f) = text.parse::<Framework>() {
        assert_eq!(f.key().parse::<Framework>().ok(), Some(f), "{text:?}");
    }
    // A framework spelling is read as such whenever it has a `(`.
    if text.contains('(')
        && let Ok(stage) = Noise::parse_stage(text)
    {
        let noise = Noise::from_law(stage.law);
        if let Err(e) = noise.validate() {
            panic!("{text:?} read as `{noise}`, which validate() refuses: {e}");
        }
        let reading = stage
            .framework
            .unwrap_or_else(|| panic!("{text:?}: a framework spelling without its reading"));
        assert!(!reading.convention.is_empty(), "{text:?}: no convention");
        for f in Framework::ALL {
            let code = init_code(f, 1.5, 0.1, &[stage.law]);
            assert!(!code.is_empty(), "{text:?}: no {f} code");
        }
    }
}

fn parameter(a: Activation) -> f64 {
    match a {
        Activation::LeakyRelu { slope } => slope,
        Activation::Elu { alpha } => alpha,
        _ => 0.0,
    }
}

fn check_activation(act: Activation, input: &str) {
    if let Err(e) = act.validate() {
        panic!("{input:?} parsed as `{act}`, which validate() refuses: {e}");
    }
    let spec = act.spec();
    let back: Activation = match spec.parse() {
        Ok(a) => a,
        Err(e) => panic!("{input:?}: `{spec}` (its spec) does not parse back: {e}"),
    };
    let (x, y) = (parameter(act), parameter(back));
    assert!(
        std::mem::discriminant(&act) == std::mem::discriminant(&back)
            && (x - y).abs() <= 1e-11 * x.abs().max(y.abs()),
        "{input:?}: `{act}` reads back as `{back}`"
    );
    assert_eq!(
        back.spec(),
        spec,
        "{input:?}: the spec is not a fixed point"
    );
    for x in [-1.0, 0.0, 0.5] {
        let (v, d, d2) = act.eval_d2(x);
        assert!(
            v.is_finite() && d.is_finite() && d2.is_finite(),
            "{input:?}: φ({x}) of `{act}` = ({v}, {d}, {d2})"
        );
    }
}
