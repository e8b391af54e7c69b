//! The CUDA backend (feature `cuda`): dense noisy MLPs trained on an NVIDIA GPU with
//! cuBLAS products and NVRTC-compiled element-wise kernels, computing what the CPU engine
//! computes (docs/engine-semantics.md) up to floating-point tolerance.
//!
//! Built on `cudarc` with **dynamic loading**: nothing of CUDA is needed to build, and
//! `libcuda.so.1`, `libnvrtc.so.13` and `libcublas.so.13` are opened at run time. On a
//! machine without them every entry point returns [`CudaError::Unavailable`] (the
//! libraries and their symbols are probed before cudarc is touched, since cudarc panics on
//! a missing library; remaining panics inside cudarc are caught and returned as
//! [`CudaError::Panic`]).
//!
//! # API
//!
//! | item | what |
//! |---|---|
//! | [`available`] | can the backend run here? `Err(reason)` otherwise |
//! | [`Device::new`] | context, stream, cuBLAS handle, kernels compiled by NVRTC |
//! | `Device::emulated` | (feature `cuda-emulator`) CPU emulator of the device for tests, slow |
//! | [`GpuGrid`] | G networks of one shape (differing in seed, noise, init) trained on the same batches |
//! | [`GridConfig`], [`NetSpec`], [`NetParams`], [`Precision`] | its set-up (optimiser and loss in the CPU engine's terms: [`crate::optim::OptimizerConfig`], [`crate::loss::Loss`]); [`init_params`] is the CPU initialisation |
//! | [`crate::gpu_support`] | what the kernels implement (also without this feature) |
//!
//! GPU test and bench tooling is behind the feature `gpu-tools`: `PaperGrid` (one
//! [`GpuGrid`] per depth, one network per keep probability), `paper_grid_throughput`
//! (grid-steps per second of a Fig. 6 grid on synthetic data, with a per-[`Phase`]
//! profile), and `parity`, `parity_reference`, `parity_with` (CPU-vs-GPU comparison of a
//! few training steps against the engine's `Trainer`, the minimal `ReferenceNet`, or any
//! `CpuTrainer`).
//!
//! A training loop (the paper's recipe at depth 10, one network per keep probability,
//! data on the device):
//!
//! ```no_run
//! # use noisyprop_engine::cuda::*;
//! # fn run(train: &[f32], val: &[f32]) -> Result<(), CudaError> {
//! let dev = Device::new(0)?;
//! let cfg = GridConfig::paper(10, Precision::Tf32);
//! let nets = [0.5, 0.9, 1.0]
//!     .iter()
//!     .map(|&keep| NetSpec::critical_dropout(keep, 7))
//!     .collect::<Result<Vec<_>, _>>()?;
//! let mut grid = GpuGrid::new(&dev, cfg, &nets)?;
//! let train = dev.upload_matrix(train, 784)?;
//! let val = dev.upload_matrix(val, 784)?;
//! for _epoch in 0..200 {
//!     for row0 in (0..train.rows()).step_by(128) {
//!         let rows = (train.rows() - row0).min(128);
//!         grid.load_batch_device(&train, None, row0, rows)?; // targets = inputs
//!         grid.step()?;
//!     }
//!     let train_losses = grid.take_train_losses()?; // [step][network]
//!     for row0 in (0..val.rows()).step_by(128) {
//!         grid.load_batch_device(&val, None, row0, (val.rows() - row0).min(128))?;
//!         grid.eval_batch()?;
//!     }
//!     let val_losses = grid.take_eval_losses()?; // [network]
//! #   let _ = (train_losses, val_losses);
//! }
//! # Ok(()) }
//! ```
//!
//! # What runs on the device
//!
//! Per training step of a [`GpuGrid`] (G networks, L = depth + 1 weight matrices):
//!
//! * `np_step_keys`: the noise keys `Key::new(seed).child(NOISE).child(t).child(l).child(s)`
//!   of all networks, layers and stages, from a step counter **kept on the device** (so a
//!   captured step can be replayed as is).
//! * Forward: `np_input` (φ + noise on the raw input, per network), then per layer one
//!   strided-batched GEMM over the G networks (`cublasGemmStridedBatchedEx`) and one fused
//!   kernel `np_hidden`: bias add + φ + noise (dropout, Gaussian mult/add, the exact
//!   counter-based RNG of `rng.rs`), writing x̃ (in the product operand type) and the
//!   backward factor φ′(a)·ε (fp32).
//! * MSE: `np_mse`: output bias add + MSE gradient + per-block loss partial sums;
//!   `np_loss` reduces them per network into a device-side loss history. Softmax
//!   cross-entropy: `np_xent` (one block per network, per-row log-sum-exp in double):
//!   gradient, loss and accuracy (hit rate) into the histories.
//! * Adam only: `np_adam_step` advances the update count t on the device and computes the
//!   bias corrections 1 − βᵗ (binary powering in double, as `optim::powi`).
//! * Backward per layer: GEMM δ·W (pre-update weights); the weight gradient and plain-SGD
//!   update **fused into one GEMM** (`W ← W − lr·δᵀx̃`, β = 1; with momentum or Adam the
//!   gradient goes to a scratch buffer and `np_weight_update` applies the optimiser);
//!   `np_bias_update`: bias gradient reduction + update; `np_backward`:
//!   δ ← (δ·W) ⊙ φ′ ⊙ ε.
//! * bf16 only: `np_to_bf16` refreshes the bf16 copy of the fp32 master weights.
//!
//! # Synchronisation and CUDA graphs
//!
//! Everything goes to one stream; a step never waits for the device. Losses stay on the
//! device (`loss_history` steps) and are read back by [`GpuGrid::take_train_losses`] (or
//! automatically when the history is full): one synchronisation per read-back. With
//! `use_graphs` (default) the first step of a batch size runs directly, the second is
//! captured with `cuStreamBeginCapture` (thread-local mode) and every later step of that
//! batch size is one `cuGraphLaunch`; a capture failure falls back to direct launches and
//! is reported by [`GpuGrid::graph_status`]. Batches come from device matrices
//! ([`Device::upload_matrix`], [`GpuGrid::load_batch_device`]) by an asynchronous
//! device-to-device copy outside the graph; [`GpuGrid::load_batch`] from host memory
//! synchronises.
//!
//! # Testing without a GPU
//!
//! The tests run every device test twice where possible: on the GPU (device 0) and on a
//! CPU emulator of the device (test builds, and `Device::emulated` under the feature
//! `cuda-emulator` for the tests of other crates): the kernels of [`KERNELS_CU`] compiled
//! as C++ by the host compiler (threads of a synchronising block as coroutines), launched
//! through the same argument array `cuLaunchKernel` receives with every argument's size
//! checked against the kernel's signature, and the GEMMs as loops with cuBLAS's
//! column-major strided-batched semantics (TF32 operand rounding included, every operand
//! range checked against the allocations). Graph capture is emulated by recording and
//! replaying the launches. Without a GPU (or a C++ compiler) that part of a test is
//! skipped with a note.
//!
//! # Precision
//!
//! [`Precision::Fp32`] (pedantic fp32 GEMMs, no TF32), [`Precision::Tf32`] (fp32 storage,
//! TF32 tensor cores), [`Precision::Bf16`] (bf16 operands, fp32 accumulation, fp32 master
//! weights updated in place by the fused GEMM). Element-wise work is fp32 in all three and
//! the kernels are compiled with `--fmad=false` so that, e.g., `1 + std·z` rounds as on the
//! CPU.

