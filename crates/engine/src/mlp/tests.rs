//! Tests of the MLP against `docs/engine-semantics.md`: initialisation, the
//! forward pass and its noise draws, finite-difference gradients, training,
//! determinism.

use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

use super::*;
use crate::loss::{Loss, Target};
use crate::optim::Optimizer;
use crate::rng::fill_normal_f32;
use crate::train::Trainer;

/// Deterministic inputs in [lo, hi).
fn data(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let k = Key::new(seed).child(99);
    (0..n as u64)
        .map(|i| lo + (hi - lo) * k.uniform(i))
        .collect()
}

fn to<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

/// A network the test knows to be valid.
fn net(activation: Activation, noise: Noise, sigma_w2: f64, sigma_b2: f64) -> Network {
    Network::new(activation, noise, sigma_w2, sigma_b2).unwrap()
}

fn tiny(activation: Activation, noise: Noise) -> MlpConfig {
    MlpConfig {
        // σ_w² = 1.6; non-zero biases (σ_b² = 0.1): a row whose inputs are
        // all cut by the input ReLU would otherwise sit exactly on the kink
        // (a = 0), where central differences are meaningless.
        network: net(activation, noise, 1.6, 0.1),
        seed: 11,
        ..MlpConfig::new(4, 5, 2, 3)
    }
}

const ACTIVATIONS: [Activation; 12] = [
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.2 },
    Activation::Linear,
    Activation::Abs,
    Activation::Erf,
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Gelu,
    Activation::Silu,
    Activation::Elu { alpha: 1.3 },
    Activation::Selu,
    Activation::Softplus,
];

const LAWS: [NoiseLaw; 8] = [
    NoiseLaw::Dropout { keep: 0.7 },
    NoiseLaw::GaussMult { std: 0.5 },
    NoiseLaw::GaussAdd { std: 0.3 },
    NoiseLaw::LaplaceMult { scale: 0.4 },
    NoiseLaw::LaplaceAdd { scale: 0.3 },
    NoiseLaw::UniformMult { half_width: 0.6 },
    NoiseLaw::Poisson { rate: 3.0 },
    NoiseLaw::Gamma { shape: 2.0 },
];

/// Targets for a loss: values in [0, 1) or labels.
struct Targets {
    values: Vec<f64>,
    labels: Vec<u8>,
}

impl Targets {
    fn new(batch: usize, d_out: usize) -> Self {
        Targets {
            values: data(batch * d_out, 5, 0.0, 1.0),
            labels: (0..batch).map(|i| ((i * 7 + 1) % d_out) as u8).collect(),
        }
    }
}

/// Loss of a training forward pass at `step` (the noise draw is frozen).
#[allow(clippy::too_many_arguments)]
fn loss_at<T: Real>(
    mlp: &mut Mlp<T>,
    x: &[T],
    t: &Targets,
    tv: &[T],
    batch: usize,
    loss: Loss,
    step: u64,
    grad: Option<&mut [T]>,
) -> f64 {
    let out = mlp.forward(x, batch, true, step);
    let target = match loss {
        Loss::Mse => Target::Values(tv),
        Loss::SoftmaxCrossEntropy => Target::Labels(&t.labels),
    };
    loss.compute(out, target, batch, grad).unwrap()
}

