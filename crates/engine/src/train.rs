//! A network with its loss and optimiser: one call per training step or
//! evaluation batch.

use crate::error::EngineError;
use crate::loss::{Loss, Target, accuracy};
use crate::matmul::Threads;
use crate::mlp::Mlp;
use crate::optim::Optimizer;
use crate::real::Real;

/// The result of evaluating a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The loss.
    pub loss: f64,
    /// The accuracy, for label targets.
    pub accuracy: Option<f64>,
}

/// An [`Mlp`] with a [`Loss`] and an [`Optimizer`].
#[derive(Debug, Clone)]
pub struct Trainer<T: Real = f32> {
    mlp: Mlp<T>,
    loss: Loss,
    optimizer: Optimizer<T>,
    dloss: Vec<T>,
    fuse_sgd: bool,
}

impl<T: Real> Trainer<T> {
    /// A trainer. Plain SGD is fused into the backward pass
    /// ([`Mlp::backward_sgd`]) unless [`Trainer::set_fused_sgd`] turns it off.
    pub fn new(mlp: Mlp<T>, loss: Loss, optimizer: Optimizer<T>) -> Self {
        Trainer {
            mlp,
            loss,
            optimizer,
            dloss: Vec::new(),
            fuse_sgd: true,
        }
    }

    /// The network.
    pub fn mlp(&self) -> &Mlp<T> {
        &self.mlp
    }

    /// The network, mutable.
    pub fn mlp_mut(&mut self) -> &mut Mlp<T> {
        &mut self.mlp
    }

    /// The network, taken out.
    pub fn into_mlp(self) -> Mlp<T> {
        self.mlp
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &Optimizer<T> {
        &self.optimizer
    }

    /// The optimiser, mutable (e.g. to change the learning rate).
    pub fn optimizer_mut(&mut self) -> &mut Optimizer<T> {
        &mut self.optimizer
    }

    /// Whether plain SGD updates inside the backward pass (default true).
    /// Off, every step fills [`Mlp::grads`] and then updates.
    pub fn set_fused_sgd(&mut self, on: bool) {
        self.fuse_sgd = on;
    }

    /// Sets the network's threads.
    pub fn set_threads(&mut self, threads: Threads) {
        self.mlp.set_threads(threads);
    }

    fn check(&self, x: &[T], target: &Target<'_, T>, batch: usize) -> Result<(), EngineError> {
        let c = self.mlp.config();
        if batch == 0 {
            return Err(EngineError::InvalidSize {
                what: "batch",
                value: 0,
                valid: "1 ..",
            });
        }
        let (what, len, expected) = match target {
            Target::Values(t) => ("targets", t.len(), batch * c.d_out),
            Target::Labels(l) => ("labels", l.len(), batch),
        };
        for (what, len, expected) in [("inputs", x.len(), batch * c.d_in), (what, len, expected)] {
            if len != expected {
                return Err(EngineError::LengthMismatch {
                    what,
                    len,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// One optimisation step on a batch (`x`: batch × d_in) with the noise
    /// of step `step`: forward with noise, loss, backward, update. Returns
    /// the loss before the update (the paper's training loss).
    ///
    /// # Errors
    /// Mismatched lengths, a target kind that does not suit the loss, or a
    /// label out of range; nothing is updated then.
    pub fn train_step(
        &mut self,
        x: &[T],
        target: Target<'_, T>,
        batch: usize,
        step: u64,
    ) -> Result<f64, EngineError> {
        self.check(x, &target, batch)?;
        let n = batch * self.mlp.config().d_out;
        if self.dloss.len() < n {
            self.dloss.resize(n, T::ZERO);
        }
        let out = self.mlp.forward(x, batch, true, step);
        let dloss = &mut self.dloss[..n];
        let loss = self.loss.compute(out, target, batch, Some(&mut *dloss))?;
        if self.fuse_sgd && self.optimizer.is_plain_sgd() {
            let lr = T::from_f64(self.optimizer.lr());
            self.mlp.backward_sgd(dloss, lr);
        } else {
            self.mlp.backward(dloss);
            let threads = self.mlp.threads();
            let Trainer { mlp, optimizer, .. } = self;
            let (params, grads) = mlp.params_and_grads();
            optimizer.update(params, grads, threads)?;
        }
        Ok(loss)
    }

    /// The loss (and, for labels, the accuracy) of a batch without noise.
    ///
    /// # Errors
    /// As [`Trainer::train_step`].
    pub fn evaluate(
        &mut self,
        x: &[T],
        target: Target<'_, T>,
        batch: usize,
    ) -> Result<Evaluation, EngineError> {
        self.check(x, &target, batch)?;
        let d_out = self.mlp.config().d_out;
        let out = self.mlp.forward(x, batch, false, 0);
        let loss = self.loss.compute(out, target, batch, None)?;
        let accuracy = match target {
            Target::Labels(l) => Some(accuracy(out, l, d_out)),
            Target::Values(_) => None,
        };
        Ok(Evaluation { loss, accuracy })
    }
}
