//! Harness of the fuzz target `noise_spec`: `Noise::parse_all`,
//! `Noise::parse_stage` and `FromStr for Noise` on arbitrary UTF-8, split on
//! `,` or `;` as the CLI splits a `--noise` value, and the whole text.
//!
//! Properties of every `Ok`: the stack passes `Noise::validate` (parsing and
//! `Network::new` accept the same laws), its affine action (A, B) is finite
//! with A ≥ 1 and B ≥ 0, and `Display` reads back through `FromStr` to the
//! same laws, up to the 12 significant digits of the canonical spec strings
//! (`fmt_num`), and to the same text again (a fixed point).
//!
//! Shared by `fuzz/fuzz_targets/noise_spec.rs` and the theory crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/noise_spec/`).

use noisyprop_theory::{Noise, NoiseLaw};

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<&str> = text.split([',', ';']).collect();
    if let Ok(noise) = Noise::parse_all(&parts) {
        check_noise(&noise, text);
    }
    for part in parts.iter().chain(std::iter::once(&text)) {
        if let Ok(stage) = Noise::parse_stage(part) {
            check_noise(&Noise::from_law(stage.law), part);
            if let Some(reading) = &stage.framework {
                assert!(!reading.convention.is_empty(), "{part:?}: no convention");
            }
        }
    }
    if let Ok(noise) = text.parse::<Noise>() {
        check_noise(&noise, text);
    }
}

/// The parameter of a law (0 for `none`).
fn parameter(law: NoiseLaw) -> f64 {
    match law {
        NoiseLaw::None => 0.0,
        NoiseLaw::Dropout { keep } => keep,
        NoiseLaw::GaussMult { std } | NoiseLaw::GaussAdd { std } => std,
        NoiseLaw::LaplaceMult { scale } | NoiseLaw::LaplaceAdd { scale } => scale,
        NoiseLaw::Poisson { rate } => rate,
        NoiseLaw::Gamma { shape } => shape,
        NoiseLaw::UniformMult { half_width } => half_width,
        NoiseLaw::Mult { mu2 } => mu2,
        NoiseLaw::Add { var } => var,
    }
}

fn check_noise(noise: &Noise, input: &str) {
    if let Err(e) = noise.validate() {
        panic!("{input:?} parsed as `{noise}`, which validate() refuses: {e}");
    }
    let (a, b) = noise.affine();
    assert!(
        a.is_finite() && a >= 1.0 && b.is_finite() && b >= 0.0,
        "{input:?} parsed as `{noise}` with E[x̃²] = {a}·E[x²] + {b}"
    );
    let shown = noise.to_string();
    let back: Noise = match shown.parse() {
        Ok(n) => n,
        Err(e) => panic!("{input:?}: `{shown}` (its Display) does not parse back: {e}"),
    };
    let laws: Vec<NoiseLaw> = noise.laws().collect();
    let back_laws: Vec<NoiseLaw> = back.laws().collect();
    assert_eq!(laws.len(), back_laws.len(), "{input:?}: `{shown}`");
    for (l, r) in laws.iter().zip(&back_laws) {
        let (x, y) = (parameter(*l), parameter(*r));
        assert!(
            std::mem::discriminant(l) == std::mem::discriminant(r)
                && (x - y).abs() <= 1e-11 * x.abs().max(y.abs()),
            "{input:?}: `{l}` reads back as `{r}`"
        );
    }
    assert_eq!(
        back.to_string(),
        shown,
        "{input:?}: Display is not a fixed point"
    );
}
