//! Losses on a batch of outputs (batch × n, row-major), with ∂loss/∂output.
//!
//! Loss values are accumulated in f64 in row order (deterministic); the
//! gradient is written in the network's type.
//!
//! * MSE: mean over batch × outputs of (output − target)², gradient
//!   2·(output − target)/(batch·n).
//! * Softmax cross-entropy: mean over the batch of −log softmax(output)\[label\]
//!   (each row's log-sum-exp in f64), gradient (softmax − onehot)/batch.

use crate::error::EngineError;
use crate::real::Real;

/// A loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Mean squared error against value targets.
    Mse,
    /// Softmax cross-entropy against class labels.
    SoftmaxCrossEntropy,
}

/// The targets of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a, T = f32> {
    /// One value per output (batch × n), for [`Loss::Mse`].
    Values(&'a [T]),
    /// One class per example (batch), for [`Loss::SoftmaxCrossEntropy`].
    Labels(&'a [u8]),
}

impl Loss {
    /// The loss's name.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::SoftmaxCrossEntropy => "softmax cross-entropy",
        }
    }

    /// The loss of `output` (batch × n) and, when `grad` is given (same
    /// length as `output`), ∂loss/∂output.
    ///
    /// # Errors
    /// [`EngineError::TargetKind`] when the targets do not suit the loss,
    /// [`EngineError::LengthMismatch`] for a target of the wrong length,
    /// [`EngineError::InvalidLabel`] for a label ≥ n.
    pub fn compute<T: Real>(
        &self,
        output: &[T],
        target: Target<'_, T>,
        batch: usize,
        grad: Option<&mut [T]>,
    ) -> Result<f64, EngineError> {
        match (self, target) {
            (Loss::Mse, Target::Values(t)) => {
                check_len("targets", t.len(), output.len())?;
                Ok(mse(output, t, grad))
            }
            (Loss::SoftmaxCrossEntropy, Target::Labels(labels)) => {
                check_len("labels", labels.len(), batch)?;
                let n = output.len().checked_div(batch).unwrap_or(0);
                softmax_cross_entropy(output, labels, n, grad)
            }
            (Loss::Mse, Target::Labels(_)) => Err(EngineError::TargetKind {
                loss: self.name(),
                needs: "values (batch × outputs)",
            }),
            (Loss::SoftmaxCrossEntropy, Target::Values(_)) => Err(EngineError::TargetKind {
                loss: self.name(),
                needs: "class labels (one u8 per example)",
            }),
        }
    }
}

fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), EngineError> {
    if len == expected {
        Ok(())
    } else {
        Err(EngineError::LengthMismatch {
            what,
            len,
            expected,
        })
    }
}

/// Mean over all elements of (output − target)²; `grad ← 2·(output −
/// target)/len`.
///
/// # Panics
/// When the lengths differ.
pub fn mse<T: Real>(output: &[T], target: &[T], grad: Option<&mut [T]>) -> f64 {
    assert_eq!(output.len(), target.len(), "output and target lengths");
    if output.is_empty() {
        return 0.0;
    }
    let inv = 1.0 / output.len() as f64;
    let sum: f64 = output
        .iter()
        .zip(target)
        .map(|(&o, &t)| (o.to_f64() - t.to_f64()).powi(2))
        .sum();
    if let Some(g) = grad {
        assert_eq!(g.len(), output.len(), "gradient length");
        let scale = T::from_f64(2.0 * inv);
        for ((g, &o), &t) in g.iter_mut().zip(output).zip(target) {
            *g = scale * (o - t);
        }
    }
    sum * inv
}

/// Mean over the batch of −log softmax(row)\[label\] for `output` (batch × n,
/// batch = labels.len()); `grad ← (softmax − onehot)/batch`.
///
/// # Errors
/// [`EngineError::InvalidLabel`] for a label ≥ n,
/// [`EngineError::LengthMismatch`] when `output` is not labels.len() × n.
pub fn softmax_cross_entropy<T: Real>(
    output: &[T],
    labels: &[u8],
    n: usize,
    mut grad: Option<&mut [T]>,
) -> Result<f64, EngineError> {
    let batch = labels.len();
    check_len("output", output.len(), batch * n)?;
    if let Some(g) = grad.as_deref() {
        check_len("gradient", g.len(), output.len())?;
    }
    for (index, &label) in labels.iter().enumerate() {
        if label as usize >= n {
            return Err(EngineError::InvalidLabel {
                label,
                index,
                classes: n,
            });
        }
    }
    if batch == 0 {
        return Ok(0.0);
    }
    let inv_b = 1.0 / batch as f64;
    let mut total = 0.0;
    for (r, (row, &label)) in output.chunks_exact(n).zip(labels).enumerate() {
        let max = row
            .iter()
            .map(|v| v.to_f64())
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = row.iter().map(|v| (v.to_f64() - max).exp()).sum();
        let lse = max + sum.ln();
        total += lse - row[label as usize].to_f64();
        if let Some(g) = grad.as_deref_mut() {
            for (j, (gv, &v)) in g[r * n..(r + 1) * n].iter_mut().zip(row).enumerate() {
                let p = (v.to_f64() - lse).exp();
                let y = if j == label as usize { 1.0 } else { 0.0 };
                *gv = T::from_f64((p - y) * inv_b);
            }
        }
    }
    Ok(total * inv_b)
}