/// Normwise relative error max|fd − analytic| / max|analytic| of the
/// gradient of every parameter, by central differences with step h.
fn grad_error<T: Real>(mut mlp: Mlp<T>, loss: Loss, batch: usize, h: f64) -> f64 {
    let c = mlp.config().clone();
    let x: Vec<T> = to(&data(batch * c.d_in, 1, -1.5, 1.5));
    let t = Targets::new(batch, c.d_out);
    let tv: Vec<T> = to(&t.values);
    let step = 3;
    let mut dl = vec![T::ZERO; batch * c.d_out];
    loss_at(&mut mlp, &x, &t, &tv, batch, loss, step, Some(&mut dl));
    mlp.backward(&dl);
    let analytic: Vec<f64> = mlp.grads().iter().map(|g| g.to_f64()).collect();
    let scale = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(scale > 0.0);
    let mut worst = 0.0f64;
    for (p, &an) in analytic.iter().enumerate() {
        let orig = mlp.params()[p];
        mlp.params_mut()[p] = T::from_f64(orig.to_f64() + h);
        let up = loss_at(&mut mlp, &x, &t, &tv, batch, loss, step, None);
        mlp.params_mut()[p] = T::from_f64(orig.to_f64() - h);
        let down = loss_at(&mut mlp, &x, &t, &tv, batch, loss, step, None);
        mlp.params_mut()[p] = orig;
        let fd = (up - down) / (2.0 * h);
        worst = worst.max((fd - an).abs());
    }
    worst / scale
}

/// f64 check: h = 1e-5 gives truncation error ~h²·|L‴| ≈ 1e-10 and rounding
/// error ~1e-16·|L|/h ≈ 1e-11 (relative), so 1e-6 leaves a wide margin; a
/// wrong backward is off by O(0.1–1).
const TOL64: f64 = 1e-6;

fn check64(cfg: MlpConfig, loss: Loss) {
    let what = format!(
        "{:?} / {} / {loss:?}",
        cfg.network.activation(),
        cfg.network.noise()
    );
    let err = grad_error(Mlp::<f64>::new(cfg).unwrap(), loss, 3, 1e-5);
    assert!(err < TOL64, "{what}: gradient error {err:e}");
}

#[test]
fn gradients_of_dense_layers() {
    check64(tiny(Activation::Linear, Noise::none()), Loss::Mse);
    let cfg = MlpConfig {
        depth: 0,
        ..tiny(Activation::Linear, Noise::none())
    };
    check64(cfg, Loss::Mse);
}

#[test]
fn gradients_of_every_activation() {
    for act in ACTIVATIONS {
        check64(tiny(act, Noise::none()), Loss::Mse);
    }
}

#[test]
fn gradients_of_every_noise_kind() {
    for law in LAWS {
        check64(tiny(Activation::Relu, Noise::from_law(law)), Loss::Mse);
        check64(tiny(Activation::Tanh, Noise::from_law(law)), Loss::Mse);
    }
    // A stack, fused in one pass, and a long stack through the sampler path.
    let stack = Noise::from_laws(&[
        NoiseLaw::Dropout { keep: 0.8 },
        NoiseLaw::GaussAdd { std: 0.2 },
        NoiseLaw::GaussMult { std: 0.3 },
    ]);
    check64(tiny(Activation::Relu, stack), Loss::Mse);
    let long = Noise::from_laws(&[NoiseLaw::GaussMult { std: 0.1 }; 5]);
    check64(tiny(Activation::Relu, long), Loss::Mse);
}

#[test]
fn gradients_of_both_losses_end_to_end() {
    let noise = Noise::from_laws(&[
        NoiseLaw::Dropout { keep: 0.75 },
        NoiseLaw::GaussAdd { std: 0.2 },
    ]);
    for loss in [Loss::Mse, Loss::SoftmaxCrossEntropy] {
        for (input_activation, input_noise) in [(true, true), (false, false), (false, true)] {
            let cfg = MlpConfig {
                depth: 3,
                output_sigma_w2: Some(0.8),
                input_activation,
                input_noise,
                ..tiny(Activation::Gelu, noise.clone())
            };
            assert_eq!(cfg.network.sigma_b2(), 0.1);
            check64(cfg, loss);
        }
        check64(
            tiny(
                Activation::Selu,
                Noise::from_law(NoiseLaw::GaussMult { std: 0.4 }),
            ),
            loss,
        );
    }
}

