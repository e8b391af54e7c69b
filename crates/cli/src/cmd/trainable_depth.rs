//! `noisyprop trainable-depth`: the Figure 6(b)/(c) grid.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use noisyprop_ops::trainable_depth::{TrainableDepth, TrainableDepthRequest};

use crate::args::{DepthMultiplier, Json, Quiet, RecipeArgs, run_op};
use crate::output::{g, opt, print_record};
use crate::progress::Bar;

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
    #[arg(long, default_value_t = TrainableDepthRequest::default().preset, value_name = "NAME")]
    pub preset: String,

    #[command(flatten)]
    pub recipe: RecipeArgs,

    /// Keep probabilities, comma separated (duplicates are dropped)
    #[arg(long, value_delimiter = ',', value_name = "P")]
    pub keeps: Vec<f64>,

    /// Depths, comma separated (duplicates are dropped)
    #[arg(long, value_delimiter = ',', value_name = "L")]
    pub depths: Vec<usize>,

    #[command(flatten)]
    pub k: DepthMultiplier,

    /// Directory of the cell files and the report
    #[arg(long, default_value_os_t = TrainableDepthRequest::default().store, value_name = "DIR")]
    pub store: PathBuf,

    /// Run only cells i, i+n, i+2n, … (e.g. one Slurm array task)
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

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
    let request = TrainableDepthRequest {
        preset: args.preset.clone(),
        training: args.recipe.params(),
        keeps: args.keeps.clone(),
        depths: args.depths.clone(),
        depth_multiplier: args.k.depth_multiplier,
        store: args.store.clone(),
        shard: args.shard.clone(),
        recompute_corrupt: args.recompute_corrupt,
    };
    let rec = run_op::<TrainableDepth>(&request, &Bar::new(args.quiet.quiet))?;
    if args.json.json {
        return print_record(out, rec);
    }
    let (run, rep, files) = (&rec.run, &rec.report, &rec.files);
    writeln!(
        out,
        "trainable depth ({}, {}): {} cells ({} computed now, {} already done{}), store {}",
        rec.activation,
        rec.init,
        run.total,
        run.computed,
        run.skipped,
        if run.in_shard < run.total {
            format!(", shard of {}", run.in_shard)
        } else {
            String::new()
        },
        rec.store.display()
    )?;
    if rec.device != "cpu" {
        writeln!(out, "on {}", rec.device)?;
    }
    let k = g(rec.depth_multiplier);
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
    for f in files {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(())
}
