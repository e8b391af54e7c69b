//! The paper-scale training step against raw SGEMM of the same `gemm` crate.
//!
//! Step: 784 → 20 × 1000 → 10, batch 128, ReLU, dropout keep 0.8 (also on the
//! input and before the output layer), critical init σ_w² = 1.6, softmax
//! cross-entropy, plain SGD (fused into the backward pass), 2 threads.
//! FLOPs per step are counted as 3 products per layer (forward, dX, dW):
//! 6·batch·weights = 15.22 GFLOP (the first layer's dX is not computed, so
//! the step really does 1.3 % less).
//!
//! `cargo bench -p noisyprop-engine --bench train` prints, after criterion's
//! own lines, a summary with steps/s, GFLOP/s and the ratio of the step's
//! FLOP rate to SGEMM on the step's shapes and on 1000³. The summary
//! interleaves all measurements round by round and takes the fastest round,
//! so that load from other processes does not favour one of them. SGEMM "on
//! the step's shapes" runs every product of a step in order, once with one
//! weight and activation buffer reused (cache-hot: the shapes' raw
//! throughput) and once with one per layer as the step has them (the weights,
//! 80 MB, then stream from memory as in the step).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noisyprop_engine::{
    Loss, Mlp, MlpConfig, Optimizer, Target, Threads, Trainer, TrainerGroup, gemm_nn, gemm_nt,
    gemm_tn,
};
use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

const BATCH: usize = 128;
const D_IN: usize = 784;
const WIDTH: usize = 1000;
const DEPTH: usize = 20;
const D_OUT: usize = 10;
const THREADS: Threads = Threads::Many(2);

fn config(seed: u64) -> MlpConfig {
    MlpConfig {
        network: Network::new(
            Activation::Relu,
            Noise::from_law(NoiseLaw::Dropout { keep: 0.8 }),
            1.6,
            0.0,
        )
        .unwrap(),
        seed,
        ..MlpConfig::new(D_IN, WIDTH, DEPTH, D_OUT)
    }
}

fn trainer(seed: u64, threads: Threads) -> Trainer {
    let mut t = Trainer::new(
        Mlp::new(config(seed)).unwrap(),
        Loss::SoftmaxCrossEntropy,
        Optimizer::sgd(1e-3, 0.0).unwrap(),
    );
    t.set_threads(threads);
    t
}

fn batch() -> (Vec<f32>, Vec<u8>) {
    let x = (0..BATCH * D_IN)
        .map(|i| ((i * 7919) % 256) as f32 / 255.0)
        .collect();
    let y = (0..BATCH).map(|i| (i % D_OUT) as u8).collect();
    (x, y)
}

/// (m, n, k) of each layer: in = n_in, out = n_out.
fn layer_shapes() -> Vec<(usize, usize)> {
    (0..=DEPTH)
        .map(|i| {
            let n_in = if i == 0 { D_IN } else { WIDTH };
            let n_out = if i == DEPTH { D_OUT } else { WIDTH };
            (n_in, n_out)
        })
        .collect()
}

/// FLOPs of a step, 3 products per layer.
fn step_flops() -> f64 {
    layer_shapes()
        .iter()
        .map(|&(i, o)| 6.0 * (BATCH * i * o) as f64)
        .sum()
}

/// Buffers for the products of a step, run as the step runs them: either
/// one weight matrix and one activation buffer reused by every layer (hot in
/// cache: the shapes' raw throughput), or one per layer as in the real step
/// (weights streamed from memory, dW accumulated onto W as the fused SGD
/// step does).
struct StepProducts {
    per_layer: bool,
    x: Vec<Vec<f32>>,
    w: Vec<Vec<f32>>,
    out: Vec<f32>,
    gw: Vec<f32>,
}

impl StepProducts {
    fn new(per_layer: bool) -> Self {
        let shapes = layer_shapes();
        let count = if per_layer { shapes.len() } else { 1 };
        let big = D_IN.max(WIDTH);
        StepProducts {
            per_layer,
            x: (0..count)
                .map(|_| (0..BATCH * big).map(|i| (i % 17) as f32 * 0.01).collect())
                .collect(),
            w: (0..count)
                .map(|_| {
                    (0..big * WIDTH)
                        .map(|i| (i % 13) as f32 * 0.01 - 0.06)
                        .collect()
                })
                .collect(),
            out: vec![0.0; BATCH * big],
            gw: vec![0.0; big * WIDTH],
        }
    }