/// Dropping the noise factor from the backward pass (g = φ′ instead of
/// φ′·ε) must fail the same check.
#[test]
fn a_backward_without_the_noise_factor_fails_the_check() {
    for law in [
        NoiseLaw::Dropout { keep: 0.6 },
        NoiseLaw::GaussMult { std: 0.5 },
        NoiseLaw::Gamma { shape: 2.0 },
    ] {
        for act in [Activation::Relu, Activation::Tanh] {
            let cfg = tiny(act, Noise::from_law(law));
            let good = grad_error(Mlp::<f64>::new(cfg.clone()).unwrap(), Loss::Mse, 3, 1e-5);
            let mut bad = Mlp::<f64>::new(cfg).unwrap();
            bad.sabotage_noise_factor = true;
            let bad = grad_error(bad, Loss::Mse, 3, 1e-5);
            assert!(
                good < TOL64 && bad > 1e-2,
                "{law} {act}: {good:e} vs {bad:e}"
            );
        }
    }
}

/// In f32 with h = 1e-2 (parameters are O(0.1–1)): truncation ~h²·|L‴|/6
/// ≈ 1e-5 and rounding ~6e-8·|L|/h ≈ 1e-5 relative, so 2e-3 is safe; the
/// missing noise factor gives O(0.1).
#[test]
fn f32_gradients_pass_a_central_difference_check() {
    let base = tiny(
        Activation::Tanh,
        Noise::from_laws(&[
            NoiseLaw::GaussMult { std: 0.4 },
            NoiseLaw::GaussAdd { std: 0.1 },
        ]),
    );
    let cfg = MlpConfig {
        network: base.network.with_sigma_b2(0.05).unwrap(),
        ..base
    };
    let good = grad_error(Mlp::<f32>::new(cfg.clone()).unwrap(), Loss::Mse, 3, 1e-2);
    let mut bad = Mlp::<f32>::new(cfg).unwrap();
    bad.sabotage_noise_factor = true;
    let bad = grad_error(bad, Loss::Mse, 3, 1e-2);
    assert!(good < 2e-3 && bad > 2e-2, "{good:e} vs {bad:e}");
}

/// The f32 network starts from the same values as the f64 one and its
/// gradients agree to f32 accuracy (normwise 1e-5: f32 roundoff 6e-8 grown
/// over sums of ≤ 64 terms and 4 layers is ~1e-6).
#[test]
fn f32_gradients_match_the_checked_f64_gradients() {
    for (loss, noise) in [
        (Loss::Mse, Noise::from_law(NoiseLaw::Dropout { keep: 0.8 })),
        (
            Loss::SoftmaxCrossEntropy,
            Noise::from_law(NoiseLaw::GaussMult { std: 0.3 }),
        ),
    ] {
        let cfg = MlpConfig::new(20, 32, 3, 6)
            .with_network(Network::default().with_noise(noise).unwrap());
        let batch = 16;
        let x = data(batch * 20, 2, -1.0, 1.0);
        let t = Targets::new(batch, 6);
        let mut m32 = Mlp::<f32>::new(cfg.clone()).unwrap();
        let mut m64 = Mlp::<f64>::new(cfg).unwrap();
        assert!(
            m32.params()
                .iter()
                .zip(m64.params())
                .all(|(&a, &b)| a as f64 == b)
        );
        let (x32, t32) = (to::<f32>(&x), to::<f32>(&t.values));
        let mut d32 = vec![0f32; batch * 6];
        let mut d64 = vec![0f64; batch * 6];
        loss_at(&mut m32, &x32, &t, &t32, batch, loss, 7, Some(&mut d32));
        loss_at(&mut m64, &x, &t, &t.values, batch, loss, 7, Some(&mut d64));
        m32.backward(&d32);
        m64.backward(&d64);
        let scale = m64.grads().iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let err = m32
            .grads()
            .iter()
            .zip(m64.grads())
            .fold(0.0f64, |m, (&a, &b)| m.max((a as f64 - b).abs()));
        assert!(err / scale < 1e-5, "{loss:?}: {:e}", err / scale);
    }
}