mod calls;
mod device;
#[cfg(any(test, feature = "cuda-emulator"))]
mod emu;
mod error;
mod grid;
mod kernels;
#[cfg(any(test, feature = "gpu-tools"))]
mod paper;
#[cfg(any(test, feature = "gpu-tools"))]
mod parity;
#[cfg(any(test, feature = "gpu-tools"))]
mod reference;

pub use device::{Device, DeviceMatrix, Phase, available};
pub use error::CudaError;
pub use grid::{GpuGrid, GridConfig, NetParams, NetSpec, Precision, init_params};
pub use kernels::{KERNELS_CU, rng_block};
#[cfg(any(test, feature = "gpu-tools"))]
pub use paper::{PaperGrid, Throughput, paper_grid_throughput, paper_seed};
#[cfg(any(test, feature = "gpu-tools"))]
pub use parity::{
    ParityConfig, ParityReport, parity, parity_reference, parity_tolerances, parity_with,
};
#[cfg(any(test, feature = "gpu-tools"))]
pub use reference::{CpuTrainer, EngineTrainer, ReferenceNet};

/// The devices a test runs on: the GPU (device 0) when there is one, and the CPU emulator
/// of the kernels and GEMMs when a C++ compiler is installed; a note for each one missing.
#[cfg(test)]
pub(crate) fn test_devices() -> Vec<(&'static str, std::sync::Arc<Device>)> {
    let mut out = Vec::new();
    match Device::new(0) {
        Ok(d) => out.push(("gpu", d)),
        Err(e) => eprintln!("note: skipping the GPU run of this test: {e}"),
    }
    match Device::emulated() {
        Ok(d) => out.push(("emulator", d)),
        Err(CudaError::Unavailable(e)) => {
            eprintln!("note: skipping the emulated run of this test: {e}");
        }
        Err(e) => panic!("{e}"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use crate::optim::OptimizerConfig;
    use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

    /// Without a GPU the probe fails with a reason and nothing panics.
    #[test]
    fn probe_reports_a_reason_or_a_device() {
        match available() {
            Ok(()) => {
                let dev = Device::new(0).expect("available() said yes");
                eprintln!(
                    "note: CUDA device {} {:?}",
                    dev.name(),
                    dev.compute_capability()
                );
            }
            Err(reason) => {
                assert!(!reason.is_empty());
                eprintln!("note: CUDA not available: {reason}");
                assert!(matches!(Device::new(0), Err(CudaError::Unavailable(_))));
            }
        }
    }

    #[test]
    fn config_checks_do_not_need_a_gpu() {
        assert_eq!("TF32".parse::<Precision>().unwrap(), Precision::Tf32);
        assert!("fp16".parse::<Precision>().is_err());
        let cfg = GridConfig::paper(3, Precision::Bf16);
        assert_eq!(cfg.dims(), vec![784, 1000, 1000, 1000, 784]);
        // init_params is the documented stream: W^l from child(WEIGHTS).child(l).
        let spec = NetSpec::critical_dropout(0.5, 9).unwrap();
        let p = init_params(&[3, 4, 2], &spec);
        let mut w1 = vec![0f32; 12];
        crate::rng::fill_normal_f32(
            &mut w1,
            (1.0f64 / 3.0).sqrt() as f32,
            crate::rng::Key::new(9)
                .child(crate::rng::tags::WEIGHTS)
                .child(1),
        );
        assert_eq!(p.weights[0], w1);
        assert_eq!(p.biases[1], vec![0.0; 2]);
        assert_eq!(p.weights[1].len(), 8);
    }

    /// The GPU (and the emulator) match the engine's CPU trainer in every precision, with
    /// ReLU (the paper's φ) and tanh.
    #[test]
    fn device_parity_all_precisions() {
        for (what, dev) in test_devices() {
            for p in Precision::ALL {
                for base in [
                    ParityConfig::default(),
                    ParityConfig::smooth(),
                    ParityConfig::adam(),
                    ParityConfig::classification(),
                ] {
                    let cfg = if what == "gpu" {
                        base
                    } else {
                        // Smaller for the emulator (one OS thread per CUDA thread in reductions).
                        ParityConfig {
                            d_in: 200,
                            width: 48,
                            ..base
                        }
                    };
                    let r = parity(&dev, &cfg, p).unwrap();
                    eprintln!("{what}: {}", r.to_json());
                    assert!(r.passed, "{what}: {}", r.to_json());
                    assert_eq!(r.graphs, Ok(true), "{what}");
                    assert_eq!(r.gpu_losses.len(), cfg.steps);
                }
            }
            let small = ParityConfig {
                d_in: 100,
                ..ParityConfig::default()
            };
            let r = parity_reference(&dev, &small, Precision::Fp32).unwrap();
            assert!(r.passed, "{what}: {}", r.to_json());
        }
    }

    /// Gaussian noise stacks, tanh, momentum, a partial batch and graph replay against
    /// direct launches (skips without a GPU).
    #[test]
    fn device_noise_stacks_momentum_and_graphs() {
        for (what, dev) in test_devices() {
            eprintln!("{what}");
            noise_stacks_momentum_and_graphs(&dev);
        }
    }

    fn noise_stacks_momentum_and_graphs(dev: &std::sync::Arc<Device>) {
        let cfg = GridConfig {
            d_in: 40,
            width: 48,
            depth: 2,
            d_out: 40,
            batch: 12,
            input_activation: false,
            input_noise: true,
            optimizer: OptimizerConfig::Sgd {
                lr: 0.2,
                momentum: 0.5,
            },
            loss: Loss::Mse,
            precision: Precision::Fp32,
            use_graphs: true,
            loss_history: 3,
            first_step: 5,
        };
        let tanh = |noise, sigma_w2, sigma_b2| {
            Network::new(Activation::Tanh, noise, sigma_w2, sigma_b2).unwrap()
        };
        let nets = vec![
            NetSpec {
                sigma_w2_out: Some(1.0),
                ..NetSpec::new(
                    tanh(
                        Noise::from_laws(&[
                            NoiseLaw::Dropout { keep: 0.7 },
                            NoiseLaw::GaussAdd { std: 0.3 },
                        ]),
                        1.2,
                        0.05,
                    ),
                    1,
                )
            },
            NetSpec::new(
                tanh(Noise::from_law(NoiseLaw::GaussMult { std: 0.4 }), 1.0, 0.0),
                2,
            ),
        ];
        let dims = cfg.dims();
        let p0: Vec<NetParams> = nets.iter().map(|n| init_params(&dims, n)).collect();
        let mut cpus: Vec<ReferenceNet> = nets
            .iter()
            .zip(&p0)
            .map(|(n, p)| ReferenceNet::new(&cfg, n, p.clone()).unwrap())
            .collect();
        let mut graphed = GpuGrid::with_params(dev, cfg.clone(), &nets, &p0).unwrap();
        let direct_cfg = GridConfig {
            use_graphs: false,
            ..cfg.clone()
        };
        let mut direct = GpuGrid::with_params(dev, direct_cfg, &nets, &p0).unwrap();
        let k = crate::rng::Key::new(77);
        let mut cpu_losses = Vec::new();
        for t in 0..7u64 {
            let rows = if t == 4 { 7 } else { 12 };
            let x: Vec<f32> = (0..(rows * 40) as u64)
                .map(|i| k.child(t).uniform(i) as f32 - 0.3)
                .collect();
            cpu_losses.push(
                cpus.iter_mut()
                    .map(|c| c.train_step(&x, &x, rows).unwrap())
                    .collect::<Vec<_>>(),
            );
            for g in [&mut graphed, &mut direct] {
                g.load_batch(&x, None, rows).unwrap();
                g.step().unwrap();
            }
        }
        assert_eq!(graphed.graph_status(), Ok(true));
        let lg = graphed.take_train_losses().unwrap();
        let ld = direct.take_train_losses().unwrap();
        assert_eq!(
            lg, ld,
            "graph replay must equal direct launches bit for bit"
        );
        assert_eq!(lg.len(), 7);
        for (c, g) in cpu_losses.iter().zip(&lg) {
            for (c, g) in c.iter().zip(g) {
                assert!((c - g).abs() <= 1e-4 * c.abs(), "loss {c} vs {g}");
            }
        }
        let pc: Vec<NetParams> = cpus.iter().map(CpuTrainer::params).collect();
        let pg = graphed.params().unwrap();
        assert_eq!(pg, direct.params().unwrap());
        for ((a, c), g) in p0.iter().zip(&pc).zip(&pg) {
            for l in 0..a.weights.len() {
                let e = parity::update_rel_err(&a.weights[l], &c.weights[l], &g.weights[l]);
                assert!(e < 1e-4, "layer {l} weights: {e}");
                let e = parity::update_rel_err(&a.biases[l], &c.biases[l], &g.biases[l]);
                assert!(e < 1e-4, "layer {l} biases: {e}");
            }
        }
        // Noise-free evaluation equals a CPU forward without noise: the loss of a
        // noise-free network with lr = 0 on the same batch.
        let x: Vec<f32> = (0..480u64).map(|i| k.uniform(i) as f32).collect();
        graphed.load_batch(&x, None, 12).unwrap();
        graphed.eval_batch().unwrap();
        let eval = graphed.take_eval_losses().unwrap();
        for (i, n) in nets.iter().enumerate() {
            let quiet = NetSpec {
                network: n.network.with_noise(Noise::none()).unwrap(),
                ..n.clone()
            };
            let frozen = GridConfig {
                optimizer: OptimizerConfig::sgd(0.0),
                loss: Loss::Mse,
                ..cfg.clone()
            };
            let mut r = ReferenceNet::new(&frozen, &quiet, pg[i].clone()).unwrap();
            let want = r.train_step(&x, &x, 12).unwrap();
            assert!(
                (eval[i] - f64::from(want)).abs() <= 1e-4 * f64::from(want),
                "{i}"
            );
        }
    }

    /// A profiled step is an ordinary step (same losses and parameters as `step`, the
    /// step counter advanced) whose device time is reported per phase: every phase of an
    /// SGD step on a GPU, nothing on the emulator.
    #[test]
    fn device_profile_step_is_a_step() {
        for (what, dev) in test_devices() {
            let cfg = GridConfig {
                d_in: 24,
                width: 16,
                depth: 2,
                d_out: 24,
                batch: 8,
                use_graphs: false,
                ..GridConfig::paper(0, Precision::Bf16)
            };
            let nets = [
                NetSpec::critical_dropout(0.6, 1).unwrap(),
                NetSpec::critical_dropout(1.0, 2).unwrap(),
            ];
            let mut plain = GpuGrid::new(&dev, cfg.clone(), &nets).unwrap();
            let mut profiled = GpuGrid::new(&dev, cfg, &nets).unwrap();
            let x: Vec<f32> = (0..8 * 24).map(|i| (i % 5) as f32 / 5.0).collect();
            for t in 0..3u64 {
                plain.load_batch(&x, None, 8).unwrap();
                plain.step().unwrap();
                profiled.load_batch(&x, None, 8).unwrap();
                let phases = profiled.profile_step().unwrap();
                assert_eq!(profiled.step_index(), t + 1);
                if what == "gpu" {
                    for p in [
                        Phase::NoiseKeys,
                        Phase::ForwardProducts,
                        Phase::ForwardElementwise,
                        Phase::Loss,
                        Phase::InputGradProducts,
                        Phase::WeightProducts,
                        Phase::BiasUpdate,
                        Phase::BackwardElementwise,
                        Phase::Bf16Copy,
                    ] {
                        assert!(phases.iter().any(|&(q, ms)| q == p && ms > 0.0), "{p:?}");
                    }
                } else {
                    assert!(phases.is_empty(), "{phases:?}");
                }
            }
            assert_eq!(
                plain.take_train_losses().unwrap(),
                profiled.take_train_losses().unwrap(),
                "{what}"
            );
            assert_eq!(
                plain.params().unwrap(),
                profiled.params().unwrap(),
                "{what}"
            );
        }
    }

    /// Explicit targets (d_out ≠ d_in), device-resident batches, and switching between
    /// reconstruction and explicit targets under graph replay.
    #[test]
    fn device_explicit_targets() {
        for (what, dev) in test_devices() {
            let cfg = GridConfig {
                d_in: 30,
                width: 20,
                depth: 2,
                d_out: 30,
                batch: 8,
                input_activation: true,
                input_noise: true,
                optimizer: OptimizerConfig::sgd(0.3),
                loss: Loss::Mse,
                precision: Precision::Fp32,
                use_graphs: true,
                loss_history: 16,
                first_step: 0,
            };
            let nets = vec![
                NetSpec::critical_dropout(0.7, 4).unwrap(),
                NetSpec::critical_dropout(0.9, 5).unwrap(),
            ];
            let p0: Vec<NetParams> = nets.iter().map(|n| init_params(&cfg.dims(), n)).collect();
            let mut cpus: Vec<ReferenceNet> = nets
                .iter()
                .zip(&p0)
                .map(|(n, p)| ReferenceNet::new(&cfg, n, p.clone()).unwrap())
                .collect();
            let mut grid = GpuGrid::with_params(&dev, cfg.clone(), &nets, &p0).unwrap();
            let k = crate::rng::Key::new(8);
            let xs: Vec<f32> = (0..64 * 30).map(|i| k.uniform(i) as f32).collect();
            let ys: Vec<f32> = (0..64 * 30).map(|i| k.child(1).uniform(i) as f32).collect();
            let (xm, ym) = (
                dev.upload_matrix(&xs, 30).unwrap(),
                dev.upload_matrix(&ys, 30).unwrap(),
            );
            let mut want = Vec::new();
            for t in 0..8usize {
                let explicit = t % 3 != 0;
                let r0 = (t % 8) * 8;
                let x = &xs[r0 * 30..(r0 + 8) * 30];
                let y = if explicit {
                    &ys[r0 * 30..(r0 + 8) * 30]
                } else {
                    x
                };
                want.push(
                    cpus.iter_mut()
                        .map(|c| c.train_step(x, y, 8).unwrap())
                        .collect::<Vec<_>>(),
                );
                grid.load_batch_device(&xm, explicit.then_some(&ym), r0, 8)
                    .unwrap();
                grid.step().unwrap();
            }
            assert_eq!(grid.graph_status(), Ok(true), "{what}");
            let got = grid.take_train_losses().unwrap();
            for (w, g) in want.iter().zip(&got) {
                for (w, g) in w.iter().zip(g) {
                    assert!((w - g).abs() <= 1e-5 * w.abs(), "{what}: {w} vs {g}");
                }
            }
            // d_out ≠ d_in needs targets.
            let narrow = GridConfig {
                d_out: 10,
                ..cfg.clone()
            };
            let mut g2 = GpuGrid::new(&dev, narrow, &nets).unwrap();
            assert!(g2.load_batch(&xs[..240], None, 8).is_err());
            g2.load_batch(&xs[..240], Some(&ys[..80]), 8).unwrap();
            g2.step().unwrap();
            assert!(
                g2.take_train_losses().unwrap()[0]
                    .iter()
                    .all(|v| v.is_finite())
            );
        }
    }

    /// A small paper-shaped grid steps, evaluates and reports finite losses; its first
    /// step equals a lone grid's (the grids of a paper grid are independent): bit for bit
    /// on the emulator, to rounding on a GPU.
    #[test]
    fn device_paper_grid_smoke() {
        for (what, dev) in test_devices() {
            for p in Precision::ALL {
                let base = GridConfig {
                    width: 32,
                    batch: 16,
                    ..GridConfig::paper(0, p)
                };
                let mut grid =
                    PaperGrid::new(&dev, &base, &[1, 3], &[0.5, 1.0], paper_seed).unwrap();
                assert_eq!(grid.networks(), 4);
                let data: Vec<f32> = (0..32 * 784).map(|i| (i % 7) as f32 / 7.0).collect();
                let data = dev.upload_matrix(&data, 784).unwrap();
                for s in 0..4 {
                    grid.load_batch_device(&data, None, (s % 2) * 16, 16)
                        .unwrap();
                    grid.step().unwrap();
                }
                grid.eval_batch().unwrap();
                let l = grid.take_train_losses().unwrap();
                assert_eq!(l.len(), 2);
                assert!(l.iter().all(|d| d.len() == 4));
                assert!(
                    l.iter().flatten().flatten().all(|v| v.is_finite()),
                    "{what} {p}"
                );
                let e = grid.take_eval_losses().unwrap();
                assert!(
                    e.iter().flatten().all(|v| v.is_finite() && *v > 0.0),
                    "{what} {p}"
                );

                let nets = [NetSpec::critical_dropout(1.0, paper_seed(1, 1)).unwrap()];
                let mut lone = GpuGrid::new(
                    &dev,
                    GridConfig {
                        depth: 3,
                        ..base.clone()
                    },
                    &nets,
                )
                .unwrap();
                lone.load_batch_device(&data, None, 0, 16).unwrap();
                lone.step().unwrap();
                let first = lone.take_train_losses().unwrap();
                let (a, b) = (first[0][0], l[1][0][1]);
                if what == "emulator" {
                    assert_eq!(a, b, "{what} {p}");
                } else {
                    // cuBLAS may pick another kernel (another summation order) for another
                    // batch count; mixing up networks would change the loss by O(1).
                    let rel = f64::from((a - b).abs() / b.abs());
                    assert!(rel <= p.parity_tolerance(), "{what} {p}: {a} vs {b}");
                }
            }
        }
    }
}
