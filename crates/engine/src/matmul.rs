//! Matrix products on the `gemm` crate, for row-major buffers.
//!
//! All matrices are row-major slices: an m×k matrix `a` has element (i, j) at
//! `a[i * k + j]`. Each product computes `out = beta·op(a)·op(b) + acc·out`
//! (`acc` = 0 overwrites `out`). The reduction over k is never split between
//! threads by `gemm`, so results are bit-identical for any thread count.

use gemm::Parallelism;

use crate::real::Real;

/// Threads for one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// The calling thread only.
    One,
    /// Up to n threads of the rayon pool.
    Many(usize),
}

impl Threads {
    fn parallelism(self) -> Parallelism {
        match self {
            Threads::One | Threads::Many(0 | 1) => Parallelism::None,
            Threads::Many(n) => Parallelism::Rayon(n),
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn raw<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    out: &mut [T],
    (out_rs, out_cs): (isize, isize),
    a: &[T],
    (a_rs, a_cs): (isize, isize),
    b: &[T],
    (b_rs, b_cs): (isize, isize),
    beta: T,
    acc: T,
    threads: Threads,
) {
    assert!(
        out.len() >= m * n,
        "out has {} elements, needs {}",
        out.len(),
        m * n
    );
    assert!(
        a.len() >= m * k,
        "a has {} elements, needs {}",
        a.len(),
        m * k
    );
    assert!(
        b.len() >= k * n,
        "b has {} elements, needs {}",
        b.len(),
        k * n
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the asserts above guarantee every index the strides reach is in
    // bounds (each operand is a dense row-major or transposed view of a slice
    // of at least rows×cols elements), and `out` does not alias `a` or `b`
    // (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            out_cs,
            out_rs,
            acc != T::ZERO,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            acc,
            beta,
            false,
            false,
            false,
            threads.parallelism(),
        );
    }
}

/// out (m×n) = beta·a (m×k)·bᵀ + acc·out, with b stored n×k (e.g. a batch of
/// inputs times the transpose of a weight matrix stored out×in).
#[allow(clippy::too_many_arguments)]
pub fn gemm_nt<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    out: &mut [T],
    a: &[T],
    b: &[T],
    beta: T,
    acc: T,
    threads: Threads,
) {
    let (mi, ni, ki) = (m as isize, n as isize, k as isize);
    let _ = mi;
    raw(
        m,
        n,
        k,
        out,
        (ni, 1),
        a,
        (ki, 1),
        b,
        (1, ki),
        beta,
        acc,
        threads,
    );
}

/// out (m×n) = beta·a (m×k)·b (k×n) + acc·out.
#[allow(clippy::too_many_arguments)]
pub fn gemm_nn<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    out: &mut [T],
    a: &[T],
    b: &[T],
    beta: T,
    acc: T,
    threads: Threads,
) {
    let (ni, ki) = (n as isize, k as isize);
    raw(
        m,
        n,
        k,
        out,
        (ni, 1),
        a,
        (ki, 1),
        b,
        (ni, 1),
        beta,
        acc,
        threads,
    );
}

/// out (m×n) = beta·aᵀ·b + acc·out, with a stored k×m and b stored k×n (the
/// weight gradient δᵀ·x of a batch).
#[allow(clippy::too_many_arguments)]
pub fn gemm_tn<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    out: &mut [T],
    a: &[T],
    b: &[T],
    beta: T,
    acc: T,
    threads: Threads,
) {
    let (mi, ni) = (m as isize, n as isize);
    raw(
        m,
        n,
        k,
        out,
        (ni, 1),
        a,
        (1, mi),
        b,
        (ni, 1),
        beta,
        acc,
        threads,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        m: usize,
        n: usize,
        k: usize,
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
    ) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|l| a(i, l) * b(l, j)).sum();
            }
        }
        out
    }

    #[test]
    fn products_match_naive_and_are_thread_count_independent() {
        let (m, n, k) = (37, 29, 53);
        let x: Vec<f64> = (0..m * k)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let w: Vec<f64> = (0..n * k)
            .map(|i| ((i * 104_729) % 89) as f64 / 44.0 - 1.0)
            .collect();
        // nt: x (m×k) · wᵀ where w is n×k.
        let want = naive(m, n, k, |i, l| x[i * k + l], |l, j| w[j * k + l]);
        let mut out = vec![0.0; m * n];
        gemm_nt(m, n, k, &mut out, &x, &w, 1.0, 0.0, Threads::One);
        for (a, b) in out.iter().zip(&want) {
            assert!((a - b).abs() < 1e-12);
        }
        // nn: x (m×k) · v (k×n).
        let v: Vec<f64> = (0..k * n).map(|i| (i % 13) as f64 - 6.0).collect();
        let want = naive(m, n, k, |i, l| x[i * k + l], |l, j| v[l * n + j]);
        gemm_nn(m, n, k, &mut out, &x, &v, 1.0, 0.0, Threads::One);
        for (a, b) in out.iter().zip(&want) {
            assert!((a - b).abs() < 1e-12);
        }
        // tn: uᵀ (m×k) · v (k×n) with u stored k×m; accumulate twice.
        let u: Vec<f64> = (0..k * m).map(|i| (i % 7) as f64 - 3.0).collect();
        let want = naive(m, n, k, |i, l| u[l * m + i], |l, j| v[l * n + j]);
        gemm_tn(m, n, k, &mut out, &u, &v, 1.0, 0.0, Threads::One);
        gemm_tn(m, n, k, &mut out, &u, &v, 1.0, 1.0, Threads::One);
        for (a, b) in out.iter().zip(&want) {
            assert!((a - 2.0 * b).abs() < 1e-12);
        }
        // Bit-identical with 2 threads (f32, a size that splits).
        let (m, n, k) = (300, 260, 700);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 31) % 97) as f32 / 97.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..n * k)
            .map(|i| ((i * 17) % 89) as f32 / 89.0 - 0.5)
            .collect();
        let (mut o1, mut o2) = (vec![0f32; m * n], vec![0f32; m * n]);
        gemm_nt(m, n, k, &mut o1, &a, &b, 1.0, 0.0, Threads::One);
        gemm_nt(m, n, k, &mut o2, &a, &b, 1.0, 0.0, Threads::Many(2));
        assert!(o1.iter().zip(&o2).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
