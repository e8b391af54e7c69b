//! Preprocessing of spec §4: flatten, scale by 1/255, shuffle once with a
//! seeded portable RNG, split into training and validation parts.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::{DataError, DatasetName, RawDataset};

/// Options of [`prepare_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrepareOptions {
    /// Seed of the `ChaCha8Rng` that drives the one-off shuffle.
    pub seed: u64,
    /// Fraction of the (capped) examples held out for validation, in `[0, 1)`.
    pub val_fraction: f64,
    /// Keep only the first `max_examples` examples after shuffling (quick
    /// runs); `None` keeps all.
    pub max_examples: Option<usize>,
}

impl Default for PrepareOptions {
    /// Seed 0, validation fraction 0.1 (the paper's 90 % / 10 % split), no cap.
    fn default() -> Self {
        PrepareOptions {
            seed: 0,
            val_fraction: DEFAULT_VAL_FRACTION,
            max_examples: None,
        }
    }
}

/// The paper's validation fraction: the last 10 % of the shuffled data.
pub const DEFAULT_VAL_FRACTION: f64 = 0.1;

/// A set of examples ready for a network: inputs in `[0, 1]` and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Examples {
    /// Number of examples.
    pub n: usize,
    /// Values per example (784 or 3072).
    pub dim: usize,
    /// `n × dim` inputs, row-major (one example per row), each pixel / 255.
    pub x: Vec<f32>,
    /// `n` labels in `0..=9` (unused by the paper's autoencoding task).
    pub labels: Vec<u8>,
}

impl Examples {
    /// The inputs of example `i`, or `None` when `i >= n`.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let start = i.checked_mul(self.dim)?;
        self.x.get(start..start.checked_add(self.dim)?)
    }
}

/// A prepared data set: training and validation parts of one shuffle.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Which data set.
    pub name: DatasetName,
    /// Where the raw data came from ([`RawDataset::source`]).
    pub source: String,
    /// The first `n − n_val` shuffled examples.
    pub train: Examples,
    /// The last `n_val = round(n · val_fraction)` shuffled examples.
    pub val: Examples,
}

/// [`prepare_with`] without a cap on the number of examples.
///
/// # Errors
/// As [`prepare_with`].
pub fn prepare(raw: &RawDataset, seed: u64, val_fraction: f64) -> Result<Prepared, DataError> {
    prepare_with(
        raw,
        &PrepareOptions {
            seed,
            val_fraction,
            max_examples: None,
        },
    )
}

/// The (training, validation) sizes of `m` examples split at
/// `val_fraction` ∈ [0, 1): `n_val = round(m · val_fraction)`, the rest
/// train.
pub fn split_sizes(m: usize, val_fraction: f64) -> (usize, usize) {
    // round() of a value in [0, m): the cast cannot overflow or go negative.
    let n_val = ((m as f64) * val_fraction).round() as usize;
    (m.saturating_sub(n_val), n_val)
}

/// Flattens, scales by 1/255, shuffles and splits a raw data set.
///
/// The example order is a Fisher–Yates shuffle ([`SliceRandom::shuffle`]) of
/// `0..n` driven by `ChaCha8Rng::seed_from_u64(seed)`, so it is identical on
/// every platform for a given seed and `n`. The shuffled examples are then
/// capped at `max_examples`; of the `m` that remain, the last
/// `n_val = round(m · val_fraction)` form the validation part and the rest the
/// training part (for MNIST's 60 000: 54 000 / 6 000; CIFAR-10's 50 000:
/// 45 000 / 5 000).
///
/// # Errors
/// [`DataError::InvalidValFraction`] unless `0 ≤ val_fraction < 1`;
/// [`DataError::InconsistentDataset`] when `raw`'s fields disagree;
/// [`DataError::EmptyTrainingSet`] when no training example would remain.
pub fn prepare_with(raw: &RawDataset, opts: &PrepareOptions) -> Result<Prepared, DataError> {
    let vf = opts.val_fraction;
    if !(0.0..1.0).contains(&vf) {
        return Err(DataError::InvalidValFraction { value: vf });
    }
    check_consistent(raw)?;

    let mut order: Vec<usize> = (0..raw.n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    order.shuffle(&mut rng);
    if let Some(cap) = opts.max_examples {
        order.truncate(cap);
    }

    let m = order.len();
    let (n_train, _) = split_sizes(m, vf);
    if n_train == 0 {
        return Err(DataError::EmptyTrainingSet {
            n: m,
            val_fraction: vf,
            n_train,
        });
    }
    let (train_idx, val_idx) = order.split_at(n_train);
    Ok(Prepared {
        name: raw.name,
        source: raw.source.clone(),
        train: gather(raw, train_idx),
        val: gather(raw, val_idx),
    })
}

fn check_consistent(raw: &RawDataset) -> Result<(), DataError> {
    let bad = |detail: String| {
        Err(DataError::InconsistentDataset {
            source_desc: raw.source.clone(),
            detail,
        })
    };
    if raw.dim == 0 {
        return bad("dim is 0".to_owned());
    }
    if raw.n.checked_mul(raw.dim) != Some(raw.pixels.len()) {
        return bad(format!(
            "{} pixel bytes for n = {} examples of dim = {}",
            raw.pixels.len(),
            raw.n,
            raw.dim
        ));
    }
    if raw.labels.len() != raw.n {
        return bad(format!("{} labels for n = {}", raw.labels.len(), raw.n));
    }
    Ok(())
}

fn gather(raw: &RawDataset, idx: &[usize]) -> Examples {
    let dim = raw.dim;
    let mut x = Vec::with_capacity(idx.len() * dim);
    let mut labels = Vec::with_capacity(idx.len());
    for &i in idx {
        if let Some(example) = raw.example(i) {
            x.extend(example.iter().map(|&b| f32::from(b) / 255.0));
        }
        if let Some(&label) = raw.labels.get(i) {
            labels.push(label);
        }
    }
    Examples {
        n: idx.len(),
        dim,
        x,
        labels,
    }
}