#[test]
fn initial_weights_follow_the_documented_streams_and_variances() {
    let cfg = MlpConfig {
        network: Network::default().with_sigma_w2(1.5).unwrap(),
        output_sigma_w2: Some(0.7),
        seed: 42,
        ..MlpConfig::new(400, 300, 1, 200)
    };
    assert_eq!((cfg.sigma_w2(), cfg.output_sigma_w2()), (1.5, 0.7));
    let mlp = Mlp::<f32>::new(cfg.clone()).unwrap();
    assert_eq!(mlp.n_params(), 400 * 300 + 300 + 300 * 200 + 200);
    for (i, (fan_in, s2)) in [(400.0, 1.5), (300.0, 0.7)].into_iter().enumerate() {
        let w = mlp.weights(i);
        let var = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w.len() as f64;
        let want = s2 / fan_in;
        assert!(
            (var / want - 1.0).abs() < 0.03,
            "layer {i}: {var} vs {want}"
        );
        let mut stream = vec![0f32; w.len()];
        let key = Key::new(42).child(tags::WEIGHTS).child(i as u64 + 1);
        fill_normal_f32(&mut stream, (s2 / fan_in).sqrt() as f32, key);
        assert_eq!(w, &stream[..]);
        assert!(mlp.bias(i).iter().all(|&b| b == 0.0));
    }
    let with_bias = Mlp::<f32>::new(MlpConfig {
        network: cfg.network.with_sigma_b2(0.2).unwrap(),
        ..cfg
    })
    .unwrap();
    let mut stream = vec![0f32; 300];
    fill_normal_f32(
        &mut stream,
        0.2f64.sqrt() as f32,
        Key::new(42).child(tags::BIASES).child(1),
    );
    assert_eq!(with_bias.bias(0), &stream[..]);
}

#[test]
fn invalid_configurations_name_the_bad_value() {
    let ok = MlpConfig::new(3, 4, 2, 2);
    assert!(ok.validate().is_ok());
    // What `MlpConfig::validate` checks: the dimensions, the output σ_w², and
    // that the noise can be sampled.
    let bad = |c: MlpConfig| Mlp::<f32>::new(c).unwrap_err();
    assert_eq!(
        bad(MlpConfig {
            width: 0,
            ..ok.clone()
        }),
        EngineError::InvalidSize {
            what: "width",
            value: 0,
            valid: "1 .."
        }
    );
    assert!(matches!(
        bad(MlpConfig {
            d_in: 0,
            ..ok.clone()
        }),
        EngineError::InvalidSize { what: "d_in", .. }
    ));
    assert!(matches!(
        bad(MlpConfig {
            output_sigma_w2: Some(0.0),
            ..ok.clone()
        }),
        EngineError::InvalidParameter {
            what: "output_sigma_w2",
            ..
        }
    ));
    assert!(matches!(
        bad(ok.clone().with_network(
            Network::default()
                .with_noise(Noise::from_law(NoiseLaw::Mult { mu2: 2.0 }))
                .unwrap()
        )),
        EngineError::NotSamplable { .. }
    ));
    // What `Network::new` checks (a config cannot hold an invalid network):
    // σ_w², σ_b², the activation's and the noise laws' parameters.
    let rejected = |activation: Activation, noise: Noise, sigma_w2: f64, sigma_b2: f64| {
        Network::new(activation, noise, sigma_w2, sigma_b2)
            .unwrap_err()
            .to_string()
    };
    let relu = Activation::Relu;
    for s in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = rejected(relu, Noise::none(), s, 0.0);
        assert!(
            e.contains(&format!(
                "sigma_w2 = {s} is out of range; valid range is (0, inf)"
            )),
            "{e}"
        );
    }
    let e = rejected(relu, Noise::none(), 2.0, -0.1);
    assert!(
        e.contains("sigma_b2 = -0.1 is out of range; valid range is [0, inf)"),
        "{e}"
    );
    let e = rejected(
        relu,
        Noise::from_law(NoiseLaw::Dropout { keep: 0.0 }),
        2.0,
        0.0,
    );
    assert!(
        e.contains("dropout") && e.contains("keep = 0 is out of range; valid range is (0, 1]"),
        "{e}"
    );
    let e = rejected(
        relu,
        Noise::from_law(NoiseLaw::GaussMult { std: -1.0 }),
        2.0,
        0.0,
    );
    assert!(
        e.contains("gauss-mult") && e.contains("std = -1 is out of range; valid range is [0, 1e6]"),
        "{e}"
    );
    let e = rejected(Activation::Elu { alpha: -1.0 }, Noise::none(), 2.0, 0.0);
    assert!(
        e.contains("elu") && e.contains("alpha = -1 is out of range; valid range is (0, 1e6]"),
        "{e}"
    );
    let e = rejected(
        Activation::LeakyRelu { slope: f64::NAN },
        Noise::none(),
        2.0,
        0.0,
    );
    assert!(e.contains("slope = NaN is out of range"), "{e}");
}

