//! One random network: the forward pass (and optionally the backward pass)
//! of every input, with per-layer statistics.
//!
//! Layer l (0-based) maps the pre-activations h^l (B × n_l) to
//! h^{l+1} = noise(φ(h^l))·(W^{l+1})ᵀ + b^{l+1} (spec 1.1); at l = 0 the raw
//! input is used unless `input_activation` (spec 1.2). Weights are drawn
//! per layer from the network's key and never stored, so memory is a few
//! B × width buffers whatever the depth. The backward pass
//! δ^l = φ′(h^l) ⊙ ε^l ⊙ (δ^{l+1} W^{l+1}) (spec 2.11) reuses the same
//! weights and noise draws by regenerating them from the same keys, and
//! recomputes the forward pass from √L checkpoints when storing every h^l
//! would exceed the memory limit.

use noisyprop_engine::{Key, NoiseSampler, Real, Threads, act, gemm_nn, gemm_nt, rng};

use crate::config::SimConfig;
use crate::inputs::{self, Layout};

/// Extra tag for the top-layer gradient draws.
const TOP_GRADIENT: u64 = 6;

/// Per-class, per-layer measurements of one network (`[class][layer]`).
#[derive(Debug, Clone, Default)]
pub struct NetworkStats {
    /// Mean over the class's inputs of (1/n)Σᵢ (h_i^l)².
    pub q: Vec<Vec<f64>>,
    /// Mean over pairs of q_ab/√(q_aa q_bb) (uncentred; NaN without pairs).
    pub c: Vec<Vec<f64>>,
    /// Mean over pairs of the Pearson correlation across units.
    pub c_pearson: Vec<Vec<f64>>,
    /// Mean over inputs of (1/n)Σᵢ (δ_i^l)², divided by its top-layer value.
    pub grad_q: Vec<Vec<f64>>,
    /// Mean over pairs of the uncentred correlation of δ^l.
    pub grad_c: Vec<Vec<f64>>,
}

/// Per-class statistics of a B × n buffer at one layer: (q, c, c_pearson).
fn layer_stats<T: Real>(h: &[T], n: usize, layout: &Layout) -> Vec<(f64, f64, f64)> {
    let row = |i: usize| &h[i * n..(i + 1) * n];
    let sums = |i: usize| {
        let (mut s2, mut s1) = (0.0f64, 0.0f64);
        for &v in row(i) {
            let v = v.to_f64();
            s2 += v * v;
            s1 += v;
        }
        (s2, s1)
    };
    layout
        .classes
        .iter()
        .zip(&layout.pairs)
        .map(|(rows, pairs)| {
            let q = rows.clone().map(|i| sums(i).0).sum::<f64>() / (rows.len() * n) as f64;
            if pairs.is_empty() {
                return (q, f64::NAN, f64::NAN);
            }
            let nf = n as f64;
            // Pairs where a layer is all zero (every unit dead, as happens at
            // tiny widths) have no correlation: they are left out, and a
            // class where every pair is undefined gets NaN.
            let (mut c, mut cp) = (0.0, 0.0);
            let (mut kc, mut kp) = (0usize, 0usize);
            for &(a, b) in pairs {
                let (sa, ma) = sums(a);
                let (sb, mb) = sums(b);
                let dot: f64 = row(a)
                    .iter()
                    .zip(row(b))
                    .map(|(x, y)| x.to_f64() * y.to_f64())
                    .sum();
                let raw = dot / (sa * sb).sqrt();
                if raw.is_finite() {
                    c += raw;
                    kc += 1;
                }
                let centred =
                    (dot - ma * mb / nf) / ((sa - ma * ma / nf) * (sb - mb * mb / nf)).sqrt();
                if centred.is_finite() {
                    cp += centred;
                    kp += 1;
                }
            }
            let mean = |sum: f64, k: usize| if k > 0 { sum / k as f64 } else { f64::NAN };
            (q, mean(c, kc), mean(cp, kp))
        })
        .collect()
}

/// Buffers and keys of one network.
struct Net<'a> {
    cfg: &'a SimConfig,
    sampler: &'a NoiseSampler,
    key: Key,
    batch: usize,
    threads: Threads,
}

