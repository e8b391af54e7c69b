//! `noisyprop trainable-depth`: the Figure 6(b)/(c) grid.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use noisyprop_experiments::grid::{GridSpec, RunOptions, Shard, report, run_grid, write_report};
use noisyprop_experiments::record::TrainableDepthRecord;
use noisyprop_experiments::training::Preset;

use crate::args::{DepthMultiplier, Json, Quiet, RecipeArgs};
use crate::output::{g, opt, print_record};
use crate::progress::Progress;

/// The Figure 6(b)/(c) grid: networks at critical initialisation over dropout
/// keep probability × depth; each finished cell is stored as one file named
/// by a hash of its parameters, and a rerun skips finished cells. Writes loss
/// heat maps with the 6ξ_c curve, CSV, and a boundary summary
#[derive(Debug, Args)]
pub struct TrainableDepthArgs {
    /// Preset recipe and grid: quick (4000 MNIST images, width 256, Adam, 10
    /// epochs, 6 keeps × 6 depths; about a minute on 2 cores) or paper (the
    /// paper's recipe, 10 keeps × 10 depths, 200 epochs; hours). Every flag
    /// below overrides it
    #[arg(long, default_value = "quick", value_name = "NAME")]
    pub preset: Preset,

    #[command(flatten)]
    pub recipe: RecipeArgs,

    /// Keep probabilities, comma separated (duplicates are dropped)
    #[arg(long, value_delimiter = ',', value_name = "P")]
    pub keeps: Option<Vec<f64>>,

    /// Depths, comma separated (duplicates are dropped)
    #[arg(long, value_delimiter = ',', value_name = "L")]
    pub depths: Option<Vec<usize>>,

    #[command(flatten)]
    pub k: DepthMultiplier,

    /// Directory of the cell files and the report
    #[arg(long, default_value = "trainable-depth", value_name = "DIR")]
    pub store: PathBuf,

    /// Run only cells i, i+n, i+2n, … (e.g. one Slurm array task)
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,

    /// Compute cells whose stored files are corrupt again (replacing the
    /// files) instead of stopping with their names
    #[arg(long = "recompute-corrupt")]
    pub recompute_corrupt: bool,

    #[command(flatten)]
    pub json: Json,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &TrainableDepthArgs, out: &mut impl Write) -> Result<()> {
    let device = args.recipe.device.device()?;
    let recipe = args.preset.recipe().with(&args.recipe.overrides()?)?;
    let data = args.recipe.data.choice()?.prepare(&recipe)?;
    let base = recipe.spec(&data, 1, GridSpec::noise(1.0))?;
    let grid = GridSpec::new(
        base,
        &args.keeps.clone().unwrap_or_else(|| args.preset.keeps()),
        &args.depths.clone().unwrap_or_else(|| args.preset.depths()),
        args.k.get()?,
        &args.store,
    )?;
    for cell in grid.cells()? {
        device.supports(&cell.spec)?;
    }
    let open = device.open()?;
    let opts = RunOptions {
        shard: args.shard,
        max_new_cells: None,
        recompute_corrupt: args.recompute_corrupt,
    };
    let total = grid.keeps().len() * grid.depths().len();
    let progress = Progress::new(total as u64, "cells", args.quiet.quiet);
    let run = run_grid(&grid, &data, opts, &open, &|_| progress.inc())?;
    progress.finish();
    let rep = report(&grid)?;
    let files = write_report(&grid, &rep)?;
    if args.json.json {
        return print_record(
            out,
            TrainableDepthRecord {
                run,
                report: rep,
                files,
            },
        );
    }
    writeln!(
        out,
        "trainable depth ({}, {}): {} cells ({} computed now, {} already done{}), store {}",
        grid.base().activation,
        grid.base().init,
        run.total,
        run.computed,
        run.skipped,
        if run.in_shard < run.total {
            format!(", shard of {}", run.in_shard)
        } else {
            String::new()
        },
        grid.store().display()
    )?;
    if !open.is_cpu() {
        writeln!(out, "on {}", open.label())?;
    }
    let k = g(grid.depth_multiplier());
    writeln!(
        out,
        "{:>6}  {:>6}  {:>10}  {:>10}  {:>10}  {:>8}  {:>10}",
        "keep",
        "depth",
        "train",
        "val",
        "baseline",
        "trained",
        format!("{k}ξ_c")
    )?;
    for c in &rep.cells {
        writeln!(
            out,
            "{:>6}  {:>6}  {:>10}  {:>10}  {:>10}  {:>8}  {:>10}",
            g(c.keep),
            c.depth,
            opt(c.train_loss, "-"),
            opt(c.val_loss, "-"),
            opt(c.val_loss_baseline, "-"),
            c.trained.map_or("-", |t| if t { "yes" } else { "no" }),
            match (c.predicted_depth, c.predicted_unbounded) {
                (Some(d), _) => g(d),
                (None, true) => "∞".into(),
                (None, false) => "none".into(),
            }
        )?;
    }
    for (keep, p) in &rep.predictions {
        if let Some(why) = &p.none_because {
            writeln!(out, "keep {}: no {k}ξ_c prediction: {why}", g(*keep))?;
        }
    }
    writeln!(
        out,
        "boundary: {} of {} finished cells {}agree with depth < {k}ξ_c ({} trained as predicted, {} untrainable as predicted, {} trained beyond, {} failed within)",
        rep.trained_and_predicted + rep.neither,
        rep.done - rep.unpredicted,
        if rep.unpredicted > 0 {
            "with a prediction "
        } else {
            ""
        },
        rep.trained_and_predicted,
        rep.neither,
        rep.trained_not_predicted,
        rep.predicted_not_trained
    )?;
    for f in &files {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(())
}