/// The forward pass, written out from the semantics doc in f64 with naive
/// products and `NoiseSampler::apply`.
fn reference_forward(
    mlp: &Mlp<f64>,
    x: &[f64],
    batch: usize,
    train: bool,
    step: u64,
) -> Vec<Vec<f64>> {
    let c = mlp.config();
    let sampler = NoiseSampler::new(c.network.noise()).unwrap();
    let mut inputs = Vec::new();
    let mut a = x.to_vec();
    for l in 0..=c.depth + 1 {
        let n = a.len() / batch;
        if l == c.depth + 1 {
            inputs.push(a);
            break;
        }
        let mut xt: Vec<f64> = if l == 0 && !c.input_activation {
            a.clone()
        } else {
            a.iter()
                .map(|&v| act::eval(c.network.activation(), v).0)
                .collect()
        };
        if train && (l > 0 || c.input_noise) {
            let key = Key::new(c.seed)
                .child(tags::NOISE)
                .child(step)
                .child(l as u64);
            sampler.apply(key, 0, &mut xt, None);
        }
        let (w, b) = (mlp.weights(l), mlp.bias(l));
        let m = b.len();
        let mut next = vec![0.0; batch * m];
        for r in 0..batch {
            for o in 0..m {
                next[r * m + o] = b[o] + (0..n).map(|i| xt[r * n + i] * w[o * n + i]).sum::<f64>();
            }
        }
        inputs.push(xt);
        a = next;
    }
    inputs
}

#[test]
fn forward_matches_the_semantics_doc() {
    let noise = Noise::from_laws(&[
        NoiseLaw::Dropout { keep: 0.7 },
        NoiseLaw::GaussAdd { std: 0.3 },
        NoiseLaw::LaplaceMult { scale: 0.2 },
    ]);
    for (input_activation, input_noise, train) in [
        (true, true, true),
        (false, true, true),
        (true, false, true),
        (true, true, false),
    ] {
        let cfg = MlpConfig {
            network: net(Activation::Selu, noise.clone(), 2.0, 0.3),
            input_activation,
            input_noise,
            ..MlpConfig::new(7, 9, 3, 4)
        };
        let mut mlp = Mlp::<f64>::new(cfg).unwrap();
        let batch = 6;
        let x = data(batch * 7, 4, -2.0, 2.0);
        let out = mlp.forward(&x, batch, train, 17).to_vec();
        let want = reference_forward(&mlp, &x, batch, train, 17);
        for (l, want_l) in want.iter().take(4).enumerate() {
            let got = mlp.layer_input(l);
            for (g, w) in got.iter().zip(want_l) {
                assert!(
                    (g - w).abs() < 1e-12 * (1.0 + w.abs()),
                    "layer {l}: {g} vs {w}"
                );
            }
        }
        for (g, w) in out.iter().zip(&want[4]) {
            assert!((g - w).abs() < 1e-12 * (1.0 + w.abs()));
        }
    }
}

