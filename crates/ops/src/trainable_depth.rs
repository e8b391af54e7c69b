//! `trainable-depth`: the Figure 6(b)/(c) grid — networks at critical
//! initialisation over dropout keep probability × depth, trained on real
//! data, each finished cell stored as one file named by a hash of its
//! parameters (a rerun skips finished cells), judged against k·ξ_c.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::grid::{RunOptions, Shard, report, run_grid, setup, write_report};
use noisyprop_experiments::record::TrainableDepthRecord;
use noisyprop_experiments::training::Preset;

use crate::recipe::{TrainingParams, parse, parse_opt};
use crate::{DEPTH_MULTIPLIER, Error, Observer, Operation};

/// What `trainable-depth` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainableDepthRequest {
    /// quick (4000 MNIST images, width 256, Adam, 10 epochs, 6 keeps × 6
    /// depths; about a minute on 2 cores), paper (the paper's recipe and
    /// grid; hours) or smoke (seconds; for tests of the machinery).
    pub preset: String,
    /// The data, changes to the recipe, the device.
    #[serde(flatten)]
    pub training: TrainingParams,
    /// Keep probabilities (duplicates dropped); empty for the preset's.
    pub keeps: Vec<f64>,
    /// Depths (duplicates dropped); empty for the preset's.
    pub depths: Vec<usize>,
    /// k of the prediction k·ξ_c.
    pub depth_multiplier: f64,
    /// Directory of the cell files and the report.
    pub store: PathBuf,
    /// Run only cells i, i+n, i+2n, … (`I/N`, e.g. one Slurm array task).
    pub shard: Option<String>,
    /// Compute cells whose stored files are corrupt again (replacing the
    /// files) instead of stopping with their names.
    pub recompute_corrupt: bool,
}

impl Default for TrainableDepthRequest {
    fn default() -> Self {
        TrainableDepthRequest {
            preset: Preset::Quick.to_string(),
            training: TrainingParams::default(),
            keeps: Vec::new(),
            depths: Vec::new(),
            depth_multiplier: DEPTH_MULTIPLIER,
            store: "trainable-depth".into(),
            shard: None,
            recompute_corrupt: false,
        }
    }
}

/// The `trainable-depth` command.
pub struct TrainableDepth;

impl TrainableDepthRequest {
    /// The grid's keeps and depths: the request's, or `preset`'s where it
    /// gives none.
    pub fn keeps_and_depths(&self, preset: Preset) -> (Vec<f64>, Vec<usize>) {
        fn or<T: Clone>(given: &[T], default: Vec<T>) -> Vec<T> {
            if given.is_empty() {
                default
            } else {
                given.to_vec()
            }
        }
        (
            or(&self.keeps, preset.keeps()),
            or(&self.depths, preset.depths()),
        )
    }
}

impl Operation for TrainableDepth {
    const NAME: &'static str = "trainable-depth";
    type Request = TrainableDepthRequest;
    type Record = TrainableDepthRecord;
    const LONG_RUNNING: bool = true;
    const ALIASES: &'static [(&'static str, &'static str)] =
        &[("keep", "keeps"), ("depth", "depths")];

    fn run(
        r: &TrainableDepthRequest,
        observer: &dyn Observer,
    ) -> Result<TrainableDepthRecord, Error> {
        let preset: Preset = parse("preset", &r.preset)?;
        let shard: Option<Shard> = parse_opt("shard", &r.shard)?;
        let device = r.training.device.device()?;
        let recipe = r.training.recipe.recipe(preset)?;
        let (keeps, depths) = r.keeps_and_depths(preset);
        let (grid, data) = setup(
            &recipe,
            &r.training.data.choice()?,
            &keeps,
            &depths,
            r.depth_multiplier,
            &r.store,
        )?;
        for cell in grid.cells()? {
            device.supports(&cell.spec)?;
        }
        let open = device.open()?;
        let options = RunOptions {
            shard,
            max_new_cells: None,
            recompute_corrupt: r.recompute_corrupt,
        };
        observer.start((grid.keeps().len() * grid.depths().len()) as u64, "cells");
        // Called with each new cell, and between epochs with none (to stop).
        let run = run_grid(&grid, &data, options, &open, &|cell| match cell {
            Some(_) => observer.tick(),
            None => !observer.stop_requested(),
        });
        observer.finish();
        let run = run?;
        let rep = report(&grid)?;
        let files = write_report(&grid, &rep)?;
        Ok(TrainableDepthRecord {
            activation: grid.base().activation.to_string(),
            init: grid.base().init.to_string(),
            depth_multiplier: grid.depth_multiplier(),
            store: grid.store().to_path_buf(),
            device: open.label(),
            run,
            report: rep,
            files,
        })
    }
}
