//! Deterministic randomness.
//!
//! * Noise uses a counter-based generator: the bits for element i of a stream
//!   are `mix64(key + (i+1)·γ)` (the SplitMix64 output function, γ the golden
//!   gamma), so any element can be drawn independently — by any thread, in any
//!   order, on the CPU or in a GPU kernel — and gives the same value.
//! * Normals (weights, inputs, Gaussian noise) come from the same counters by
//!   Box–Muller with vectorisable polynomial ln and sin/cos ([`box_muller`],
//!   [`normals`]), in f32 (widened for f64 buffers, [`fill_normal`]).
//!
//! Keys are derived from the run's seed and the ids of what they are for
//! (network, layer, step, …), never from thread identity.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::real::Real;

/// The golden gamma of SplitMix64.
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function (a bijective 64-bit mixer).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random stream's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(pub u64);

impl Key {
    /// The root key of a seed.
    pub fn new(seed: u64) -> Self {
        Key(mix64(seed ^ 0x6E6F_6973_7970_726F)) // "noisypro"
    }

    /// An independent sub-stream for `id`.
    #[inline]
    pub fn child(self, id: u64) -> Self {
        Key(mix64(self.0 ^ mix64(id.wrapping_add(GOLDEN_GAMMA))))
    }

    /// 64 random bits for counter `i`.
    #[inline]
    pub fn bits(self, i: u64) -> u64 {
        mix64(
            self.0
                .wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)),
        )
    }

    /// Uniform in [0, 1) with 53 bits, for counter `i`.
    #[inline]
    pub fn uniform(self, i: u64) -> f64 {
        (self.bits(i) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A sequential generator seeded from this key.
    pub fn sequential(self) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(self.0)
    }
}

/// ln x for positive normal f32 x by exponent split and the atanh series
/// (|error| ≲ 2 ulp): x = m·2^e, m ∈ [√½, √2), ln m = 2·atanh((m − 1)/(m + 1)).
/// Plain arithmetic, so it vectorises and a CUDA kernel (compiled with
/// `--fmad=false`) computes the same bits.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let p = t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    let ef = e as f32;
    ef * 0.693_145_75 + (2.0 * (t + t * p) + ef * 1.428_606_8e-6)
}

/// (sin 2πu, cos 2πu) for u ∈ [0, 1] by quadrant reduction and Taylor
/// polynomials on [0, π/2) (|error| < 1e-7); vectorises like [`ln_f32`].
#[inline(always)]
pub fn sincos_turns(u: f32) -> (f32, f32) {
    let y = u * 4.0;
    let q = y as i32;
    let x = (y - q as f32) * std::f32::consts::FRAC_PI_2;
    let x2 = x * x;
    let s = x
        * (1.0
            + x2 * (-1.0 / 6.0
                + x2 * (1.0 / 120.0
                    + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362_880.0 + x2 * (-1.0 / 39_916_800.0))))));
    let c = 1.0
        + x2 * (-0.5
            + x2 * (1.0 / 24.0
                + x2 * (-1.0 / 720.0
                    + x2 * (1.0 / 40320.0
                        + x2 * (-1.0 / 3_628_800.0 + x2 * (1.0 / 479_001_600.0))))));
    // Quadrants 0..3: (s, c), (c, −s), (−s, −c), (−c, s), as selects so the
    // loop vectorises (×±1 and the swap are exact).
    let swap = q & 1 == 1;
    let sign_s = if q & 2 == 2 { -1.0 } else { 1.0 };
    let sign_c = if (q + 1) & 2 == 2 { -1.0 } else { 1.0 };
    let (a, b) = if swap { (c, s) } else { (s, c) };
    (sign_s * a, sign_c * b)
}

/// Two standard normals from 64 bits by Box–Muller on two 32-bit uniforms
/// (the first shifted into (0, 1] so the log is finite), with [`ln_f32`] and
/// [`sincos_turns`]: exact in distribution up to the 2⁻³² resolution and
/// ~1e-7 relative error of the functions; vectorisable and reproducible bit
/// for bit in the CUDA kernels.
#[inline(always)]
pub fn box_muller(bits: u64) -> (f32, f32) {
    // u32 → f32 conversions (the same values as from u64; they vectorise).
    let u1 = (((bits >> 32) as u32) as f32 + 1.0) * (1.0 / 4_294_967_296.0);
    let u2 = (bits as u32) as f32 * (1.0 / 4_294_967_296.0);
    let r = (-2.0 * ln_f32(u1)).sqrt();
    let (s, c) = sincos_turns(u2);
    (r * c, r * s)
}

