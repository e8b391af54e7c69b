//! The fused element-wise passes of the forward pass (bias + φ + noise in one
//! sweep over each pre-activation buffer, writing the backward factor
//! φ′·ε) and the bias-gradient reduction, split by rows over threads.

use noisyprop_theory::Activation;
use rayon::prelude::*;

use crate::act;
use crate::matmul::Threads;
use crate::noise::{NoiseSampler, Stage};
use crate::real::Real;
use crate::rng::{Key, box_muller};

use super::COLSUM_BLOCK;

/// Longest noise stack drawn inside the fused pass.
const MAX_FUSED_STAGES: usize = 4;

/// Element-wise passes smaller than this run on the calling thread.
const PAR_MIN_ELEMS: usize = 16 * 1024;

/// How the forward pass samples the noise of one stack.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NoisePlan {
    /// No stage.
    Identity,
    /// Only dropout and Gaussian stages: drawn inside the fused pass.
    Fused(Vec<FusedStage>),
    /// Some stage only [`NoiseSampler::apply`] can draw: φ pass, then apply.
    Sampler,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum FusedStage {
    Dropout { threshold: u64, inv_keep: f64 },
    GaussMult(f32),
    GaussAdd(f32),
}

impl NoisePlan {
    pub(super) fn new(sampler: &NoiseSampler) -> Self {
        if sampler.is_identity() {
            return NoisePlan::Identity;
        }
        if sampler.stages().len() > MAX_FUSED_STAGES {
            return NoisePlan::Sampler;
        }
        let mut fused = Vec::new();
        for stage in sampler.stages() {
            fused.push(match *stage {
                Stage::Dropout { keep, threshold } => FusedStage::Dropout {
                    threshold,
                    inv_keep: 1.0 / keep,
                },
                Stage::GaussMult(std) => FusedStage::GaussMult(std as f32),
                Stage::GaussAdd(std) => FusedStage::GaussAdd(std as f32),
                Stage::LaplaceMult(_)
                | Stage::Poisson(_)
                | Stage::Gamma(_)
                | Stage::UniformMult(_)
                | Stage::LaplaceAdd(_) => return NoisePlan::Sampler,
            });
        }
        NoisePlan::Fused(fused)
    }
}

pub(super) static IDENTITY: NoisePlan = NoisePlan::Identity;

/// The noise of one layer input in one forward pass.
pub(super) struct NoiseArgs<'a> {
    pub(super) plan: &'a NoisePlan,
    pub(super) sampler: &'a NoiseSampler,
    pub(super) key: Key,
}

fn workers(threads: Threads) -> usize {
    match threads {
        Threads::One => 1,
        Threads::Many(n) => n.max(1),
    }
}

/// In place on `buf` (rows × n): `buf ← noise(φ(buf + bias))` and, when
/// given, `deriv ← φ′(buf + bias)·ε` (ε the multiplicative draws). `act`
/// `None` is the identity.
#[allow(clippy::too_many_arguments)]
pub(super) fn transform<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
    threads: Threads,
) {
    let rows = buf.len() / n;
    let nt = workers(threads).min(rows);
    let scratch = &mut scratch[..buf.len()];
    if nt <= 1 || buf.len() < PAR_MIN_ELEMS {
        transform_rows(buf, deriv, n, 0, bias, act, noise, scratch);
        return;
    }
    let chunk = rows.div_ceil(nt) * n;
    match deriv {
        Some(d) => buf
            .par_chunks_mut(chunk)
            .zip(d.par_chunks_mut(chunk))
            .zip(scratch.par_chunks_mut(chunk))
            .enumerate()
            .for_each(|(c, ((b, d), s))| {
                transform_rows(b, Some(d), n, c * (chunk / n), bias, act, noise, s);
            }),
        None => buf
            .par_chunks_mut(chunk)
            .zip(scratch.par_chunks_mut(chunk))
            .enumerate()
            .for_each(|(c, (b, s))| {
                transform_rows(b, None, n, c * (chunk / n), bias, act, noise, s);
            }),
    }
}

#[inline(always)]
fn relu<T: Real>(x: T) -> (T, T) {
    if x > T::ZERO {
        (x, T::ONE)
    } else {
        (T::ZERO, T::ZERO)
    }
}

#[inline(always)]
fn identity<T: Real>(x: T) -> (T, T) {
    (x, T::ONE)
}