/// Fraction of rows of `output` (labels.len() × n) whose largest entry (the
/// first one on ties) is at the label.
///
/// # Panics
/// When `output.len() != labels.len() · n`.
pub fn accuracy<T: Real>(output: &[T], labels: &[u8], n: usize) -> f64 {
    assert_eq!(output.len(), labels.len() * n, "output is not batch × n");
    if labels.is_empty() {
        return 0.0;
    }
    let hits = output
        .chunks_exact(n)
        .zip(labels)
        .filter(|(row, label)| argmax(row) == Some(**label as usize))
        .count();
    hits as f64 / labels.len() as f64
}

fn argmax<T: Real>(row: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (j, &v) in row.iter().enumerate() {
        match best {
            Some((_, b)) if v > b => best = Some((j, v)),
            None => best = Some((j, v)),
            Some(_) => {}
        }
    }
    best.map(|(j, _)| j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_value_and_gradient() {
        let o = [1.0f64, 2.0, 3.0, 4.0];
        let t = [0.0f64, 2.0, 5.0, 4.5];
        let mut g = [0.0; 4];
        let l = mse(&o, &t, Some(&mut g));
        assert!((l - (1.0 + 0.0 + 4.0 + 0.25) / 4.0).abs() < 1e-15);
        assert_eq!(g, [0.5, 0.0, -1.0, -0.25]);
    }

    #[test]
    fn cross_entropy_value_gradient_and_errors() {
        let o = [1.0f64, 2.0, 0.5, -1.0, 0.0, 3.0];
        let labels = [1u8, 2];
        let mut g = [0.0; 6];
        let l = softmax_cross_entropy(&o, &labels, 3, Some(&mut g)).unwrap();
        let row = |r: &[f64], y: usize| {
            let s: f64 = r.iter().map(|v| v.exp()).sum();
            s.ln() - r[y]
        };
        let want = (row(&o[..3], 1) + row(&o[3..], 2)) / 2.0;
        assert!((l - want).abs() < 1e-14);
        // Central differences.
        for i in 0..6 {
            let h = 1e-6;
            let (mut p, mut m) = (o, o);
            p[i] += h;
            m[i] -= h;
            let fd = (softmax_cross_entropy::<f64>(&p, &labels, 3, None).unwrap()
                - softmax_cross_entropy::<f64>(&m, &labels, 3, None).unwrap())
                / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-8, "{i}: {fd} vs {}", g[i]);
        }
        // Rows of the gradient sum to 0.
        assert!(g[..3].iter().sum::<f64>().abs() < 1e-15);
        // Huge logits stay finite.
        let big = [1000.0f32, -1000.0];
        assert!(
            softmax_cross_entropy(&big, &[0], 2, None)
                .unwrap()
                .is_finite()
        );
        assert_eq!(
            softmax_cross_entropy(&o, &[1, 3], 3, None),
            Err(EngineError::InvalidLabel {
                label: 3,
                index: 1,
                classes: 3
            })
        );
        assert!(matches!(
            Loss::Mse.compute(&o, Target::Labels(&labels), 2, None),
            Err(EngineError::TargetKind { .. })
        ));
        assert!(matches!(
            Loss::SoftmaxCrossEntropy.compute(&o, Target::Labels(&[1]), 2, None),
            Err(EngineError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn accuracy_counts_argmax_hits() {
        let o = [0.1f32, 0.9, 0.0, 0.5, 0.2, 0.3, 0.0, 0.0, 0.0];
        assert!((accuracy(&o, &[1, 0, 0], 3) - 1.0).abs() < 1e-12);
        assert!((accuracy(&o, &[1, 2, 1], 3) - 1.0 / 3.0).abs() < 1e-12);
    }
}
