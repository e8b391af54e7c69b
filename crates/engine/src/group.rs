//! Training several networks at once on the same batches (the paper's
//! Figure 6 grid: networks that differ only in keep probability, init or
//! depth).
//!
//! One rayon task per network; give them single-threaded products
//! ([`TrainerGroup::single_threaded`]): on a machine with few cores this beats
//! multi-threaded products per network (`shared/spec/frameworks.md`: one
//! single-threaded worker per core). Each network's results are the same as
//! training it alone, with any threads.

use rayon::prelude::*;

use crate::error::EngineError;
use crate::loss::Target;
use crate::matmul::Threads;
use crate::real::Real;
use crate::train::{Evaluation, Trainer};

/// Networks trained side by side on the same batches.
#[derive(Debug, Clone)]
pub struct TrainerGroup<T: Real = f32> {
    trainers: Vec<Trainer<T>>,
}

impl<T: Real> TrainerGroup<T> {
    /// A group of trainers, each keeping its own threads.
    pub fn new(trainers: Vec<Trainer<T>>) -> Self {
        TrainerGroup { trainers }
    }

    /// A group whose networks use single-threaded products (the groups's
    /// parallelism is across networks).
    pub fn single_threaded(mut trainers: Vec<Trainer<T>>) -> Self {
        for t in &mut trainers {
            t.set_threads(Threads::One);
        }
        TrainerGroup { trainers }
    }

    /// Number of networks.
    pub fn len(&self) -> usize {
        self.trainers.len()
    }

    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.trainers.is_empty()
    }

    /// The trainers.
    pub fn trainers(&self) -> &[Trainer<T>] {
        &self.trainers
    }

    /// The trainers, mutable.
    pub fn trainers_mut(&mut self) -> &mut [Trainer<T>] {
        &mut self.trainers
    }

    /// The trainers, taken out.
    pub fn into_trainers(self) -> Vec<Trainer<T>> {
        self.trainers
    }

    /// Runs `f(index, trainer)` for every network, one rayon task each (on
    /// the calling thread for a single network), and returns the results in
    /// order.
    pub fn map<R: Send>(
        &mut self,
        f: impl Fn(usize, &mut Trainer<T>) -> R + Sync + Send,
    ) -> Vec<R> {
        if self.trainers.len() == 1 {
            return vec![f(0, &mut self.trainers[0])];
        }
        self.trainers
            .par_iter_mut()
            .enumerate()
            .map(|(i, t)| f(i, t))
            .collect()
    }

    /// [`Trainer::train_step`] on every network with the same batch and step.
    pub fn train_step(
        &mut self,
        x: &[T],
        target: Target<'_, T>,
        batch: usize,
        step: u64,
    ) -> Vec<Result<f64, EngineError>> {
        self.map(|_, t| t.train_step(x, target, batch, step))
    }

    /// [`Trainer::evaluate`] on every network with the same batch.
    pub fn evaluate(
        &mut self,
        x: &[T],
        target: Target<'_, T>,
        batch: usize,
    ) -> Vec<Result<Evaluation, EngineError>> {
        self.map(|_, t| t.evaluate(x, target, batch))
    }
}