    /// Every product of one step: forward (NT), dX (NN, not for the first
    /// layer), dW (TN). Returns the FLOPs done.
    fn run(&mut self) -> f64 {
        let mut flops = 0.0;
        let pick = |l: usize| if self.per_layer { l } else { 0 };
        let shapes = layer_shapes();
        for (l, &(n_in, n_out)) in shapes.iter().enumerate() {
            let (x, w) = (
                &self.x[pick(l)][..BATCH * n_in],
                &self.w[pick(l)][..n_in * n_out],
            );
            gemm_nt(BATCH, n_out, n_in, &mut self.out, x, w, 1.0, 0.0, THREADS);
            flops += 2.0 * (BATCH * n_in * n_out) as f64;
        }
        for (l, &(n_in, n_out)) in shapes.iter().enumerate().rev() {
            let d = &self.x[pick(l + 1).min(self.x.len() - 1)][..BATCH * n_out];
            if l > 0 {
                let w = &self.w[pick(l)][..n_in * n_out];
                gemm_nn(BATCH, n_in, n_out, &mut self.out, d, w, 1.0, 0.0, THREADS);
                flops += 2.0 * (BATCH * n_in * n_out) as f64;
            }
            let x = &self.x[pick(l)][..BATCH * n_in];
            if self.per_layer {
                let w = &mut self.w[l][..n_in * n_out];
                gemm_tn(n_out, n_in, BATCH, w, d, x, -1e-9, 1.0, THREADS);
            } else {
                gemm_tn(n_out, n_in, BATCH, &mut self.gw, d, x, 1.0, 0.0, THREADS);
            }
            flops += 2.0 * (BATCH * n_in * n_out) as f64;
        }
        flops
    }
}

fn square(n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let a = (0..n * n).map(|i| (i % 17) as f32 * 0.01).collect();
    let b = (0..n * n).map(|i| (i % 13) as f32 * 0.01).collect();
    (a, b, vec![0.0; n * n])
}

fn benches(c: &mut Criterion) {
    let (x, y) = batch();
    let flops = step_flops();

    let mut g = c.benchmark_group("paper_step");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(flops as u64));
    let mut t = trainer(1, THREADS);
    let mut step = 0u64;
    g.bench_function("train_step_2threads", |b| {
        b.iter(|| {
            step += 1;
            black_box(t.train_step(&x, Target::Labels(&y), BATCH, step).unwrap())
        })
    });
    let mut grid =
        TrainerGroup::single_threaded(vec![trainer(1, Threads::One), trainer(2, Threads::One)]);
    g.throughput(Throughput::Elements(2 * flops as u64));
    g.bench_function("grid_2nets_1thread_each", |b| {
        b.iter(|| {
            step += 1;
            black_box(grid.train_step(&x, Target::Labels(&y), BATCH, step))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sgemm_2threads");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    let mut p = StepProducts::new(false);
    let seq_flops = p.run();
    g.throughput(Throughput::Elements(seq_flops as u64));
    g.bench_function("products_of_a_step_cache_hot", |b| {
        b.iter(|| black_box(p.run()))
    });
    let mut p = StepProducts::new(true);
    g.bench_function("products_of_a_step_per_layer_buffers", |b| {
        b.iter(|| black_box(p.run()))
    });
    let (a, w, mut o) = square(WIDTH);
    let shape_flops = 2 * BATCH * WIDTH * WIDTH;
    g.throughput(Throughput::Elements(shape_flops as u64));
    g.bench_function("nt_128x1000x1000_forward", |b| {
        b.iter(|| gemm_nt(BATCH, WIDTH, WIDTH, &mut o, &a, &w, 1.0, 0.0, THREADS))
    });
    g.bench_function("nn_128x1000x1000_dx", |b| {
        b.iter(|| gemm_nn(BATCH, WIDTH, WIDTH, &mut o, &a, &w, 1.0, 0.0, THREADS))
    });
    g.bench_function("tn_1000x1000x128_dw", |b| {
        b.iter(|| gemm_tn(WIDTH, WIDTH, BATCH, &mut o, &a, &w, 1.0, 0.0, THREADS))
    });
    g.throughput(Throughput::Elements(2 * (WIDTH * WIDTH * WIDTH) as u64));
    g.bench_function("nn_1000x1000x1000", |b| {
        b.iter(|| gemm_nn(WIDTH, WIDTH, WIDTH, &mut o, &a, &w, 1.0, 0.0, THREADS))
    });
    g.finish();

    if std::env::args().any(|a| a == "--bench") {
        summary(&x, &y);
    }
}

/// Minimum and median of a list of seconds.
fn min_median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2])
}