/// The fused activation + bias + noise pass draws exactly (bit for bit)
/// what φ followed by `NoiseSampler::apply` draws, and its backward factor
/// is φ′ times the sampler's factor — with rows split across threads.
#[test]
fn fused_pass_is_bit_identical_to_the_noise_sampler() {
    let mut stacks: Vec<Noise> = LAWS.iter().map(|&l| Noise::from_law(l)).collect();
    stacks.push(Noise::from_laws(&[
        NoiseLaw::GaussMult { std: 0.3 },
        NoiseLaw::Dropout { keep: 0.9 },
        NoiseLaw::GaussAdd { std: 0.5 },
    ]));
    stacks.push(Noise::none());
    for noise in stacks {
        for act in [Activation::Relu, Activation::Gelu] {
            for threads in [Threads::One, Threads::Many(2)] {
                let (d_in, width, batch) = (30, 65, 300);
                let cfg = MlpConfig::new(d_in, width, 2, 3).with_network(net(
                    act,
                    noise.clone(),
                    2.0,
                    0.1,
                ));
                let sampler = NoiseSampler::new(cfg.network.noise()).unwrap();
                let mut mlp = Mlp::<f32>::new(cfg).unwrap();
                mlp.set_threads(threads);
                let x: Vec<f32> = to(&data(batch * d_in, 8, -1.0, 1.0));
                mlp.forward(&x, batch, true, 5);
                let key = |l: u64| {
                    Key::new(mlp.config().seed)
                        .child(tags::NOISE)
                        .child(5)
                        .child(l)
                };
                let mut x0: Vec<f32> = x.iter().map(|&v| act::eval(act, v).0).collect();
                sampler.apply(key(0), 0, &mut x0, None);
                assert!(bits_equal(&x0, mlp.layer_input(0)), "{noise} {act}: input");
                for l in 1..=2usize {
                    let mut pre = vec![0f32; batch * width];
                    let n_in = mlp.layers()[l - 1].n_in;
                    gemm_nt(
                        batch,
                        width,
                        n_in,
                        &mut pre,
                        mlp.layer_input(l - 1),
                        mlp.weights(l - 1),
                        1.0,
                        0.0,
                        threads,
                    );
                    let b = mlp.bias(l - 1);
                    let (mut xt, mut d) = (vec![0f32; pre.len()], vec![0f32; pre.len()]);
                    for i in 0..pre.len() {
                        (xt[i], d[i]) = act::eval(act, pre[i] + b[i % width]);
                    }
                    let mut factor = vec![0f32; pre.len()];
                    sampler.apply(key(l as u64), 0, &mut xt, Some(&mut factor));
                    for (d, f) in d.iter_mut().zip(&factor) {
                        *d *= f;
                    }
                    assert!(
                        bits_equal(&xt, mlp.layer_input(l)),
                        "{noise} {act}: layer {l}"
                    );
                    assert!(
                        bits_equal(&d, mlp.backward_factor(l)),
                        "{noise} {act}: g{l}"
                    );
                }
            }
        }
    }
}

