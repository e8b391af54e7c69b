//! Simulation agrees with the theory on small, fast cases, and a wrong theory
//! is caught (issue 3's "Done means").
#![allow(clippy::unwrap_used)]

use noisyprop_sim::{InputClass, Precision, SimConfig, SimResult, simulate, theory, verdict};
use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

fn config(act: Activation, noise: NoiseLaw, sigma_w2: f64, q0: f64, c0: Option<f64>) -> SimConfig {
    SimConfig {
        activation: act,
        noise: Noise::from_law(noise),
        sigma_w2,
        sigma_b2: 0.0,
        width: 512,
        input_dim: 512,
        depth: 20,
        networks: 20,
        inputs: vec![InputClass {
            q0,
            c0,
            groups: 10,
            partners: if c0.is_some() { 1 } else { 0 },
        }],
        input_activation: true,
        backward: false,
        precision: Precision::F32,
        seed: 11,
        memory_limit: 200 << 20,
    }
}

fn net(cfg: &SimConfig) -> Network {
    Network::new(
        cfg.activation,
        cfg.noise.clone(),
        cfg.sigma_w2,
        cfg.sigma_b2,
    )
    .unwrap()
}

fn run(cfg: &SimConfig) -> SimResult {
    simulate(cfg, &|| {}).unwrap()
}

#[test]
fn critical_dropout_keeps_q_and_drives_c_to_c_star() {
    let cfg = config(
        Activation::Relu,
        NoiseLaw::Dropout { keep: 0.8 },
        1.6,
        1.0,
        Some(0.5),
    );
    let sim = run(&cfg);
    let th = theory(&cfg, &net(&cfg));
    let v = verdict(&sim.classes, &th, cfg.width, cfg.precision);
    assert!(v.pass, "{v:#?}");
    let layers = &sim.classes[0].layers;
    for l in &layers[1..] {
        // q stays at q⁰ = 1 within its 95 % interval (plus the finite-width allowance).
        let q = l.q;
        assert!(
            q.ci_low - 1.0 / 512f64.sqrt() <= 1.0 && 1.0 <= q.ci_high + 1.0 / 512f64.sqrt(),
            "layer {}: {q:?}",
            l.layer
        );
    }
    let c_last = layers[20].c.unwrap().mean;
    assert!((c_last - 0.4728).abs() < 0.02, "c^20 = {c_last}");
    assert!((layers[0].c.unwrap().mean - 0.5).abs() < 1e-6);
}

#[test]
fn relu_with_additive_noise_grows_linearly() {
    // σ_w² = 2, σ_ε = 1: q^l = q⁰ + 2l (spec 2.3).
    let cfg = config(
        Activation::Relu,
        NoiseLaw::GaussAdd { std: 1.0 },
        2.0,
        4.0,
        Some(0.5),
    );
    let sim = run(&cfg);
    let v = verdict(
        &sim.classes,
        &theory(&cfg, &net(&cfg)),
        cfg.width,
        cfg.precision,
    );
    assert!(v.pass, "{v:#?}");
    for l in [5usize, 10, 20] {
        let q = sim.classes[0].layers[l].q;
        let want = 4.0 + 2.0 * l as f64;
        // Within three standard errors plus the finite-width allowance.
        let band = 3.0 * q.standard_error() + want / 512f64.sqrt();
        assert!((q.mean - want).abs() < band, "layer {l}: {q:?} vs {want}");
    }
}

#[test]
fn tanh_converges_to_its_fixed_point() {
    // spec 3.1: tanh σ_w = 1 with additive N(0, 1) noise has q* = 1.464.
    let cfg = config(
        Activation::Tanh,
        NoiseLaw::GaussAdd { std: 1.0 },
        1.0,
        4.0,
        None,
    );
    let sim = run(&cfg);
    let v = verdict(
        &sim.classes,
        &theory(&cfg, &net(&cfg)),
        cfg.width,
        cfg.precision,
    );
    assert!(v.pass, "{v:#?}");
    let q = sim.classes[0].layers[20].q;
    assert!((q.mean - 1.464).abs() < 0.02, "{q:?}");
}

