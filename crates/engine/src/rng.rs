//! Deterministic randomness.
//!
//! * Noise uses a counter-based generator: the bits for element i of a stream
//!   are `mix64(key + (i+1)·γ)` (the SplitMix64 output function, γ the golden
//!   gamma), so any element can be drawn independently — by any thread, in any
//!   order, on the CPU or in a GPU kernel — and gives the same value.
//! * Weights use a sequential Xoshiro256++ stream per weight matrix (fast
//!   ziggurat normals from `rand_distr`), seeded from a [`Key`].
//!
//! Keys are derived from the run's seed and the ids of what they are for
//! (network, layer, step, …), never from thread identity.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
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

/// Two standard normals from 64 bits by Box–Muller (32-bit uniforms; the
/// first is shifted into (0, 1] so the log is finite). Exact in distribution
/// up to the 2⁻³² resolution; cheap and reproducible on any device.
#[inline]
pub fn box_muller(bits: u64) -> (f32, f32) {
    let u1 = ((bits >> 32) as f32 + 1.0) * (1.0 / 4_294_967_296.0);
    let u2 = (bits & 0xFFFF_FFFF) as f32 * (1.0 / 4_294_967_296.0);
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f32::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

/// Fills `buf` with N(0, std²) draws from the sequential stream of `key`
/// (for f32 buffers exactly [`fill_normal_f32`]).
pub fn fill_normal<T: Real>(buf: &mut [T], std: f64, key: Key) {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked above), so the slice has the same layout.
        let buf32 =
            unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<f32>(), buf.len()) };
        fill_normal_f32(buf32, std as f32, key);
        return;
    }
    let mut rng = key.sequential();
    for x in buf.iter_mut() {
        let z: f64 = StandardNormal.sample(&mut rng);
        *x = T::from_f64(std * z);
    }
}

/// Fills `buf` (f32) with N(0, std²) draws: the fast path for f32 weights.
pub fn fill_normal_f32(buf: &mut [f32], std: f32, key: Key) {
    let mut rng = key.sequential();
    for x in buf.iter_mut() {
        let z: f32 = StandardNormal.sample(&mut rng);
        *x = std * z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