fn bits_equal(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn evaluation_has_no_noise_and_rows_keep_their_draws_across_batch_sizes() {
    let noisy = MlpConfig::new(10, 16, 2, 4).with_network(
        Network::default()
            .with_noise(Noise::from_law(NoiseLaw::Dropout { keep: 0.5 }))
            .unwrap(),
    );
    let clean = MlpConfig {
        network: noisy.network.with_noise(Noise::none()).unwrap(),
        ..noisy.clone()
    };
    let x: Vec<f32> = to(&data(8 * 10, 3, 0.0, 1.0));
    let mut a = Mlp::<f32>::new(noisy).unwrap();
    let mut b = Mlp::<f32>::new(clean).unwrap();
    let eval = a.forward(&x, 8, false, 9).to_vec();
    assert!(bits_equal(&eval, b.forward(&x, 8, true, 9)));
    let train = a.forward(&x, 8, true, 9).to_vec();
    assert!(!bits_equal(&eval, &train));
    // A smaller batch (e.g. the last one of an epoch) reuses the
    // workspaces, and each row keeps its draw: counter b·n + j.
    let small = a.forward(&x[..5 * 10], 5, true, 9).to_vec();
    assert!(bits_equal(&small, &train[..5 * 4]));
    assert_eq!(a.capacity, 8);
    // Another step draws other noise.
    assert!(!bits_equal(&train, a.forward(&x, 8, true, 10)));
}

fn autoencoder_data(n: usize, d: usize) -> Vec<f32> {
    // Non-negative data on a 3-dimensional subspace.
    let z = data(n * 3, 21, -1.0, 1.0);
    let a = data(3 * d, 22, -1.0, 1.0);
    (0..n * d)
        .map(|i| {
            let (r, j) = (i / d, i % d);
            let v: f64 = (0..3).map(|k| z[r * 3 + k] * a[k * d + j]).sum();
            (0.5 + 0.3 * v) as f32
        })
        .collect()
}

#[test]
fn reconstruction_loss_goes_down_with_sgd_and_adam() {
    let (n, d, batch) = (256, 16, 32);
    let x = autoencoder_data(n, d);
    let cfg = MlpConfig::new(d, 32, 2, d).with_network(net(
        Activation::Relu,
        Noise::from_law(NoiseLaw::Dropout { keep: 0.9 }),
        2.0 * 0.9,
        0.0,
    ));
    for opt in [
        Optimizer::sgd(0.05, 0.0).unwrap(),
        Optimizer::sgd(0.02, 0.9).unwrap(),
        Optimizer::adam(3e-3).unwrap(),
    ] {
        let name = format!("{opt:?}").chars().take(40).collect::<String>();
        let mut tr = Trainer::new(Mlp::<f32>::new(cfg.clone()).unwrap(), Loss::Mse, opt);
        let before = tr.evaluate(&x, Target::Values(&x), n).unwrap().loss;
        let mut step = 0;
        for _epoch in 0..40 {
            for xb in x.chunks(batch * d) {
                let l = tr.train_step(xb, Target::Values(xb), batch, step).unwrap();
                assert!(l.is_finite());
                step += 1;
            }
        }
        let after = tr.evaluate(&x, Target::Values(&x), n).unwrap().loss;
        assert!(after < 0.3 * before, "{name}: {before} → {after}");
    }
}

#[test]
fn classification_accuracy_rises_with_cross_entropy() {
    let (n, d, classes) = (240, 8, 3);
    let x: Vec<f32> = to(&data(n * d, 30, -1.0, 1.0));
    // Label = argmax of three fixed linear scores.
    let w = data(classes * d, 31, -1.0, 1.0);
    let labels: Vec<u8> = x
        .chunks(d)
        .map(|r| {
            let s: Vec<f64> = (0..classes)
                .map(|c| (0..d).map(|j| r[j] as f64 * w[c * d + j]).sum())
                .collect();
            (0..classes).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap() as u8
        })
        .collect();
    let cfg = MlpConfig {
        input_activation: false,
        ..MlpConfig::new(d, 32, 2, classes)
    };
    let mut tr = Trainer::new(
        Mlp::<f32>::new(cfg).unwrap(),
        Loss::SoftmaxCrossEntropy,
        Optimizer::adam(1e-2).unwrap(),
    );
    let before = tr.evaluate(&x, Target::Labels(&labels), n).unwrap();
    for step in 0..150 {
        tr.train_step(&x, Target::Labels(&labels), n, step).unwrap();
    }
    let after = tr.evaluate(&x, Target::Labels(&labels), n).unwrap();
    assert!(after.loss < 0.5 * before.loss, "{before:?} → {after:?}");
    assert!(after.accuracy.unwrap() > 0.9, "{after:?}");
    assert!(matches!(
        tr.train_step(&x, Target::Labels(&labels[1..]), n, 0),
        Err(EngineError::LengthMismatch { .. })
    ));
}

fn run(
    cfg: &MlpConfig,
    opt: Optimizer<f32>,
    threads: Threads,
    fused: bool,
    steps: u64,
) -> (Vec<f64>, Vec<f32>) {
    let (batch, d) = (128, cfg.d_in);
    let x = autoencoder_data(batch * 2, d);
    let mut tr = Trainer::new(Mlp::<f32>::new(cfg.clone()).unwrap(), Loss::Mse, opt);
    tr.set_threads(threads);
    tr.set_fused_sgd(fused);
    let mut losses = Vec::new();
    for step in 0..steps {
        let xb = &x[(step as usize % 2) * batch * d..][..batch * d];
        let y = &xb[..batch * cfg.d_out];
        losses.push(tr.train_step(xb, Target::Values(y), batch, step).unwrap());
    }
    (losses, tr.mlp().params().to_vec())
}

fn big_config(seed: u64) -> MlpConfig {
    MlpConfig {
        network: net(
            Activation::Relu,
            Noise::from_laws(&[
                NoiseLaw::Dropout { keep: 0.8 },
                NoiseLaw::GaussAdd { std: 0.1 },
            ]),
            1.6,
            0.01,
        ),
        seed,
        ..MlpConfig::new(100, 384, 3, 100)
    }
}

#[test]
fn training_is_bit_identical_for_one_or_two_threads() {
    let cfg = big_config(1);
    for opt in [
        Optimizer::sgd(0.01, 0.0).unwrap(),
        Optimizer::adam(1e-3).unwrap(),
    ] {
        let (l1, p1) = run(&cfg, opt.clone(), Threads::One, true, 3);
        let (l2, p2) = run(&cfg, opt, Threads::Many(2), true, 3);
        assert_eq!(l1, l2);
        assert!(bits_equal(&p1, &p2));
    }
}

#[test]
fn same_seed_same_parameters_and_fused_sgd_matches_the_plain_update() {
    let cfg = big_config(7);
    let sgd = Optimizer::sgd(0.01, 0.0).unwrap();
    let (la, pa) = run(&cfg, sgd.clone(), Threads::One, true, 4);
    let (lb, pb) = run(&cfg, sgd.clone(), Threads::One, true, 4);
    assert_eq!(la, lb);
    assert!(bits_equal(&pa, &pb));
    let (_, pc) = run(&big_config(8), sgd.clone(), Threads::One, true, 4);
    assert!(!bits_equal(&pa, &pc));
    // Unfused: backward fills the gradients, then w ← w − lr·g.
    let (lu, pu) = run(&cfg, sgd, Threads::One, false, 4);
    let scale = pu.iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = pa
        .iter()
        .zip(&pu)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff < 1e-5 * scale, "fused vs plain: {diff}");
    assert!((la[3] - lu[3]).abs() < 1e-5 * la[3]);
}

