//! Input vectors with exact variance and exact pairwise correlation (spec 3.3).
//!
//! A base vector is a standard Gaussian draw rescaled so that its mean
//! square is exactly q⁰. A partner of correlation c⁰ is
//! √(d q⁰)·(c⁰·x̂ + √(1 − c⁰²)·ê), with x̂ the base's direction and ê a Gaussian
//! draw orthogonalised against it (Gram–Schmidt): the uncentred correlation
//! x·y/(|x||y|) is c⁰ up to rounding and both mean squares are q⁰.

use noisyprop_engine::{Key, Real, rng};

use crate::config::InputClass;

/// Where each input sits in the batch.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// For each class, the range of its rows.
    pub classes: Vec<std::ops::Range<usize>>,
    /// For each class, its (base row, partner row) pairs.
    pub pairs: Vec<Vec<(usize, usize)>>,
}

/// The row layout of the batch (independent of the draws).
pub fn layout(classes: &[InputClass]) -> Layout {
    let mut out = Layout::default();
    let mut row = 0;
    for c in classes {
        let start = row;
        let mut pairs = Vec::with_capacity(c.pairs());
        for _ in 0..c.groups {
            let base = row;
            for p in 0..c.partners {
                pairs.push((base, base + 1 + p));
            }
            row += 1 + c.partners;
        }
        out.classes.push(start..row);
        out.pairs.push(pairs);
    }
    out
}

fn normalise(v: &mut [f64], norm: f64) {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x *= norm / n);
    }
}

/// Draws the batch (rows × `dim`, row-major) for one network from `key`.
pub fn draw<T: Real>(classes: &[InputClass], dim: usize, key: Key) -> Vec<T> {
    let rows: usize = classes.iter().map(InputClass::len).sum();
    let mut out = vec![T::ZERO; rows * dim];
    let mut row = 0usize;
    let mut base = vec![0.0f64; dim];
    let mut e = vec![0.0f64; dim];
    for (ci, class) in classes.iter().enumerate() {
        let norm = (dim as f64 * class.q0).sqrt();
        let ck = key.child(ci as u64);
        for g in 0..class.groups {
            let gk = ck.child(g as u64);
            rng::fill_normal(&mut base, 1.0, gk.child(0));
            normalise(&mut base, 1.0);
            let base_row = row;
            for (o, &x) in out[row * dim..(row + 1) * dim].iter_mut().zip(&base) {
                *o = T::from_f64(norm * x);
            }
            row += 1;
            let c0 = class.c0.unwrap_or(0.0);
            let s0 = ((1.0 - c0) * (1.0 + c0)).max(0.0).sqrt();
            for p in 0..class.partners {
                rng::fill_normal(&mut e, 1.0, gk.child(1 + p as u64));
                let proj: f64 = e.iter().zip(&base).map(|(a, b)| a * b).sum();
                e.iter_mut().zip(&base).for_each(|(a, b)| *a -= proj * b);
                normalise(&mut e, 1.0);
                for ((o, &x), &y) in out[row * dim..(row + 1) * dim]
                    .iter_mut()
                    .zip(&base)
                    .zip(&e)
                {
                    *o = T::from_f64(norm * (c0 * x + s0 * y));
                }
                row += 1;
            }
            debug_assert!(row > base_row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_variance_and_correlation() {
        let classes = [
            InputClass {
                q0: 4.0,
                c0: Some(0.5),
                groups: 3,
                partners: 2,
            },
            InputClass {
                q0: 0.3,
                c0: None,
                groups: 2,
                partners: 0,
            },
        ];
        let dim = 50;
        let x: Vec<f64> = draw(&classes, dim, Key::new(1));
        let lay = layout(&classes);
        assert_eq!(lay.classes, vec![0..9, 9..11]);
        let row = |i: usize| &x[i * dim..(i + 1) * dim];
        for (ci, r) in lay.classes.iter().enumerate() {
            for i in r.clone() {
                let q = row(i).iter().map(|v| v * v).sum::<f64>() / dim as f64;
                assert!((q - classes[ci].q0).abs() < 1e-12, "{q}");
            }
        }
        for &(a, b) in &lay.pairs[0] {
            let dot: f64 = row(a).iter().zip(row(b)).map(|(u, v)| u * v).sum();
            assert!((dot / (dim as f64 * 4.0) - 0.5).abs() < 1e-12);
        }
    }
}
