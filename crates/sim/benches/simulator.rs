//! Simulator throughput against raw SGEMM of the same `gemm` crate, the
//! share of each kind of work, and peak memory of a deep streaming run
//! (issue 3's speed and memory targets). Prints a report; run with
//! `cargo bench -p noisyprop-sim --bench simulator`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use noisyprop_engine::{Key, NoiseSampler, Threads, act, gemm_nt, rng};
use noisyprop_sim::{InputClass, Precision, SimConfig, simulate};
use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn best_of<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// ReLU at σ_w² = 1.6 (critical for dropout keep 0.8), no bias.
fn config(batch_pairs: usize, depth: usize, networks: usize, noise: NoiseLaw) -> SimConfig {
    SimConfig {
        network: Network::new(Activation::Relu, Noise::from_law(noise), 1.6, 0.0)
            .expect("a valid network"),
        width: 1000,
        input_dim: 1000,
        depth,
        networks,
        inputs: vec![InputClass {
            q0: 1.0,
            c0: Some(0.5),
            groups: batch_pairs,
            partners: 1,
        }],
        input_activation: true,
        backward: false,
        precision: Precision::F32,
        seed: 1,
        memory_limit: 64 << 20,
    }
}

fn main() {
    let threads = rayon::current_num_threads();
    let n = 1000usize;
    println!("simulator benchmark, {threads} threads");

    // Streaming memory first, while the process is small: depth 1000, width 1000, 1000 inputs, one network.
    let before = peak_rss_mib();
    let cfg = config(500, 1000, 1, NoiseLaw::Dropout { keep: 0.8 });
    let t = Instant::now();
    simulate(&cfg, &|| true).unwrap();
    println!(
        "  depth 1000 × width 1000 × 1000 inputs: {:.1} s, peak RSS {:.0} MiB (before the run {:.0} MiB)",
        t.elapsed().as_secs_f64(),
        peak_rss_mib(),
        before
    );

    // SGEMM baseline: square 1000³ with all threads, and the simulator's
    // shape (batch × 1000 × 1000) single-threaded on every core at once.
    let a: Vec<f32> = (0..n * n).map(|i| (i % 97) as f32 / 97.0).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 89) as f32 / 89.0).collect();
    let mut c = vec![0f32; n * n];
    let t = best_of(5, || {
        gemm_nt(n, n, n, &mut c, &a, &b, 1.0, 0.0, Threads::Many(threads))
    });
    let square = 2.0 * (n * n * n) as f64 / t / 1e9;
    println!("  SGEMM 1000³, {threads} threads: {square:.1} GFLOP/s");

    for (pairs, label) in [
        (500usize, "1000 inputs"),
        (150, "300 inputs (Figure 4 size)"),
    ] {
        let batch = 2 * pairs;
        let x: Vec<f32> = (0..batch * n).map(|i| (i % 83) as f32 / 83.0).collect();
        let per_core = |_: usize| {
            let mut out = vec![0f32; batch * n];
            best_of(3, || {
                gemm_nt(batch, n, n, &mut out, &x, &a, 1.0, 0.0, Threads::One)
            })
        };
        let t_gemm = rayon::broadcast(|ctx| per_core(ctx.index()))
            .into_iter()
            .fold(0.0, f64::max);
        let flop_layer = 2.0 * (batch * n * n) as f64;
        let gemm_rate = threads as f64 * flop_layer / t_gemm / 1e9;
        // The pieces of one layer of one network, single-threaded.
        let mut w = vec![0f32; n * n];
        let t_w = best_of(3, || rng::fill_normal_f32(&mut w, 0.04, Key::new(3)));
        let mut xt = vec![0f32; batch * n];
        let sampler = NoiseSampler::new(&Noise::from_law(NoiseLaw::Dropout { keep: 0.8 })).unwrap();
        let t_noise = best_of(3, || sampler.apply(Key::new(5), 0, &mut xt, None));
        let gsampler =
            NoiseSampler::new(&Noise::from_law(NoiseLaw::GaussMult { std: 0.5 })).unwrap();
        let t_gnoise = best_of(3, || gsampler.apply(Key::new(5), 0, &mut xt, None));
        let t_act = best_of(3, || act::forward(Activation::Relu, &x, &mut xt));
        // The whole simulator: 2·threads networks of 20 layers.
        let depth = 20;
        let networks = 2 * threads;
        let cfg = config(pairs, depth, networks, NoiseLaw::Dropout { keep: 0.8 });
        let t_sim = best_of(2, || {
            simulate(&cfg, &|| true).unwrap();
        });
        let sim_rate = flop_layer * (depth * networks) as f64 / t_sim / 1e9;
        let per_layer = t_sim * threads as f64 / (depth * networks) as f64;
        println!(
            "\n  width 1000, {label}, dropout keep 0.8, {networks} networks × {depth} layers:"
        );
        println!(
            "    simulator            {sim_rate:7.1} GFLOP/s  ({:.1} ms per layer per network)",
            per_layer * 1e3
        );
        println!("    SGEMM, same shape    {gemm_rate:7.1} GFLOP/s  (one product per core)");
        println!(
            "    efficiency           {:7.1} % of SGEMM on the same shape, {:.1} % of square SGEMM",
            100.0 * sim_rate / gemm_rate,
            100.0 * sim_rate / square
        );
        println!(
            "    per-layer shares: GEMM {:.1} ms, weights {:.1} ms, dropout {:.2} ms (Gaussian {:.2} ms), φ {:.2} ms, rest {:.2} ms",
            t_gemm * 1e3,
            t_w * 1e3,
            t_noise * 1e3,
            t_gnoise * 1e3,
            t_act * 1e3,
            (per_layer - t_gemm - t_w - t_noise - t_act).max(0.0) * 1e3
        );
        println!(
            "    noise share of a layer: {:.1} % (dropout), {:.1} % (Gaussian)",
            100.0 * t_noise / per_layer,
            100.0 * t_gnoise / per_layer
        );
    }

    // Determinism: 1 vs all threads.
    let cfg = config(20, 6, 4, NoiseLaw::GaussMult { std: 0.5 });
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| simulate(&cfg, &|| true).unwrap());
    let all = simulate(&cfg, &|| true).unwrap();
    println!(
        "\n  1 thread vs {threads} threads bit-identical: {}",
        format!("{:?}", one.classes) == format!("{:?}", all.classes)
    );
}