impl Net<'_> {
    fn fan_in(&self, l: usize) -> usize {
        if l == 0 {
            self.cfg.input_dim
        } else {
            self.cfg.width
        }
    }

    fn noisy(&self, l: usize) -> bool {
        l > 0 || self.cfg.input_activation
    }

    fn weights<T: Real>(&self, l: usize, w: &mut [T]) {
        let fan_in = self.fan_in(l);
        let std = (self.cfg.network.sigma_w2() / fan_in as f64).sqrt();
        rng::fill_normal(
            &mut w[..self.cfg.width * fan_in],
            std,
            self.key.child(rng::tags::WEIGHTS).child(l as u64 + 1),
        );
    }

    /// x̃ = noise(φ(h^l)) (or h^l itself at the raw input), with the
    /// multiplicative factor when asked.
    fn layer_input<T: Real>(&self, l: usize, h: &[T], xt: &mut [T], factor: Option<&mut [T]>) {
        let len = self.batch * self.fan_in(l);
        if self.noisy(l) {
            act::forward(self.cfg.network.activation(), &h[..len], &mut xt[..len]);
            let k = self.key.child(rng::tags::NOISE).child(l as u64);
            self.sampler
                .apply(k, 0, &mut xt[..len], factor.map(|f| &mut f[..len]));
        } else {
            xt[..len].copy_from_slice(&h[..len]);
            if let Some(f) = factor {
                f[..len].iter_mut().for_each(|v| *v = T::ONE);
            }
        }
    }

    /// h^{l+1} from h^l.
    fn forward<T: Real>(&self, l: usize, h: &[T], xt: &mut [T], w: &mut [T], out: &mut [T]) {
        let (b, n, k) = (self.batch, self.cfg.width, self.fan_in(l));
        self.layer_input(l, h, xt, None);
        self.weights(l, w);
        gemm_nt(
            b,
            n,
            k,
            &mut out[..b * n],
            &xt[..b * k],
            &w[..n * k],
            T::ONE,
            T::ZERO,
            self.threads,
        );
        if self.cfg.network.sigma_b2() > 0.0 {
            let mut bias = vec![T::ZERO; n];
            rng::fill_normal(
                &mut bias,
                self.cfg.network.sigma_b2().sqrt(),
                self.key.child(rng::tags::BIASES).child(l as u64 + 1),
            );
            for row in out[..b * n].chunks_exact_mut(n) {
                row.iter_mut().zip(&bias).for_each(|(o, &bi)| *o += bi);
            }
        }
    }

    /// δ^l from δ^{l+1} and h^l.
    #[allow(clippy::too_many_arguments)]
    fn backward<T: Real>(
        &self,
        l: usize,
        h: &[T],
        delta_up: &[T],
        w: &mut [T],
        scratch: &mut [T],
        factor: &mut [T],
        delta: &mut [T],
    ) {
        let (b, n, k) = (self.batch, self.cfg.width, self.fan_in(l));
        self.weights(l, w);
        gemm_nn(
            b,
            k,
            n,
            &mut delta[..b * k],
            &delta_up[..b * n],
            &w[..n * k],
            T::ONE,
            T::ZERO,
            self.threads,
        );
        if self.noisy(l) {
            self.layer_input(l, h, scratch, Some(factor));
            act::backward_in_place(
                self.cfg.network.activation(),
                &h[..b * k],
                &mut delta[..b * k],
            );
            delta[..b * k]
                .iter_mut()
                .zip(&factor[..b * k])
                .for_each(|(d, &f)| *d *= f);
        }
    }
}

