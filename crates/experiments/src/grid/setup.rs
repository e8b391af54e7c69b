//! The trainable-depth study's setup, the one sequence of `trainable-depth`
//! and of `reproduce`'s Figure 6(b/c) part: the recipe's data, its base
//! spec, and the keep × depth grid over it.

use std::path::Path;

use noisyprop_data::Prepared;

use super::GridSpec;
use crate::ExperimentError;
use crate::output::ensure_dir;
use crate::training::{DataChoice, Recipe};

/// The grid of `recipe` over `keeps` × `depths` with the prediction
/// k·ξ_c (`depth_multiplier`), its cells stored under `store` (created),
/// and the data its cells train on.
///
/// # Errors
/// Data that cannot be loaded, an invalid recipe or grid, a store that
/// cannot be created.
pub fn setup(
    recipe: &Recipe,
    data: &DataChoice,
    keeps: &[f64],
    depths: &[usize],
    depth_multiplier: f64,
    store: &Path,
) -> Result<(GridSpec, Prepared), ExperimentError> {
    let data = data.prepare(recipe)?;
    let base = recipe.spec(&data, 1, GridSpec::noise(1.0))?;
    ensure_dir(store)?;
    let grid = GridSpec::new(base, keeps, depths, depth_multiplier, store)?;
    Ok((grid, data))
}
