//! [`GridSpec`]: a base training spec whose depth and dropout keep probability
//! vary, validated and normalised once; its [`Cell`]s.

use std::path::{Path, PathBuf};

use noisyprop_theory::{Noise, NoiseLaw, canonical};

use super::key::cell_key;
use crate::ExperimentError;
use crate::training::{MAX_DEPTH, TrainSpec};

/// A trainable-depth grid: every (keep, depth) of `keeps` × `depths`, each a
/// run of `base` at that depth with dropout of that keep probability (no
/// noise at keep 1), initialised as `base` says (critical by default).
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    base: TrainSpec,
    keeps: Vec<f64>,
    depths: Vec<usize>,
    depth_multiplier: f64,
    store: PathBuf,
}

/// One cell: its keep probability, depth, spec and key.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Keep probability.
    pub keep: f64,
    /// Depth (hidden layers).
    pub depth: usize,
    /// The full spec.
    pub spec: TrainSpec,
    /// Canonical key (the cell file's name).
    pub key: String,
}

impl GridSpec {
    /// A grid. Keeps are rounded to 12 significant digits (so `0.3` and numpy's
    /// `0.30000000000000004` are the same cell) and duplicates of keeps and
    /// depths are dropped, keeping the first; the order is kept.
    ///
    /// # Errors
    /// [`ExperimentError::InvalidParameter`]: no keeps or depths, a keep
    /// outside (0, 1], a depth outside [1, 10000], k not in (0, ∞), or an
    /// invalid base spec.
    pub fn new(
        base: TrainSpec,
        keeps: &[f64],
        depths: &[usize],
        depth_multiplier: f64,
        store: impl Into<PathBuf>,
    ) -> Result<Self, ExperimentError> {
        if let Some(&p) = keeps.iter().find(|&&p| !(p > 0.0 && p <= 1.0)) {
            return Err(ExperimentError::invalid("keep", p, "(0, 1]"));
        }
        if keeps.is_empty() {
            return Err(ExperimentError::invalid(
                "keeps",
                "none",
                "at least one keep probability in (0, 1]",
            ));
        }
        if let Some(&d) = depths.iter().find(|&&d| !(1..=MAX_DEPTH).contains(&d)) {
            return Err(ExperimentError::invalid("depth", d, "[1, 10000]"));
        }
        if depths.is_empty() {
            return Err(ExperimentError::invalid(
                "depths",
                "none",
                "at least one depth in [1, 10000]",
            ));
        }
        if !(depth_multiplier > 0.0 && depth_multiplier.is_finite()) {
            return Err(ExperimentError::invalid(
                "depth_multiplier",
                depth_multiplier,
                "(0, inf)",
            ));
        }
        let mut k: Vec<f64> = Vec::with_capacity(keeps.len());
        for &p in keeps {
            let p = canonical(p);
            if !k.contains(&p) {
                k.push(p);
            }
        }
        let mut d: Vec<usize> = Vec::with_capacity(depths.len());
        for &x in depths {
            if !d.contains(&x) {
                d.push(x);
            }
        }
        let spec = GridSpec {
            base,
            keeps: k,
            depths: d,
            depth_multiplier,
            store: store.into(),
        };
        spec.cells()?
            .first()
            .map(|c| c.spec.validate())
            .transpose()?;
        Ok(spec)
    }

    /// Everything but depth and noise.
    pub fn base(&self) -> &TrainSpec {
        &self.base
    }

    /// Keep probabilities, canonical and without duplicates.
    pub fn keeps(&self) -> &[f64] {
        &self.keeps
    }

    /// Depths without duplicates.
    pub fn depths(&self) -> &[usize] {
        &self.depths
    }

    /// k of the prediction k·ξ_c.
    pub fn depth_multiplier(&self) -> f64 {
        self.depth_multiplier
    }

    /// Directory of the cell files and the report.
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Where a cell's file is.
    pub fn cell_path(&self, key: &str) -> PathBuf {
        self.store.join("cells").join(format!("{key}.json"))
    }

    /// The noise of keep probability `keep`: dropout, or none at 1.
    pub fn noise(keep: f64) -> Noise {
        if keep >= 1.0 {
            Noise::none()
        } else {
            Noise::from_law(NoiseLaw::Dropout { keep })
        }
    }

    /// The cells, keep-major.
    ///
    /// # Errors
    /// A spec that cannot be keyed (see [`cell_key`]).
    pub fn cells(&self) -> Result<Vec<Cell>, ExperimentError> {
        let mut out = Vec::with_capacity(self.keeps.len() * self.depths.len());
        for &keep in &self.keeps {
            for &depth in &self.depths {
                let spec = TrainSpec {
                    depth,
                    noise: GridSpec::noise(keep),
                    ..self.base.clone()
                };
                let key = cell_key(&spec)?;
                out.push(Cell {
                    keep,
                    depth,
                    spec,
                    key,
                });
            }
        }
        Ok(out)
    }
}