#[test]
fn a_wrong_theory_fails() {
    let cfg = config(
        Activation::Relu,
        NoiseLaw::Dropout { keep: 0.8 },
        1.6,
        1.0,
        Some(0.5),
    );
    let sim = run(&cfg);
    // μ₂ off by 10 %: 1.25 → 1.375.
    let wrong = Network::new(
        cfg.activation,
        Noise::from_law(NoiseLaw::Mult { mu2: 1.375 }),
        1.6,
        0.0,
    )
    .unwrap();
    let v = verdict(
        &sim.classes,
        &theory(&cfg, &wrong),
        cfg.width,
        cfg.precision,
    );
    assert!(!v.pass);
    assert!(v.failures.iter().any(|c| c.quantity == "q"));
}

#[test]
fn gradients_agree_and_checkpointing_changes_nothing() {
    let mut cfg = config(
        Activation::Relu,
        NoiseLaw::Dropout { keep: 0.8 },
        1.6,
        1.0,
        Some(0.5),
    );
    cfg.depth = 12;
    cfg.backward = true;
    let full = run(&cfg);
    let v = verdict(
        &full.classes,
        &theory(&cfg, &net(&cfg)),
        cfg.width,
        cfg.precision,
    );
    assert!(v.pass, "{v:#?}");
    let g = full.classes[0].layers[0].grad_q.unwrap();
    // Critical: the gradient's second moment is preserved (χ₁ = 1).
    assert!((g.mean - 1.0).abs() < 0.3, "{g:?}");
    // A tiny memory limit forces √L checkpoints: identical numbers.
    cfg.memory_limit = 1;
    let ckpt = run(&cfg);
    assert_eq!(format!("{:?}", full.classes), format!("{:?}", ckpt.classes));
}

#[test]
fn same_seed_same_bits_for_any_thread_count() {
    let mut cfg = config(
        Activation::Tanh,
        NoiseLaw::GaussMult { std: 0.5 },
        1.5,
        1.0,
        Some(0.3),
    );
    cfg.networks = 5;
    cfg.depth = 6;
    cfg.width = 128;
    cfg.input_dim = 64;
    cfg.backward = true;
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| run(&cfg));
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| run(&cfg));
    assert_eq!(format!("{:?}", one.classes), format!("{:?}", two.classes));
    // …and f64 agrees with f32 statistically.
    cfg.precision = Precision::F64;
    let f64run = run(&cfg);
    let (a, b) = (
        one.classes[0].layers[6].q.mean,
        f64run.classes[0].layers[6].q.mean,
    );
    assert!((a / b - 1.0).abs() < 1e-3, "{a} vs {b}");
}

#[test]
fn raw_input_convention_matches_its_theory() {
    let mut cfg = config(
        Activation::Relu,
        NoiseLaw::Dropout { keep: 0.6 },
        1.2,
        2.0,
        Some(0.9),
    );
    cfg.input_activation = false;
    cfg.input_dim = 300;
    cfg.depth = 8;
    cfg.backward = true;
    let sim = run(&cfg);
    let th = theory(&cfg, &net(&cfg));
    // First layer is linear: q¹ = σ_w² q⁰.
    assert!((th[0].q[1] - 2.4).abs() < 1e-12);
    let v = verdict(&sim.classes, &th, cfg.width, cfg.precision);
    assert!(v.pass, "{v:#?}");
}

#[test]
fn bad_configs_are_rejected() {
    let good = config(
        Activation::Relu,
        NoiseLaw::Dropout { keep: 0.8 },
        1.6,
        1.0,
        Some(0.5),
    );
    let mut c = good.clone();
    c.width = 0;
    assert!(
        simulate(&c, &|| {})
            .unwrap_err()
            .to_string()
            .contains("width = 0")
    );
    let mut c = good.clone();
    c.inputs[0].c0 = Some(1.5);
    assert!(
        simulate(&c, &|| {})
            .unwrap_err()
            .to_string()
            .contains("c0 = 1.5")
    );
    let mut c = good.clone();
    c.noise = Noise::from_law(NoiseLaw::Mult { mu2: 2.0 });
    assert!(
        simulate(&c, &|| {})
            .unwrap_err()
            .to_string()
            .contains("mult:mu2=2")
    );
    let mut c = good;
    c.sigma_w2 = f64::NAN;
    assert!(simulate(&c, &|| {}).is_err());
}
