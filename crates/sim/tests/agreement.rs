//! Simulation agrees with the theory on small, fast cases, and a wrong theory
//! is caught (issue 3's "Done means").
#![allow(clippy::unwrap_used)]

use noisyprop_sim::{
    InputClass, Precision, SimConfig, SimResult, TheoryLayers, simulate, theory, verdict,
};
use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

/// A network without bias.
fn network(act: Activation, noise: NoiseLaw, sigma_w2: f64) -> Network {
    Network::new(act, Noise::from_law(noise), sigma_w2, 0.0).unwrap()
}

/// ReLU with dropout keep 0.8 at its critical σ_w² = 2·0.8 = 1.6.
fn critical_dropout() -> Network {
    network(Activation::Relu, NoiseLaw::Dropout { keep: 0.8 }, 1.6)
}

/// The base experiment every test varies: width 512 (input too), depth 20,
/// 20 networks, one class of 10 inputs of variance `q0` (each with one partner
/// of correlation `c0` when given), φ and noise on the input, forward only,
/// f32.
fn config(network: Network, q0: f64, c0: Option<f64>) -> SimConfig {
    SimConfig {
        network,
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

fn run(cfg: &SimConfig) -> SimResult {
    simulate(cfg, &|| true).unwrap()
}

/// Runs `cfg` and asserts that it passes against the theory of `net`.
fn run_and_pass(cfg: &SimConfig, net: &Network) -> (SimResult, Vec<TheoryLayers>) {
    let sim = run(cfg);
    let th = theory(cfg, net);
    let v = verdict(&sim.classes, &th, cfg.width, cfg.precision);
    assert!(v.pass, "{v:#?}");
    (sim, th)
}

/// Runs `cfg` and asserts that it passes against its own network's theory.
fn agrees(cfg: &SimConfig) -> SimResult {
    run_and_pass(cfg, &cfg.network).0
}

#[test]
fn critical_dropout_keeps_q_and_drives_c_to_c_star() {
    let cfg = config(critical_dropout(), 1.0, Some(0.5));
    let sim = agrees(&cfg);
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
    // c* of dropout p = 0.8 at σ_w² = 1.6: spec 2.10 (docs/paper-spec.md §2.10)
    // 0.4728; crates/theory/tests/golden/depth_scales.csv (mpmath 30 digits)
    // 0.472799347213496, the root of (1/μ₂)[(c·asin c + √(1 − c²))/π + c/2] = c.
    assert!((c_last - 0.4728).abs() < 0.02, "c^20 = {c_last}");
    assert!((layers[0].c.unwrap().mean - 0.5).abs() < 1e-6);
}

#[test]
fn relu_with_additive_noise_grows_linearly() {
    // σ_w² = 2, σ_ε = 1: q^l = q⁰ + 2l (spec 2.3).
    let relu = network(Activation::Relu, NoiseLaw::GaussAdd { std: 1.0 }, 2.0);
    let sim = agrees(&config(relu, 4.0, Some(0.5)));
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
    // spec 3.1: tanh σ_w = 1 with additive N(0, 1) noise has q* = 1.464, the root
    // of q = E[tanh(√q z)²] + 1 (mpmath, 30 digits: 1.46385089110255).
    let tanh = network(Activation::Tanh, NoiseLaw::GaussAdd { std: 1.0 }, 1.0);
    let sim = agrees(&config(tanh, 4.0, None));
    let q = sim.classes[0].layers[20].q;
    assert!((q.mean - 1.464).abs() < 0.02, "{q:?}");
}

#[test]
fn a_wrong_theory_fails() {
    let cfg = config(critical_dropout(), 1.0, Some(0.5));
    let sim = run(&cfg);
    // μ₂ off by 10 %: 1.25 (= 1/keep, keep 0.8) → 1.375.
    let wrong = cfg
        .network
        .with_noise(Noise::from_law(NoiseLaw::Mult { mu2: 1.375 }))
        .unwrap();
    let v = verdict(
        &sim.classes,
        &theory(&cfg, &wrong),
        cfg.width,
        cfg.precision,
    );
    assert!(!v.pass);
    assert!(
        v.failures
            .iter()
            .any(|c| c.quantity == noisyprop_sim::Quantity::Q)
    );
}

#[test]
fn gradients_agree_and_checkpointing_changes_nothing() {
    let mut cfg = SimConfig {
        depth: 12,
        backward: true,
        ..config(critical_dropout(), 1.0, Some(0.5))
    };
    let full = agrees(&cfg);
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
    let tanh = network(Activation::Tanh, NoiseLaw::GaussMult { std: 0.5 }, 1.5);
    let mut cfg = SimConfig {
        networks: 5,
        depth: 6,
        width: 128,
        input_dim: 64,
        backward: true,
        ..config(tanh, 1.0, Some(0.3))
    };
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
    let relu = network(Activation::Relu, NoiseLaw::Dropout { keep: 0.6 }, 1.2);
    let cfg = SimConfig {
        input_activation: false,
        input_dim: 300,
        depth: 8,
        backward: true,
        ..config(relu, 2.0, Some(0.9))
    };
    let (_, th) = run_and_pass(&cfg, &cfg.network);
    // First layer is linear: q¹ = σ_w² q⁰.
    assert!((th[0].q[1] - 2.4).abs() < 1e-12);
}

#[test]
fn bad_configs_are_rejected() {
    let good = config(critical_dropout(), 1.0, Some(0.5));
    let mut c = good.clone();
    c.width = 0;
    assert!(
        simulate(&c, &|| true)
            .unwrap_err()
            .to_string()
            .contains("width = 0")
    );
    // The field that is out of range is named: no base inputs is `groups`,
    // no partners for a correlation is `partners`.
    for (edit, needle) in [
        ((0, 1), "groups = 0"),
        ((10, 0), "partners = 0"),
        ((0, 0), "groups = 0"),
    ] {
        let mut c = good.clone();
        (c.inputs[0].groups, c.inputs[0].partners) = edit;
        let err = simulate(&c, &|| true).unwrap_err().to_string();
        assert!(err.contains(needle), "{edit:?}: {err}");
    }
    let mut c = good.clone();
    c.inputs[0].c0 = Some(1.5);
    assert!(
        simulate(&c, &|| true)
            .unwrap_err()
            .to_string()
            .contains("c0 = 1.5")
    );
    // A valid network whose noise the simulator cannot sample (moments only).
    let mut c = good.clone();
    c.network = good
        .network
        .with_noise(Noise::from_law(NoiseLaw::Mult { mu2: 2.0 }))
        .unwrap();
    assert!(
        simulate(&c, &|| true)
            .unwrap_err()
            .to_string()
            .contains("mult:mu2=2")
    );
    // σ_w² and σ_b² are the network's to check: no SimConfig holds a bad one.
    let noise = good.network.noise().clone();
    for (sigma_w2, sigma_b2, name) in [
        (f64::NAN, 0.0, "sigma_w2"),
        (0.0, 0.0, "sigma_w2"),
        (f64::INFINITY, 0.0, "sigma_w2"),
        (1.6, -0.1, "sigma_b2"),
        (1.6, f64::NAN, "sigma_b2"),
    ] {
        let err = Network::new(Activation::Relu, noise.clone(), sigma_w2, sigma_b2).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
    assert!(good.network.with_sigma_w2(f64::NAN).is_err());
    assert!(good.network.with_sigma_b2(-1.0).is_err());
}

#[test]
fn intervals_stay_in_each_quantitys_range() {
    // Two narrow networks: t = 12.7 for one degree of freedom, so mean − t·SE
    // of a variance falls below 0 wherever the two networks differ by more
    // than about a sixth.
    let cfg = SimConfig {
        width: 8,
        input_dim: 8,
        depth: 10,
        networks: 2,
        backward: true,
        ..config(critical_dropout(), 1.0, Some(0.5))
    };
    let sim = run(&cfg);
    let mut clamped = 0;
    for l in &sim.classes[0].layers {
        for s in [Some(l.q), l.grad_q].into_iter().flatten() {
            assert!(
                0.0 <= s.ci_low && s.ci_low <= s.mean,
                "layer {}: {s:?}",
                l.layer
            );
            // The symmetric interval's lower end, before clamping.
            if 2.0 * s.mean - s.ci_high < 0.0 {
                clamped += 1;
                assert_eq!(s.ci_low, 0.0);
            }
        }
        for s in [l.c, l.c_pearson, l.grad_c].into_iter().flatten() {
            assert!(
                -1.0 <= s.ci_low && s.ci_high <= 1.0,
                "layer {}: {s:?}",
                l.layer
            );
        }
    }
    assert!(clamped > 0, "no interval needed clamping: {sim:?}");
}

#[test]
fn a_simulation_stops_when_its_callback_says_so() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cfg = SimConfig {
        width: 64,
        input_dim: 64,
        networks: 64,
        ..config(critical_dropout(), 1.0, Some(0.5))
    };
    // Stop after the first network.
    let calls = AtomicUsize::new(0);
    let err = simulate(&cfg, &|| {
        calls.fetch_add(1, Ordering::SeqCst);
        false
    })
    .unwrap_err();
    assert_eq!(err, noisyprop_sim::SimError::Cancelled);
    assert_eq!(err.to_string(), "stopped before it finished (interrupted)");
    // Networks already running when the stop came finish; no other starts.
    let (done, threads) = (calls.load(Ordering::SeqCst), rayon::current_num_threads());
    assert!(
        (1..=threads).contains(&done) && done < cfg.networks,
        "{done} of {} networks with {threads} threads",
        cfg.networks
    );
    // A callback that goes on changes nothing, bit for bit.
    let counted = AtomicUsize::new(0);
    let a = simulate(&cfg, &|| {
        counted.fetch_add(1, Ordering::SeqCst);
        true
    })
    .unwrap();
    assert_eq!(counted.load(Ordering::SeqCst), cfg.networks);
    assert_eq!(
        format!("{:?}", a.classes),
        format!("{:?}", run(&cfg).classes)
    );
}
