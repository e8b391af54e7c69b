//! `noisyprop train`: one noisy MLP trained on real data.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_experiments::training::Task;
use noisyprop_ops::train::{Train, TrainRequest};

use crate::args::{Format, Quiet, RecipeArgs, run_op};
use crate::output::{g, print_csv, print_record};
use crate::progress::Bar;

/// Train one noisy MLP on real data: per-epoch training loss (noise on) and
/// validation loss (noise off), as a table, JSON or CSV. Without --quick this
/// is the paper's recipe — width 1000, SGD lr 1e-3, batch 128, 200 epochs on
/// all images: about 9 minutes at the default depth 6 on 2 cores for the
/// embedded MNIST subset (2.7 s an epoch, measured); --quick (width 256, Adam,
/// 10 epochs, 4000 images) takes seconds
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub recipe: RecipeArgs,

    /// Hidden layers
    #[arg(long, short = 'L', default_value_t = TrainRequest::default().depth, value_name = "L")]
    pub depth: usize,

    /// Noise on every layer's input (repeatable)
    #[arg(
        long,
        short = 'n',
        default_values_t = TrainRequest::default().noise,
        value_name = "SPEC"
    )]
    pub noise: Vec<String>,

    /// Start from the quick preset (small width, Adam, few epochs) instead of
    /// the paper's recipe (200 epochs)
    #[arg(long)]
    pub quick: bool,

    #[command(flatten)]
    pub format: Format,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &TrainArgs, out: &mut impl Write) -> Result<()> {
    let request = TrainRequest {
        training: args.recipe.params(),
        depth: args.depth,
        noise: args.noise.clone(),
        quick: args.quick,
    };
    let result = run_op::<Train>(&request, &Bar::new(args.quiet.quiet))?;
    if args.format.csv {
        return print_csv(out, &result.epochs());
    }
    if args.format.json {
        return print_record(out, result);
    }
    let spec = &result.spec;
    let (n_train, n_val) = result.split();
    writeln!(
        out,
        "training {} on {} ({n_train} train / {n_val} validation images), depth {}, width {}, {}, noise {}",
        spec.task, spec.dataset, spec.depth, spec.width, spec.activation, spec.noise
    )?;
    if let Some(asked) = request.training.recipe.examples
        && asked > n_train + n_val
    {
        writeln!(
            out,
            "note: --examples {asked} is more than the {} images available; all are used",
            n_train + n_val
        )?;
    }
    if result.device != "cpu" {
        writeln!(out, "on {}", result.device)?;
    }
    let classification = spec.task == Task::Classification;
    writeln!(
        out,
        "σ_w² = {}, validation loss at initialisation {}, input-independent baseline {}",
        g(result.sigma_w2),
        g(result.val_loss_init),
        g(result.val_loss_baseline)
    )?;
    writeln!(
        out,
        "{:>5}  {:>12}  {:>12}{}",
        "epoch",
        "train loss",
        "val loss",
        if classification {
            "     val accuracy"
        } else {
            ""
        }
    )?;
    for e in &result.epochs() {
        let acc = e
            .val_accuracy
            .map(|a| format!("  {:>15}", g(a)))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>5}  {:>12}  {:>12}{acc}",
            e.epoch,
            loss(e.train_loss),
            loss(e.val_loss)
        )?;
    }
    if result.diverged {
        writeln!(
            out,
            "the loss became non-finite (diverged); training stopped: lower --lr"
        )?;
    }
    Ok(())
}

/// A loss for the table: "diverged" where it is not finite.
fn loss(x: f64) -> String {
    if x.is_finite() {
        g(x)
    } else {
        "diverged".into()
    }
}