#[test]
fn a_grid_trains_each_network_as_if_alone() {
    let configs: Vec<MlpConfig> = [0.5, 0.8, 1.0]
        .iter()
        .map(|&keep| {
            MlpConfig::new(16, 48, 3, 16).with_network(net(
                Activation::Relu,
                Noise::from_law(NoiseLaw::Dropout { keep }),
                2.0 * keep,
                0.0,
            ))
        })
        .collect();
    let make = |c: &MlpConfig| {
        Trainer::new(
            Mlp::<f32>::new(c.clone()).unwrap(),
            Loss::Mse,
            Optimizer::sgd(0.05, 0.0).unwrap(),
        )
    };
    let mut grid = crate::group::TrainerGroup::single_threaded(configs.iter().map(make).collect());
    let x = autoencoder_data(64, 16);
    let mut alone: Vec<_> = configs.iter().map(make).collect();
    for t in &mut alone {
        t.set_threads(Threads::Many(2));
    }
    for step in 0..3 {
        let losses = grid.train_step(&x, Target::Values(&x), 64, step);
        for (l, t) in losses.iter().zip(&mut alone) {
            let want = t.train_step(&x, Target::Values(&x), 64, step).unwrap();
            assert_eq!(*l.as_ref().unwrap(), want);
        }
    }
    for (g, a) in grid.trainers().iter().zip(&alone) {
        assert!(bits_equal(g.mlp().params(), a.mlp().params()));
    }
    let evals = grid.evaluate(&x, Target::Values(&x), 64);
    assert_eq!(evals.len(), 3);
}
