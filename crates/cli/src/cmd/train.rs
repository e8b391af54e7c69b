//! `noisyprop train`: one noisy MLP trained on real data.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_experiments::record::TrainingRecord;
use noisyprop_experiments::training::{EpochLog, Preset, Task, train};
use noisyprop_theory::Noise;

use crate::args::{Format, Quiet, RecipeArgs};
use crate::output::{g, print_csv, print_record};
use crate::progress::Progress;

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
    #[arg(long, short = 'L', default_value_t = 6, value_name = "L")]
    pub depth: usize,

    /// Noise on every layer's input (repeatable)
    #[arg(
        long,
        short = 'n',
        default_value = "dropout:keep=0.9",
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
    let device = args.recipe.device.device()?;
    let preset = if args.quick {
        Preset::Quick
    } else {
        Preset::Paper
    };
    let recipe = preset.recipe().with(&args.recipe.overrides()?)?;
    let noise = Noise::parse_all(&args.noise)?;
    // Check what can be checked before loading data or opening a device.
    let data_choice = args.recipe.data.choice()?;
    let data = data_choice.prepare(&recipe)?;
    let spec = recipe.spec(&data, args.depth, noise)?;
    device.supports(&spec)?;
    let open = device.open()?;
    let progress = Progress::new(spec.epochs as u64, "epochs", args.quiet.quiet);
    let human = !args.format.json && !args.format.csv;
    if human {
        writeln!(
            out,
            "training {} on {} ({} train / {} validation images), depth {}, width {}, {}, noise {}",
            spec.task,
            spec.dataset,
            data.train.n,
            data.val.n,
            spec.depth,
            spec.width,
            spec.activation,
            spec.noise
        )?;
        if let Some(asked) = recipe.examples
            && asked > data.train.n + data.val.n
        {
            writeln!(
                out,
                "note: --examples {asked} is more than the {} images available; all are used",
                data.train.n + data.val.n
            )?;
        }
        if !open.is_cpu() {
            writeln!(out, "on {}", open.label())?;
        }
    }
    let result = train(&open, &spec, &data, &mut |_: &EpochLog| progress.inc())?;
    progress.finish();
    if args.format.csv {
        return print_csv(out, &result.epochs);
    }
    if args.format.json {
        return print_record(out, TrainingRecord::new(&spec, open.label(), &result));
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
    for e in &result.epochs {
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