/// Rows `row0 ..` of a layer input (the rows of `buf`). On x86-64 with
/// AVX-512 the same code is compiled for it (the 64-bit multiplies of the
/// counter hash vectorise); the results are bit-identical (the same IEEE
/// operations, no contraction into FMAs).
#[allow(clippy::too_many_arguments)]
fn transform_rows<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    if crate::real::has_avx512() {
        // SAFETY: the target features of `transform_rows_v4` were detected
        // on this CPU just above.
        unsafe { transform_rows_v4(buf, deriv, n, row0, bias, act, noise, scratch) };
        return;
    }
    transform_rows_any(buf, deriv, n, row0, bias, act, noise, scratch);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
#[allow(clippy::too_many_arguments)]
fn transform_rows_v4<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
) {
    transform_rows_any(buf, deriv, n, row0, bias, act, noise, scratch);
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn transform_rows_any<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
) {
    match act {
        None | Some(Activation::Linear) => {
            with_act(buf, deriv, n, row0, bias, noise, scratch, identity)
        }
        Some(Activation::Relu) => with_act(buf, deriv, n, row0, bias, noise, scratch, relu),
        Some(a) => with_act(buf, deriv, n, row0, bias, noise, scratch, move |x| {
            act::eval(a, x)
        }),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn with_act<T: Real, A: Fn(T) -> (T, T) + Copy>(
    buf: &mut [T],
    mut deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
    a: A,
) {
    let key = noise.key;
    match noise.plan {
        NoisePlan::Identity => rows(buf, deriv, n, row0, bias, a, |_, f| (f, T::ONE)),
        NoisePlan::Fused(stages) => match stages.as_slice() {
            [
                FusedStage::Dropout {
                    threshold,
                    inv_keep,
                },
            ] => {
                // The common case, exactly as NoiseSampler::apply draws it.
                let (k, threshold, scale) = (key.child(0), *threshold, T::from_f64(*inv_keep));
                rows(buf, deriv, n, row0, bias, a, move |c, f| {
                    let e = if k.bits(c) >> 32 < threshold {
                        scale
                    } else {
                        T::ZERO
                    };
                    (f * e, e)
                });
            }
            stages => {
                let mut draw = StackDraw::new(stages, key);
                rows(buf, deriv, n, row0, bias, a, |c, f| draw.apply(c, f));
            }
        },
        NoisePlan::Sampler => {
            rows(buf, deriv.as_deref_mut(), n, row0, bias, a, |_, f| {
                (f, T::ONE)
            });
            let offset = (row0 * n) as u64;
            match deriv {
                Some(d) => {
                    noise.sampler.apply(key, offset, buf, Some(&mut *scratch));
                    for (d, &e) in d.iter_mut().zip(scratch.iter()) {
                        *d *= e;
                    }
                }
                None => noise.sampler.apply(key, offset, buf, None),
            }
        }
    }
}

/// The fused draw of a stack of dropout / Gaussian stages, element by
/// element, exactly as [`NoiseSampler::apply`] draws them. Box–Muller pairs
/// are cached so each 64-bit draw is transformed once.
struct StackDraw<T> {
    len: usize,
    /// Per stage: key, stage, dropout scale.
    stages: [(Key, FusedStage, T); MAX_FUSED_STAGES],
    /// Per stage: the pair counter last transformed and its two normals.
    cache: [(u64, f32, f32); MAX_FUSED_STAGES],
}

impl<T: Real> StackDraw<T> {
    fn new(stages: &[FusedStage], key: Key) -> Self {
        let mut out = StackDraw {
            len: stages.len().min(MAX_FUSED_STAGES),
            stages: [(key, FusedStage::GaussAdd(0.0), T::ONE); MAX_FUSED_STAGES],
            cache: [(u64::MAX, 0.0, 0.0); MAX_FUSED_STAGES],
        };
        for (s, (slot, st)) in out.stages.iter_mut().zip(stages).enumerate() {
            let scale = match st {
                FusedStage::Dropout { inv_keep, .. } => T::from_f64(*inv_keep),
                _ => T::ONE,
            };
            *slot = (key.child(s as u64), *st, scale);
        }
        out
    }

    #[inline]
    fn apply(&mut self, c: u64, mut v: T) -> (T, T) {
        let mut factor = T::ONE;
        let n = self.len;
        for ((k, stage, scale), cache) in self.stages[..n].iter().zip(&mut self.cache[..n]) {
            match *stage {
                FusedStage::Dropout { threshold, .. } => {
                    let e = if k.bits(c) >> 32 < threshold {
                        *scale
                    } else {
                        T::ZERO
                    };
                    v *= e;
                    factor *= e;
                }
                FusedStage::GaussMult(std) | FusedStage::GaussAdd(std) => {
                    let pair = c >> 1;
                    if cache.0 != pair {
                        let (z0, z1) = box_muller(k.bits(pair));
                        *cache = (pair, z0, z1);
                    }
                    let z = if c & 1 == 0 { cache.1 } else { cache.2 };
                    let e = T::from_f64((std * z) as f64);
                    if matches!(stage, FusedStage::GaussMult(_)) {
                        let e = T::ONE + e;
                        v *= e;
                        factor *= e;
                    } else {
                        v += e;
                    }
                }
            }
        }
        (v, factor)
    }
}

/// The element loop: `h = buf + bias`, `(f, f′) = a(h)`, `(x̃, ε) =
/// noise(counter, f)`, `buf ← x̃`, `deriv ← f′·ε`.
#[inline(always)]
fn rows<T: Real, A: Fn(T) -> (T, T), N: FnMut(u64, T) -> (T, T)>(
    buf: &mut [T],
    mut deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    a: A,
    mut noise: N,
) {
    for (r, row) in buf.chunks_exact_mut(n).enumerate() {
        let c0 = ((row0 + r) * n) as u64;
        let counters = c0..c0 + n as u64;
        match (bias, deriv.as_deref_mut()) {
            (Some(b), Some(d)) => {
                let d = &mut d[r * n..(r + 1) * n];
                for (((v, dv), &bj), c) in row.iter_mut().zip(d).zip(b).zip(counters) {
                    let (f, df) = a(*v + bj);
                    let (x, e) = noise(c, f);
                    *v = x;
                    *dv = df * e;
                }
            }
            (None, Some(d)) => {
                let d = &mut d[r * n..(r + 1) * n];
                for ((v, dv), c) in row.iter_mut().zip(d).zip(counters) {
                    let (f, df) = a(*v);
                    let (x, e) = noise(c, f);
                    *v = x;
                    *dv = df * e;
                }
            }
            (Some(b), None) => {
                for ((v, &bj), c) in row.iter_mut().zip(b).zip(counters) {
                    *v = noise(c, a(*v + bj).0).0;
                }
            }
            (None, None) => {
                for (v, c) in row.iter_mut().zip(counters) {
                    *v = noise(c, a(*v).0).0;
                }
            }
        }
    }
}

/// Column sums of a batch of δ (rows × n) into `sums`, after multiplying δ
/// by `factor` in place when both are given (`delta`/`factor`), or of the
/// read-only `src` otherwise. The sum of column j is Σ over blocks of
/// [`COLSUM_BLOCK`] rows, in block order, of the block's sum in row order —
/// the same for any thread count.
pub(super) fn mul_colsum<T: Real>(
    delta: Option<&mut [T]>,
    factor: Option<&[T]>,
    src: &[T],
    n: usize,
    sums: &mut [T],
    partial: &mut [T],
    threads: Threads,
) {
    let len = delta.as_ref().map_or(src.len(), |d| d.len());
    let rows = len / n;
    let blocks = rows.div_ceil(COLSUM_BLOCK);
    let partial = &mut partial[..blocks * n];
    let block_len = COLSUM_BLOCK * n;
    let nt = workers(threads).min(blocks);
    let per_task = blocks.div_ceil(nt.max(1));
    match (delta, factor) {
        (Some(delta), Some(factor)) => {
            let job = |(d, (f, p)): (&mut [T], (&[T], &mut [T]))| {
                for ((d, f), p) in d
                    .chunks_mut(block_len)
                    .zip(f.chunks(block_len))
                    .zip(p.chunks_exact_mut(n))
                {
                    p.fill(T::ZERO);
                    for (drow, frow) in d.chunks_exact_mut(n).zip(f.chunks_exact(n)) {
                        for ((dv, &fv), pv) in drow.iter_mut().zip(frow).zip(p.iter_mut()) {
                            *dv *= fv;
                            *pv += *dv;
                        }
                    }
                }
            };
            if nt <= 1 || len < PAR_MIN_ELEMS {
                job((delta, (factor, partial)));
            } else {
                delta
                    .par_chunks_mut(per_task * block_len)
                    .zip(
                        factor
                            .par_chunks(per_task * block_len)
                            .zip(partial.par_chunks_mut(per_task * n)),
                    )
                    .for_each(job);
            }
        }
        _ => {
            // Read-only (the top layer's δ, small): one thread.
            for (s, p) in src.chunks(block_len).zip(partial.chunks_exact_mut(n)) {
                p.fill(T::ZERO);
                for row in s.chunks_exact(n) {
                    for (pv, &v) in p.iter_mut().zip(row) {
                        *pv += v;
                    }
                }
            }
        }
    }
    sums.fill(T::ZERO);
    for p in partial.chunks_exact(n) {
        for (s, &v) in sums.iter_mut().zip(p) {
            *s += v;
        }
    }
}
