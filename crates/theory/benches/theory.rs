//! Benchmarks of the theory engine (issue 2 targets):
//! ReLU c*/χ_c/ξ_c well under 1 µs; tanh + dropout + bias fully analysed
//! under 1 ms; a 1000 × 1000 ReLU phase diagram under 1 s on 2 cores.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use noisyprop_theory::{
    Activation, AnalysisOptions, Integration, MeanField, Network, Noise, NoiseLaw, PhaseAxis,
    PhaseSpec, Sweep, VarianceRegime, analyze, phase_diagram,
};

fn relu_fixed_point(c: &mut Criterion) {
    let net = Network::new(
        Activation::Relu,
        Noise::from_law(NoiseLaw::Dropout { keep: 0.6 }),
        1.2,
        0.0,
    )
    .unwrap();
    let mf = MeanField::new(&net, Integration::default());
    c.bench_function("relu_dropout_c_star_chi_c_xi_c", |b| {
        b.iter(|| {
            let mf = black_box(mf);
            let fp = mf
                .limiting_correlation_map(&VarianceRegime::Marginal)
                .fixed_point();
            black_box((fp.c_star, fp.chi_c, fp.xi_c))
        })
    });
    c.bench_function("relu_dropout_full_analysis", |b| {
        b.iter(|| black_box(analyze(black_box(&net), &AnalysisOptions::default()).unwrap()))
    });
}

fn tanh_analysis(c: &mut Criterion) {
    let net = Network::new(
        Activation::Tanh,
        Noise::from_law(NoiseLaw::Dropout { keep: 0.9 }),
        1.9,
        0.05,
    )
    .unwrap();
    c.bench_function("tanh_dropout_bias_full_analysis", |b| {
        b.iter(|| black_box(analyze(black_box(&net), &AnalysisOptions::default()).unwrap()))
    });
}

fn relu_phase(c: &mut Criterion) {
    let net = Network::new(Activation::Relu, Noise::none(), 1.0, 0.0).unwrap();
    let spec = PhaseSpec {
        x: Sweep {
            min: 0.1,
            max: 4.0,
            n: 1000,
            log: false,
        },
        y: Sweep {
            min: 1.0,
            max: 3.0,
            n: 1000,
            log: false,
        },
        y_axis: PhaseAxis::Mu2,
        q0: 1.0,
        depth_multiplier: 6.0,
        nodes: 32,
    };
    let mut g = c.benchmark_group("phase");
    g.sample_size(10);
    g.bench_function("relu_phase_1000x1000_sigma_w2_mu2", |b| {
        b.iter(|| black_box(phase_diagram(&net.family(), &spec).unwrap()))
    });
    let spec_b = PhaseSpec {
        y: Sweep {
            min: 0.0,
            max: 1.0,
            n: 1000,
            log: false,
        },
        y_axis: PhaseAxis::SigmaB2,
        ..spec
    };
    let noisy = net
        .with_noise(Noise::from_law(NoiseLaw::Dropout { keep: 0.8 }))
        .unwrap();
    g.bench_function("relu_phase_1000x1000_sigma_w2_sigma_b2", |b| {
        b.iter(|| black_box(phase_diagram(&noisy.family(), &spec_b).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, relu_fixed_point, tanh_analysis, relu_phase);
criterion_main!(benches);