/// Runs network `index` of the experiment.
pub fn run<T: Real>(
    cfg: &SimConfig,
    sampler: &NoiseSampler,
    index: usize,
    threads: Threads,
) -> NetworkStats {
    let key = Key::new(cfg.seed)
        .child(rng::tags::SIMULATION)
        .child(index as u64);
    let layout = inputs::layout(&cfg.inputs);
    let batch = cfg.batch();
    let net = Net {
        cfg,
        sampler,
        key,
        batch,
        threads,
    };
    let dim = cfg.input_dim.max(cfg.width);
    let size = batch * dim;
    let depth = cfg.depth;
    let classes = cfg.inputs.len();
    let mut stats = NetworkStats {
        q: vec![Vec::with_capacity(depth + 1); classes],
        c: vec![Vec::with_capacity(depth + 1); classes],
        c_pearson: vec![Vec::with_capacity(depth + 1); classes],
        ..Default::default()
    };
    let record = |stats: &mut NetworkStats, h: &[T], n: usize| {
        for (ci, (q, c, cp)) in layer_stats(h, n, &layout).into_iter().enumerate() {
            stats.q[ci].push(q);
            stats.c[ci].push(c);
            stats.c_pearson[ci].push(cp);
        }
    };

    // Checkpoint spacing for the backward pass.
    let layer_bytes = size * std::mem::size_of::<T>();
    let spacing = if !cfg.backward {
        usize::MAX
    } else if (depth + 1) * layer_bytes <= cfg.memory_limit {
        1
    } else {
        ((depth + 1) as f64).sqrt().ceil() as usize
    };

    let mut h: Vec<T> = inputs::draw(&cfg.inputs, cfg.input_dim, key.child(0));
    h.resize(size, T::ZERO);
    let mut next = vec![T::ZERO; size];
    let mut xt = vec![T::ZERO; size];
    let mut w = vec![T::ZERO; cfg.width * dim];
    let mut checkpoints: Vec<Option<Vec<T>>> = vec![None; if cfg.backward { depth + 1 } else { 0 }];
    record(&mut stats, &h, cfg.input_dim);
    for l in 0..depth {
        if cfg.backward
            && l % spacing == 0
            && let Some(slot) = checkpoints.get_mut(l)
        {
            *slot = Some(h.clone());
        }
        net.forward(l, &h, &mut xt, &mut w, &mut next);
        std::mem::swap(&mut h, &mut next);
        record(&mut stats, &h, cfg.width);
    }
    if !cfg.backward {
        return stats;
    }

    // Backward: δ^L is a standard Gaussian per group, shared by a base and
    // its partners (top gradient correlation 1), own draw for singles.
    let n = cfg.width;
    let mut delta = vec![T::ZERO; size];
    let mut delta_next = vec![T::ZERO; size];
    for (ci, class) in cfg.inputs.iter().enumerate() {
        let mut row = layout.classes[ci].start;
        for g in 0..class.groups {
            let mut v = vec![T::ZERO; n];
            rng::fill_normal(
                &mut v,
                1.0,
                key.child(TOP_GRADIENT).child(ci as u64).child(g as u64),
            );
            for _ in 0..=class.partners {
                delta[row * n..(row + 1) * n].copy_from_slice(&v);
                row += 1;
            }
        }
    }
    let mut grad = vec![vec![(f64::NAN, f64::NAN); depth + 1]; classes];
    let put = |grad: &mut Vec<Vec<(f64, f64)>>, l: usize, d: &[T], n: usize| {
        for (ci, (q, c, _)) in layer_stats(d, n, &layout).into_iter().enumerate() {
            grad[ci][l] = (q, c);
        }
    };
    put(&mut grad, depth, &delta, n);
    let mut scratch = vec![T::ZERO; size];
    let mut factor = vec![T::ZERO; size];
    // Segments [s, e) from the top down; h^s is a checkpoint.
    let mut seg_end = depth;
    let mut stored: Vec<Vec<T>> = Vec::new();
    while seg_end > 0 {
        let s = ((seg_end - 1) / spacing) * spacing;
        // Recompute h^s … h^{e−1}.
        stored.clear();
        let Some(Some(start)) = checkpoints.get_mut(s).map(Option::take) else {
            break;
        };
        stored.push(start);
        for l in s..seg_end - 1 {
            let mut out = vec![T::ZERO; size];
            if let Some(hl) = stored.last() {
                net.forward(l, hl, &mut xt, &mut w, &mut out);
            }
            stored.push(out);
        }
        for l in (s..seg_end).rev() {
            if let Some(hl) = stored.pop() {
                net.backward(
                    l,
                    &hl,
                    &delta,
                    &mut w,
                    &mut scratch,
                    &mut factor,
                    &mut delta_next,
                );
                std::mem::swap(&mut delta, &mut delta_next);
                put(&mut grad, l, &delta, net.fan_in(l));
            }
        }
        seg_end = s;
    }
    for class in &grad {
        let top = class[depth].0;
        stats.grad_q.push(class.iter().map(|g| g.0 / top).collect());
        stats.grad_c.push(class.iter().map(|g| g.1).collect());
    }
    stats
}