/// Interleaved timing: each round runs one of everything, so that load from
/// other processes hits all alike; the minimum over rounds is the estimate
/// (the median is printed beside it).
fn summary(x: &[f32], y: &[u8]) {
    const ROUNDS: usize = 25;
    let flops = step_flops();
    let mut t = trainer(1, THREADS);
    let mut grid =
        TrainerGroup::single_threaded(vec![trainer(1, Threads::One), trainer(2, Threads::One)]);
    let mut hot = StepProducts::new(false);
    let mut layers = StepProducts::new(true);
    let seq_flops = hot.run();
    layers.run();
    let (a, w, mut o) = square(WIDTH);
    let mut times: [Vec<f64>; 6] = Default::default();
    for round in 0..=ROUNDS {
        let mut clock = |i: usize, f: &mut dyn FnMut()| {
            let start = Instant::now();
            f();
            if round > 0 {
                times[i].push(start.elapsed().as_secs_f64());
            }
        };
        let step = round as u64 + 1;
        clock(0, &mut || {
            black_box(t.train_step(x, Target::Labels(y), BATCH, step).unwrap());
        });
        clock(1, &mut || {
            black_box(grid.train_step(x, Target::Labels(y), BATCH, step));
        });
        clock(2, &mut || {
            black_box(hot.run());
        });
        clock(3, &mut || {
            black_box(layers.run());
        });
        clock(4, &mut || {
            gemm_nn(WIDTH, WIDTH, WIDTH, &mut o, &a, &w, 1.0, 0.0, THREADS)
        });
        clock(5, &mut || {
            gemm_tn(WIDTH, WIDTH, BATCH, &mut o, &a, &w, 1.0, 0.0, THREADS)
        });
    }
    let [t_step, t_grid, t_hot, t_layers, t_sq, t_tn] = times.map(min_median);
    let gf = |f: f64, t: f64| f / t / 1e9;
    let sq_flops = 2.0 * (WIDTH * WIDTH * WIDTH) as f64;
    let tn_flops = 2.0 * (BATCH * WIDTH * WIDTH) as f64;
    println!();
    println!(
        "== paper step: 784 → 20×1000 → 10, batch 128, ReLU + dropout 0.8, softmax CE, SGD, 2 threads =="
    );
    println!("{ROUNDS} interleaved rounds; rates from the fastest round (median in brackets)");
    println!(
        "FLOPs per step (3 products/layer): {:.2} GFLOP",
        flops / 1e9
    );
    println!(
        "train step: {:.2} steps/s ({:.2}), {:.1} ms/step, {:.1} GFLOP/s ({:.1})",
        1.0 / t_step.0,
        1.0 / t_step.1,
        t_step.0 * 1e3,
        gf(flops, t_step.0),
        gf(flops, t_step.1)
    );
    println!(
        "grid, 2 nets × 1 thread: {:.2} steps/s in total ({:.2}), {:.1} GFLOP/s ({:.1})",
        2.0 / t_grid.0,
        2.0 / t_grid.1,
        gf(2.0 * flops, t_grid.0),
        gf(2.0 * flops, t_grid.1)
    );
    println!(
        "SGEMM, the step's products (same shapes and order), cache-hot buffers: {:.1} GFLOP/s ({:.1}), {:.1} ms",
        gf(seq_flops, t_hot.0),
        gf(seq_flops, t_hot.1),
        t_hot.0 * 1e3
    );
    println!(
        "SGEMM, the step's products, one buffer per layer as in the step: {:.1} GFLOP/s ({:.1}), {:.1} ms",
        gf(seq_flops, t_layers.0),
        gf(seq_flops, t_layers.1),
        t_layers.0 * 1e3
    );
    println!(
        "SGEMM, 1000×1000×128 (dW shape): {:.1} GFLOP/s ({:.1})",
        gf(tn_flops, t_tn.0),
        gf(tn_flops, t_tn.1)
    );
    println!(
        "SGEMM, 1000³: {:.1} GFLOP/s ({:.1})",
        gf(sq_flops, t_sq.0),
        gf(sq_flops, t_sq.1)
    );
    let step_rate = gf(flops, t_step.0);
    println!(
        "step FLOP rate / SGEMM FLOP rate: {:.1} % of the step's shapes (cache-hot), {:.1} % (per-layer buffers), {:.1} % of 1000³",
        100.0 * step_rate / gf(seq_flops, t_hot.0),
        100.0 * step_rate / gf(seq_flops, t_layers.0),
        100.0 * step_rate / gf(sq_flops, t_sq.0)
    );
    println!(
        "time outside the products (element-wise, loss, bias update, waits): {:.1} ms of {:.1} ms",
        (t_step.0 - t_layers.0) * 1e3,
        t_step.0 * 1e3
    );
}

criterion_group!(train, benches);
criterion_main!(train);