/// Standard normals for counters `offset..offset + out.len()` of `key`:
/// counter c is the first (c even) or second (c odd) value of
/// `box_muller(key.bits(c >> 1))`. Vectorised with AVX-512 where available.
pub fn normals(key: Key, offset: u64, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::real::has_avx512() {
        // SAFETY: the target features of `normals_v4` were detected just above.
        unsafe { normals_v4(key, offset, out) };
        return;
    }
    normals_any(key, offset, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
fn normals_v4(key: Key, offset: u64, out: &mut [f32]) {
    normals_any(key, offset, out);
}

#[inline(always)]
fn normals_any(key: Key, offset: u64, out: &mut [f32]) {
    let (head, rest) = if offset & 1 == 1 && !out.is_empty() {
        out.split_at_mut(1)
    } else {
        out.split_at_mut(0)
    };
    if let Some(first) = head.first_mut() {
        *first = box_muller(key.bits(offset >> 1)).1;
    }
    let p0 = (offset + head.len() as u64) >> 1;
    let full = rest.len() / 2;
    let (body, tail) = rest.split_at_mut(2 * full);
    // Blocks of pairs: the transform into separate arrays (a plain loop the
    // compiler vectorises), then interleaved into the output.
    const BLOCK: usize = 256;
    let (mut z0, mut z1) = ([0f32; BLOCK], [0f32; BLOCK]);
    for (b, chunk) in body.chunks_mut(2 * BLOCK).enumerate() {
        let n = chunk.len() / 2;
        let base = p0 + (b * BLOCK) as u64;
        for j in 0..n {
            let (a, c) = box_muller(key.bits(base + j as u64));
            z0[j] = a;
            z1[j] = c;
        }
        for (j, pair) in chunk.chunks_exact_mut(2).enumerate() {
            pair[0] = z0[j];
            pair[1] = z1[j];
        }
    }
    if let Some(last) = tail.first_mut() {
        *last = box_muller(key.bits(p0 + full as u64)).0;
    }
}

/// Fills `buf` with N(0, std²) draws: element i is counter i of [`normals`]
/// for `key` (computed in f32, widened for f64 buffers), so f32 and f64
/// computations draw the same random numbers.
pub fn fill_normal<T: Real>(buf: &mut [T], std: f64, key: Key) {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked above), so the slice has the same layout.
        let buf32 =
            unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<f32>(), buf.len()) };
        fill_normal_f32(buf32, std as f32, key);
        return;
    }
    const BLOCK: usize = 4096;
    let mut z = [0f32; BLOCK];
    for (b, chunk) in buf.chunks_mut(BLOCK).enumerate() {
        let z = &mut z[..chunk.len()];
        normals(key, (b * BLOCK) as u64, z);
        chunk
            .iter_mut()
            .zip(z.iter())
            .for_each(|(x, &v)| *x = T::from_f64(std * v as f64));
    }
}

/// Fills `buf` (f32) with N(0, std²) draws: element i is counter i of
/// [`normals`] for `key` (the layout of every f32 weight matrix).
pub fn fill_normal_f32(buf: &mut [f32], std: f32, key: Key) {
    normals(key, 0, buf);
    buf.iter_mut().for_each(|x| *x *= std);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_functions_match_libm() {
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..200_000u32 {
            let u = (i as f32 + 0.5) / 200_000.0;
            let x = f32::from_bits(0x0080_0000 + i * 10_000);
            for v in [u, x] {
                let err =
                    (ln_f32(v) as f64 - (v as f64).ln()).abs() / (v as f64).ln().abs().max(1.0);
                worst.0 = worst.0.max(err);
            }
            let (s, c) = sincos_turns(u);
            let (ts, tc) = (std::f64::consts::TAU * u as f64).sin_cos();
            worst.1 = worst
                .1
                .max((s as f64 - ts).abs())
                .max((c as f64 - tc).abs());
        }
        assert!(worst.0 < 3e-7, "ln: {}", worst.0);
        assert!(worst.1 < 3e-7, "sincos: {}", worst.1);
        assert_eq!(sincos_turns(1.0), sincos_turns(0.0));
    }

    #[test]
    fn bulk_normals_match_the_pairwise_layout() {
        let k = Key::new(4);
        for offset in [0u64, 1, 6, 7] {
            let mut out = vec![0f32; 13];
            normals(k, offset, &mut out);
            for (i, &z) in out.iter().enumerate() {
                let c = offset + i as u64;
                let (z0, z1) = box_muller(k.bits(c >> 1));
                assert_eq!(z, if c & 1 == 0 { z0 } else { z1 }, "offset {offset} i {i}");
            }
        }
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let k = Key::new(7);
        assert_eq!(k.bits(3), Key::new(7).bits(3));
        assert_ne!(k.bits(3), k.bits(4));
        assert_ne!(k.child(1).bits(0), k.child(2).bits(0));
        // Uniform moments.
        let n = 200_000;
        let m: f64 = (0..n).map(|i| k.uniform(i)).sum::<f64>() / n as f64;
        assert!((m - 0.5).abs() < 0.005);
        // Box–Muller moments.
        let (mut s1, mut s2, mut s4) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..n {
            let (a, b) = box_muller(k.bits(i));
            for z in [a as f64, b as f64] {
                s1 += z;
                s2 += z * z;
                s4 += z.powi(4);
            }
        }
        let c = 2.0 * n as f64;
        assert!((s1 / c).abs() < 0.01);
        assert!((s2 / c - 1.0).abs() < 0.01);
        assert!((s4 / c - 3.0).abs() < 0.05);
        let mut w = vec![0f32; 100_000];
        fill_normal_f32(&mut w, 2.0, k);
        let var = w.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((var - 4.0).abs() < 0.1);
    }
}

/// Ids of the top-level sub-streams of a run's key (`Key::new(seed).child(tag)`),
/// see `docs/engine-semantics.md`.
pub mod tags {
    /// Weight matrices.
    pub const WEIGHTS: u64 = 1;
    /// Bias vectors.
    pub const BIASES: u64 = 2;
    /// Noise draws.
    pub const NOISE: u64 = 3;
    /// Data shuffling.
    pub const SHUFFLE: u64 = 4;
    /// Simulation inputs.
    pub const SIMULATION: u64 = 5;
}
