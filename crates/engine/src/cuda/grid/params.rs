//! Network parameters on the host and their initialisation (the CPU engine's streams).

use super::NetSpec;
use crate::rng::{Key, fill_normal_f32, tags};

/// A network's parameters: `weights[l]` is W^{l+1} (row-major out × in), `biases[l]` is
/// b^{l+1}, for l = 0 ..= depth.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetParams {
    /// Weight matrices, input layer first.
    pub weights: Vec<Vec<f32>>,
    /// Bias vectors, input layer first.
    pub biases: Vec<Vec<f32>>,
}

/// Initialises a network of layer sizes `dims` (input, hidden…, output) as
/// docs/engine-semantics.md prescribes: W^l ~ N(0, σ_w²/fan_in) from the sequential stream
/// `Key::new(seed).child(WEIGHTS).child(l)` (row-major), biases zero or N(0, σ_b²) from
/// `child(BIASES).child(l)`.
pub fn init_params(dims: &[usize], spec: &NetSpec) -> NetParams {
    let root = Key::new(spec.seed);
    let layers = dims.len().saturating_sub(1);
    let mut p = NetParams::default();
    for l in 1..=layers {
        let (fan_in, out) = (dims[l - 1], dims[l]);
        let sigma_w2 = if l == layers {
            spec.output_sigma_w2()
        } else {
            spec.network.sigma_w2()
        };
        let mut w = vec![0f32; out * fan_in];
        let std = (sigma_w2 / fan_in as f64).sqrt() as f32;
        fill_normal_f32(&mut w, std, root.child(tags::WEIGHTS).child(l as u64));
        let mut b = vec![0f32; out];
        if spec.network.sigma_b2() > 0.0 {
            fill_normal_f32(
                &mut b,
                spec.network.sigma_b2().sqrt() as f32,
                root.child(tags::BIASES).child(l as u64),
            );
        }
        p.weights.push(w);
        p.biases.push(b);
    }
    p
}

/// [`init_params`] for each network, on up to one thread per network.
pub(crate) fn init_parallel(dims: &[usize], nets: &[NetSpec]) -> Vec<NetParams> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, nets.len().max(1));
    let per = nets.len().div_ceil(threads).max(1);
    let mut out = vec![NetParams::default(); nets.len()];
    std::thread::scope(|sc| {
        for (o, n) in out.chunks_mut(per).zip(nets.chunks(per)) {
            sc.spawn(move || {
                for (p, spec) in o.iter_mut().zip(n) {
                    *p = init_params(dims, spec);
                }
            });
        }
    });
    out
}
